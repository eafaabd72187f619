#!/usr/bin/env bash
# Fingerprint benchmark: honeyscope fingerprint vs p0f -r on the same capture of SYNs, same run.
#   bench/fingerprint.sh [SYNS]     (default 1,000,000)
# Both print their per-packet output (to /dev/null) with Debian's p0f.fp; best of 3 each;
# prints packets/s and the ratio, and honeyscope's rate with its built-in database too.
# Needs p0f (apt-get install p0f) and its /etc/p0f/p0f.fp.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
work=bench/work
mkdir -p "$work"
pcap="$work/syn-$n.pcap"
[ -s "$pcap" ] || python3 bench/gen-syn-pcap.py "$n" "$pcap"
command -v p0f >/dev/null || { echo "p0f is not installed (apt-get install p0f)"; exit 1; }
source bench/lib.sh
ours=$(time_of "$bin" fingerprint "$pcap" --p0f-db /etc/p0f/p0f.fp)
summary=$(time_of "$bin" fingerprint "$pcap" --p0f-db /etc/p0f/p0f.fp --summary)
builtin=$(time_of "$bin" fingerprint "$pcap")
theirs=$(time_of p0f -r "$pcap" -f /etc/p0f/p0f.fp)
python3 - "$n" "$ours" "$summary" "$builtin" "$theirs" <<'PY'
import sys
n, ours, summary, builtin, theirs = int(sys.argv[1]), *map(float, sys.argv[2:])
print(f"capture: {n:,} SYNs")
print(f"honeyscope fingerprint (a line per packet): {ours:.3f} s  {n/ours/1e3:8.0f} k packets/s")
print(f"honeyscope fingerprint --summary:           {summary:.3f} s  {n/summary/1e3:8.0f} k packets/s")
print(f"honeyscope fingerprint, built-in database:   {builtin:.3f} s  {n/builtin/1e3:8.0f} k packets/s")
print(f"p0f -r (its blocks per packet):              {theirs:.3f} s  {n/theirs/1e3:8.0f} k packets/s")
print(f"ratio (p0f time / honeyscope time), same database: {theirs/ours:.1f}x per-packet output, {theirs/summary:.1f}x summary")
print(f"ratio with honeyscope's built-in database: {theirs/builtin:.1f}x")
PY
