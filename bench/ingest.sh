#!/usr/bin/env bash
# Ingest benchmark: honeyscope ingest vs DuckDB read_csv on the same Honeyd log, same run.
#   bench/ingest.sh [LINES] [ROUNDS]   (default 2,600,000 lines, about the seed's month; 5 rounds)
# Each round runs honeyscope, then DuckDB, so that both see the same host (a shared VM's speed
# drifts by tens of percent within minutes). Prints the best and the median round of each, in
# MB/s and lines/s, and their ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-2600000}
rounds=${2:-5}
work=bench/work
mkdir -p "$work"
log="$work/honeyd-$lines.log"
[ -s "$log" ] || python3 bench/gen-honeyd-log.py "$lines" "$log"
python3 -c 'import duckdb' 2>/dev/null || pip install -q duckdb
cargo build --release -q -p honeyscope-cli
bin=${CARGO_TARGET_DIR:-target}/release/honeyscope
bytes=$(stat -L -c %s "$log")

ours=()
duck=()
for _ in $(seq "$rounds"); do
  rm -rf "$work/store"
  s=$(date +%s.%N); "$bin" ingest "$log" --store "$work/store" --tz UTC >/dev/null; e=$(date +%s.%N)
  ours+=("$(echo "$e - $s" | bc -l)")
  duck+=("$(python3 - "$log" <<'PY'
import sys, time, duckdb
con = duckdb.connect()
cols = {c: 'VARCHAR' for c in ['ts','proto','kind','src','a','b','c','d','e','f','g','h']}
t = time.perf_counter()
con.execute(f"""CREATE TABLE t AS SELECT * FROM read_csv('{sys.argv[1]}', delim=' ', header=false,
  columns={cols}, null_padding=true, auto_detect=false, quote='', escape='')""")
print(time.perf_counter() - t)
PY
)")
done
rows=$("$bin" cat "$work/store" --format json | wc -l)
python3 - "$bytes" "$lines" "$rows" "${ours[*]}" "${duck[*]}" <<'PY'
import statistics, sys, duckdb
b, n, rows = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
ours = [float(x) for x in sys.argv[4].split()]
duck = [float(x) for x in sys.argv[5].split()]
print(f"input: {n:,} lines, {b/1e6:.1f} MB; stored events: {rows:,}; {len(ours)} rounds")
for what, f in (("best", min), ("median", statistics.median)):
    o, d = f(ours), f(duck)
    print(f"{what:>6}: honeyscope ingest (Parquet store) {o:.3f} s {b/o/1e6:7.1f} MB/s {n/o/1e6:5.2f} M lines/s | "
          f"duckdb {duckdb.__version__} read_csv -> table {d:.3f} s {b/d/1e6:7.1f} MB/s | ratio {d/o:.2f}x")
print("rounds (honeyscope, duckdb):", ", ".join(f"{o:.3f}/{d:.3f}" for o, d in zip(ours, duck)))
PY
