#!/usr/bin/env bash
# Telnet session benchmark (issue 7): resident memory per logged-in idle Telnet session, and
# the command round trip with many sessions active, next to Cowrie measured in the same run.
#   sudo bench/telnet.sh [SESSIONS] [ACTIVE] [COMMANDS] [COWRIE_SESSIONS] [COWRIE_ACTIVE]
#   (defaults 10000, 1000, 20, 1000, 1000; TUN=0 skips the run on claimed addresses,
#   COWRIE=0 skips Cowrie; THINK_MS=100 makes each active session pause 100 ms between a
#   prompt and its next command instead of sending it at once; PIN=1 runs the server on
#   CPU 1 and the client on CPU 0 at a lower priority (CLIENT_THREADS=N sets its threads;
#   SLOW_MS=N lists the round trips over N ms by when they started): on loopback the
#   client's CPU also runs the kernel's receive path for the server's packets, and a busy
#   client starves it, which shows up as the server's tail)
#
# The client is crates/services/examples/telnet_load.rs: it logs SESSIONS sessions in
# (user root, password x, answering negotiation by refusing every option), holds them
# idle while this script reads the server's memory, then has ACTIVE of them run COMMANDS
# `echo hi` each, back-to-back and all at once, and reports the round trips (write of
# the line to the prompt coming back).
#
# Runs, each with its own fresh server:
#   1. honeyscope sense, listen-only: a [[listen]] telnet entry on 127.0.0.1 (profile dvr),
#      transcripts and event logs on, as deployed. The kernel's socket buffers are not in
#      the sensor's resident memory: the per-session figure is everything the sensor's
#      process holds for a session, not what the kernel holds for its socket.
#   2. honeyscope sense on a TUN device (TUN=1, the default), in a namespace this script
#      makes (as bench/sessions.sh): Telnet on port 23 of 50 claimed addresses, the client
#      in the namespace. Here the TCP layer is the sensor's own, so its buffers are in the
#      figure too.
#   3. Cowrie (pip package cowrie 3.1.4, in a venv of the system's Python under
#      /var/cache/honeyscope-bench, run as nobody since Cowrie refuses root, so neither the
#      venv nor its interpreter may be under /root): Telnet on
#      127.0.0.1, SSH off, its JSON log and TTY logs on, as deployed. Fewer sessions if
#      COWRIE_SESSIONS says so; the per-session figures are comparable, the round trips
#      only at the same ACTIVE count.
# Both servers' idle timeouts are raised to 600 s for the hold (honeyscope's
# session_idle_secs, Cowrie's idle_timeout/authentication_timeout).
# Needs root, iproute2, python3 (for the venv); traffic stays on loopback and in the
# namespace.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
m=${2:-1000}
k=${3:-20}
cn=${4:-1000}
cm=${5:-$m}
source bench/lib.sh
bin=$(realpath "$bin")
cargo build --release -q -p honeyscope-services --example telnet_load
load=$(dirname "$bin")/examples/telnet_load
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt $((n + 200)) ]; then
  echo "open files limited to $(ulimit -n): fewer than $n sessions need" >&2
  exit 1
fi
venv=${COWRIE_VENV:-/var/cache/honeyscope-bench/cowrie-venv}
work=$(mktemp -d)
chmod 755 "$work"
ns=hstl-$$
server=
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# PIN=1: the server on CPU 1, the client on CPU 0.
pin_server=()
pin_client=()
if [ "${PIN:-0}" = 1 ]; then
  pin_server=(taskset -c 1)
  pin_client=(taskset -c 0 nice -n 10)
fi

client_threads=()
[ -n "${CLIENT_THREADS:-}" ] && client_threads=(--threads "$CLIENT_THREADS")
# SLOW_MS=N: the client lists round trips over N ms, grouped by when they started.
[ -n "${SLOW_MS:-}" ] && client_threads+=(--slow "$SLOW_MS")

# Resident memory (VmRSS) and proportional set size (Pss), in KB.
mem() { echo "$(awk '/^VmRSS/ {print $2}' "/proc/$1/status") $(awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup")"; }

# measure LABEL PID ADDRS SESSIONS ACTIVE [ns]: runs the client against the server PID;
# appends "LABEL sessions failed rss_before pss_before rss_during pss_during rtt..." to
# $work/results.
measure() {
  local label=$1 pid=$2 addrs=$3 sessions=$4 active=$5 netns=${6:-}
  local ctl=$work/ctl-$label out=$work/out-$label
  local run=()
  [ -n "$netns" ] && run=(ip netns exec "$netns")
  sleep 1
  local before
  before=$(mem "$pid")
  mkfifo "$ctl"
  "${pin_client[@]}" "${run[@]}" "$load" "$addrs" --sessions "$sessions" --active "$active" --commands "$k" \
    --concurrency 100 --think "${THINK_MS:-0}" "${client_threads[@]}" <"$ctl" >"$out" 2> >(sed "s/^/  [$label] /" >&2) &
  local client=$!
  exec 3>"$ctl"
  for _ in $(seq 9000); do
    grep -q '^ready' "$out" && break
    kill -0 "$client" 2>/dev/null || break
    sleep 0.1
  done
  if ! grep -q '^ready' "$out"; then
    echo "$label: the client did not get its sessions logged in" >&2
    exec 3>&-
    return 1
  fi
  sleep 2
  local during
  during=$(mem "$pid")
  echo go >&3
  exec 3>&-
  wait "$client" || true
  local ready rtt
  ready=$(awk '/^ready/ {print $2, $3}' "$out")
  rtt=$(awk '/^rtt/ {print $2, $3, $4, $5, $6, $7}' "$out")
  echo "$label $ready $before $during ${rtt:-0 0 nan nan nan nan}" >>"$work/results"
}

# 1. honeyscope sense on a kernel listener.
port=23230
cat >"$work/listen.toml" <<TOML
[[listen]]
address = "127.0.0.1:$port"
service = "telnet"
profile = "dvr"
[limits]
sessions = $((n + 100))
session_idle_secs = 600
TOML
"${pin_server[@]}" "$bin" sense --config "$work/listen.toml" --tz UTC --keep-root --log-dir "$work/logs-listen" \
  2>"$work/err-listen" &
server=$!
for _ in $(seq 100); do grep -q "listening on" "$work/err-listen" && break; sleep 0.1; done
measure honeyscope-listener "$server" "127.0.0.1:$port" "$n" "$m"
kill -TERM "$server"
wait "$server" 2>/dev/null || true
server=

# 2. honeyscope sense on claimed addresses through a TUN device.
if [ "${TUN:-1}" = 1 ]; then
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add 203.0.113.1/32 dev lo
  cat >"$work/tun.toml" <<TOML
prefixes = ["198.51.100.0/24"]
[templates.t]
personality = "linux-2.6"
tcp = "reset"
profile = "dvr"
[templates.t.ports]
"tcp/23" = "telnet"
[limits]
sessions = $((n + 100))
session_idle_secs = 600
TOML
  "${pin_server[@]}" ip netns exec "$ns" "$bin" sense --tun hstl1 --route --tz UTC --keep-root \
    --config "$work/tun.toml" --log-dir "$work/logs-tun" 2>"$work/err-tun" &
  server=$!
  for _ in $(seq 100); do ip -n "$ns" route show 198.51.100.0/24 | grep -q hstl1 && break; sleep 0.05; done
  # The sensor is `ip netns exec`'s child, or `ip` itself after its exec.
  server=$(pgrep -P "$server" -f "sense --tun hstl1" || echo "$server")
  measure honeyscope-tun "$server" "198.51.100.1-50:23" "$n" "$m" "$ns"
  kill -TERM "$server"
  wait 2>/dev/null || true
  server=
fi

# 3. Cowrie.
cowrie_status="not run (COWRIE=0)"
if [ "${COWRIE:-1}" = 1 ]; then
  if [ ! -x "$venv/bin/cowrie" ]; then
    mkdir -p "$(dirname "$venv")"
    # The system's Python: nobody must be able to run the venv's interpreter (a Python
    # under /root, such as pyenv's, would not do).
    /usr/bin/python3 -m venv "$venv" && "$venv/bin/pip" install -q cowrie==3.1.4 ||
      echo "Cowrie could not be installed into $venv" >&2
  fi
  if [ -x "$venv/bin/cowrie" ]; then
    cport=23231
    c=$work/cowrie
    mkdir -p "$c/etc" "$c/var/log/cowrie" "$c/var/lib/cowrie/downloads" "$c/var/lib/cowrie/tty" "$c/var/run"
    cat >"$c/etc/cowrie.cfg" <<CFG
[honeypot]
idle_timeout = 600
authentication_timeout = 600
[ssh]
enabled = false
[telnet]
enabled = true
listen_endpoints = tcp:$cport:interface=127.0.0.1
CFG
    chown -R nobody "$c"
    (cd "$c" && PATH=$venv/bin:/usr/bin:/bin COWRIE_STDOUT=yes exec setpriv --reuid=nobody --regid=nogroup --clear-groups \
      "$venv/bin/cowrie" start >"$work/err-cowrie" 2>&1) &
    server=$!
    for _ in $(seq 300); do
      python3 -c "import socket; socket.create_connection(('127.0.0.1', $cport), 1).close()" \
        2>/dev/null && break
      sleep 0.1
    done
    cversion=$("$venv/bin/python" -c "import cowrie._version as v; print(v.__version__)" 2>/dev/null || echo "?")
    if measure cowrie "$server" "127.0.0.1:$cport" "$cn" "$cm"; then
      cowrie_status="Cowrie $cversion"
    else
      cowrie_status="Cowrie $cversion: the run failed (see above; its log: $(tail -3 "$work/err-cowrie" | tr '\n' ' '))"
    fi
    kill -TERM "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    server=
  else
    cowrie_status="Cowrie could not be installed (pip install cowrie==3.1.4 into $venv failed)"
  fi
fi

echo
echo "$k commands per active session, ${THINK_MS:-0} ms between a prompt and the next command"
cat "$work/results" >&2
python3 - "$work/results" "$cowrie_status" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    f = line.split()
    label, ok, failed = f[0], int(f[1]), int(f[2])
    rb, pb, rd, pd = map(int, f[3:7])
    count, cfailed = int(f[7]), int(f[8])
    p50, p90, p99, mx = map(float, f[9:13])
    rows[label] = dict(ok=ok, failed=failed, rb=rb, rd=rd, pb=pb, pd=pd,
                       kb=(rd - rb) / max(ok, 1), pkb=(pd - pb) / max(ok, 1),
                       count=count, cfailed=cfailed, p50=p50, p90=p90, p99=p99, max=mx)
    r = rows[label]
    print(f"{label}: {ok:,} sessions logged in ({failed} failed); resident memory "
          f"{rb:,} KB before, {rd:,} KB with them idle: {r['kb']:.2f} KB per session "
          f"(Pss {r['pkb']:.2f} KB)")
    print(f"{label}: {count:,} round trips ({cfailed} sessions failed): p50 {p50:.3f} ms, "
          f"p90 {p90:.3f} ms, p99 {p99:.3f} ms, max {mx:.3f} ms")
print(f"peer: {sys.argv[2]}")
c = rows.get("cowrie")
if c and c["ok"] > 0 and c["count"] > 0:
    for label in ("honeyscope-listener", "honeyscope-tun"):
        h = rows.get(label)
        if h:
            print(f"ratio {label} vs Cowrie: memory per session {c['kb'] / h['kb']:.1f}x less, "
                  f"p99 round trip {c['p99'] / h['p99']:.1f}x shorter")
else:
    print("no ratio: Cowrie was not measured in this run")
for label in ("honeyscope-listener", "honeyscope-tun"):
    h = rows.get(label)
    if h:
        print(f"targets ({label}): <= 64 KB per session: {'met' if h['kb'] <= 64 else 'NOT met'}; "
              f"p99 < 5 ms: {'met' if h['p99'] < 5 else 'NOT met'}")
PY
