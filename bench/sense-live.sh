#!/usr/bin/env bash
# Sensor benchmark, live: SYNs flooded into the sensor's TUN device from a network namespace
# this script makes, for SECONDS (default 30). Prints datagrams/s read and answered, and
# accounts for every packet: what the kernel queued to the device (its TX counter) must equal
# what the sensor read, plus what the kernel dropped at the device (TX dropped).
#   sudo bench/sense-live.sh [SECONDS]
# Needs root, hping3 and iproute2. Traffic stays inside the namespace.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
source bench/lib.sh
bin=$(realpath "$bin")
ns=hsbench-$$
logs=$(mktemp -d)
cleanup() { ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true; ip netns del "$ns" 2>/dev/null || true; rm -rf "$logs"; }
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" addr add 203.0.113.1/32 dev lo
chmod 755 "$logs"
ip netns exec "$ns" "$bin" sense --tun hsb0 --route --tz UTC --log-dir "$logs" 2>"$logs.err" &
sensor=$!
for _ in $(seq 100); do ip -n "$ns" route show 198.51.100.0/24 | grep -q hsb0 && break; sleep 0.05; done
# SYNs to random claimed addresses on port 23, as fast as hping3 sends them.
ip netns exec "$ns" timeout "$secs" hping3 -I hsb0 --flood -S -p 23 --rand-dest 198.51.100.x -q >/dev/null 2>&1 || true
sleep 1
stats=$(ip -n "$ns" -s link show hsb0)
kill -TERM "$sensor"; wait "$sensor" || true
python3 - "$secs" "$logs.err" "$stats" <<'PY'
import re, sys
secs, err, stats = float(sys.argv[1]), open(sys.argv[2]).read(), sys.argv[3]
m = re.search(r"(\d+) packets \(", err)
read = int(m.group(1)) if m else 0
# The kernel's view of the device: TX is towards the sensor.
lines = stats.splitlines()
nums = [list(map(int, re.findall(r"\d+", l))) for l in lines]
tx_i = next(i for i, l in enumerate(lines) if l.strip().startswith("TX:"))
tx_packets, tx_dropped = nums[tx_i + 1][1], nums[tx_i + 1][3]
print(err.strip().splitlines()[-1])
print(f"over {secs:.0f} s: the kernel queued {tx_packets:,} datagrams to the device and dropped {tx_dropped:,} at it")
print(f"the sensor read {read:,} ({read/secs/1e3:.0f} k datagrams/s, each logged and answered)")
print(f"unaccounted: {tx_packets - read:,}")
PY
