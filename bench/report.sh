#!/usr/bin/env bash
# Report benchmark: the whole `honeyscope report` on the calibrated month (straight from the
# raw Honeyd log), and DuckDB computing the same tables from the same log (report_duckdb.sql),
# in the same run. Best of 3 each; prints both times and the ratio.
#   bench/report.sh
set -euo pipefail
cd "$(dirname "$0")/.."
work=bench/work
mkdir -p "$work"
python3 -c 'import duckdb' 2>/dev/null || pip install -q duckdb
cargo build --release -q -p honeyscope-cli
bin=${CARGO_TARGET_DIR:-target}/release/honeyscope
log="$work/seed-2016-04.log"
[ -s "$log" ] || "$bin" synth --profile seed-2016-04 --out "$log" --tz UTC
best() { sort -n | head -1; }
ours=$(for i in 1 2 3; do
  s=$(date +%s.%N)
  "$bin" report "$log" --tz UTC --geoip "$log.geoip.csv" --format json >/dev/null
  e=$(date +%s.%N); echo "$e - $s" | bc -l
done | best)
duck=$(for i in 1 2 3; do python3 - "$log" <<'PY'
import sys, time, duckdb
sql = open('bench/report_duckdb.sql').read().replace('${LOG}', sys.argv[1])
con = duckdb.connect()
t = time.perf_counter()
for stmt in sql.split(';'):
    code = '\n'.join(l for l in stmt.splitlines() if not l.strip().startswith('--'))
    if code.strip():
        con.execute(code).fetchall()
print(time.perf_counter() - t)
PY
done | best)
python3 - "$log" "$ours" "$duck" <<'PY'
import os, sys, duckdb
log, ours, duck = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
lines = sum(1 for _ in open(log, 'rb'))
print(f"input: {log}, {lines:,} lines, {os.path.getsize(log)/1e6:.1f} MB")
print(f"honeyscope report (all tables, JSON): {ours:.3f} s")
print(f"duckdb {duckdb.__version__} (read_csv + regex, same tables): {duck:.3f} s")
print(f"ratio (duckdb / honeyscope): {duck/ours:.2f}x")
PY
