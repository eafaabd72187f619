#!/usr/bin/env bash
# TCP session benchmark (issue 6): resident memory per idle session, and throughput of one
# session, next to the kernel's own TCP over a veth pair in the same run.
#   sudo bench/sessions.sh [SESSIONS] [MEGABYTES]     (default 10000 sessions, 100 MB)
# Needs root, iproute2 and python3. Traffic stays inside the namespaces this script makes.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
mb=${2:-100}
source bench/lib.sh
bin=$(realpath "$bin")
ns=hsbs-$$
peer=hsbp-$$
work=$(mktemp -d)
cleanup() {
  for x in "$ns" "$peer"; do
    ip netns pids "$x" 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns del "$x" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" addr add 203.0.113.1/32 dev lo
cat > "$work/sensor.toml" <<TOML
prefixes = ["198.51.100.0/24"]
[templates.t]
personality = "linux-5"
tcp = "reset"
[templates.t.ports]
"tcp/7" = "echo"
"tcp/9" = "discard"
[limits]
sessions = $((n + 100))
TOML
chmod 755 "$work"
ip netns exec "$ns" "$bin" sense --tun hsb1 --route --tz UTC --keep-root --config "$work/sensor.toml" \
  --log-dir "$work/logs" 2>"$work/err" &
sensor=$!
for _ in $(seq 100); do ip -n "$ns" route show 198.51.100.0/24 | grep -q hsb1 && break; sleep 0.05; done
rss() { awk '/VmRSS/ {print $2}' "/proc/$sensor/status"; }
# The sensor process is `ip netns exec`'s child: find it.
sensor=$(pgrep -P "$sensor" -f "sense --tun hsb1" || echo "$sensor")
before=$(rss)

# Sessions that stay open and idle; the script reads the sensor's memory while they do.
ip netns exec "$ns" python3 - "$n" "$work/ready" <<'PY' &
import resource, socket, sys, time, pathlib
n = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_NOFILE, (n + 1000, n + 1000))
conns = []
for i in range(n):
    conns.append(socket.create_connection((f"198.51.100.{1 + i % 250}", 7), timeout=30))
pathlib.Path(sys.argv[2]).write_text("ready")
time.sleep(30)
PY
holder=$!
for _ in $(seq 600); do [ -e "$work/ready" ] && break; sleep 0.1; done
sleep 1
during=$(rss)
kill "$holder" 2>/dev/null || true

# Throughput: MEGABYTES to discard on a claimed address, and to a kernel listener over veth.
send='
import socket, sys, time
host, port, mb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
block = b"x" * 65536
s = socket.create_connection((host, port), timeout=60)
t = time.perf_counter()
for _ in range(mb * 16):
    s.sendall(block)
s.shutdown(socket.SHUT_WR)
s.recv(1)
print(f"{mb / (time.perf_counter() - t):.1f}")
'
ours=$(ip netns exec "$ns" python3 -c "$send" 198.51.100.200 9 "$mb")
ip netns add "$peer"
ip link add hsbv0 netns "$ns" type veth peer name hsbv1 netns "$peer"
ip -n "$ns" addr add 192.0.2.1/24 dev hsbv0
ip -n "$peer" addr add 192.0.2.2/24 dev hsbv1
ip -n "$ns" link set hsbv0 up
ip -n "$peer" link set hsbv1 up
ip -n "$peer" link set lo up
ip netns exec "$peer" python3 -c '
import socket
l = socket.create_server(("192.0.2.2", 9))
c, _ = l.accept()
while c.recv(1 << 20):
    pass
c.close()
' &
sleep 0.5
kernel=$(ip netns exec "$ns" python3 -c "$send" 192.0.2.2 9 "$mb")
kill -TERM "$sensor" 2>/dev/null || true
wait 2>/dev/null || true
python3 - "$n" "$before" "$during" "$ours" "$kernel" "$mb" <<'PY'
import sys
n, before, during, ours, kernel, mb = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
print(f"{n:,} idle sessions: resident memory {before:,} KB before, {during:,} KB with them open: {(during - before) / n:.2f} KB per session")
print(f"{mb} MB over one session to discard on a claimed address: {ours:.1f} MB/s")
print(f"{mb} MB over the kernel's TCP, veth pair:                 {kernel:.1f} MB/s")
print(f"ratio (ours / kernel): {ours / kernel:.2f}")
PY
