#!/usr/bin/env bash
# Sensor benchmark, offline: a capture of SYNs to the claimed prefix through the whole engine
# (fingerprint, responder, Honeyd log, JSON events, replies capture), against p0f -r on the
# same file in the same run (p0f only fingerprints; it is the named peer).
#   bench/sense.sh [SYNS]     (default 5,000,000)
# Best of 3 each; prints packets/s and the ratio. Needs p0f (apt-get install p0f).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-5000000}
work=bench/work
mkdir -p "$work"
pcap="$work/syn-$n.pcap"
[ -s "$pcap" ] || python3 bench/gen-syn-pcap.py "$n" "$pcap"
command -v p0f >/dev/null || { echo "p0f is not installed (apt-get install p0f)"; exit 1; }
source bench/lib.sh
out="$work/sense-out"
before_each() { rm -rf "$out"; }
# The sensor's own counts come from its last timed run.
ours=$(stderr_to="$out.stats" time_of "$bin" sense --pcap "$pcap" --log-dir "$out" \
  --replies "$out.replies.pcap" --tz UTC --cookie-key 000102030405060708090a0b0c0d0e0f)
before_each() { :; }
theirs=$(time_of p0f -r "$pcap" -f /etc/p0f/p0f.fp)
python3 - "$n" "$ours" "$theirs" "$out.stats" <<'PY'
import sys
n, ours, theirs, stats = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
print(f"capture: {n:,} SYNs (90 % IPv4 to the claimed /24, 10 % IPv6, counted and not answered yet)")
print(open(stats).read().strip())
print(f"honeyscope sense (log, JSON, replies): {ours:.3f} s  {n/ours/1e3:8.0f} k packets/s")
print(f"p0f -r (fingerprints only):             {theirs:.3f} s  {n/theirs/1e3:8.0f} k packets/s")
print(f"ratio (p0f time / honeyscope time): {theirs/ours:.1f}x")
PY
rm -rf "$out" "$out.replies.pcap" "$out.stats"
