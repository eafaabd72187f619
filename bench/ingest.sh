#!/usr/bin/env bash
# Ingest benchmark: honeyscope ingest vs DuckDB read_csv on the same Honeyd log, same run.
#   bench/ingest.sh [LINES]      (default 2,600,000 lines, about the seed's month)
# Prints MB/s and lines/s for each, best of 3 runs, and the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-2600000}
work=bench/work
mkdir -p "$work"
log="$work/honeyd-$lines.log"
[ -s "$log" ] || python3 bench/gen-honeyd-log.py "$lines" "$log"
python3 -c 'import duckdb' 2>/dev/null || pip install -q duckdb
cargo build --release -q -p honeyscope-cli
bin=${CARGO_TARGET_DIR:-target}/release/honeyscope
bytes=$(stat -L -c %s "$log")

best() { sort -n | head -1; }
ours=$(for i in 1 2 3; do
  rm -rf "$work/store"
  s=$(date +%s.%N); "$bin" ingest "$log" --store "$work/store" --tz UTC >/dev/null; e=$(date +%s.%N)
  echo "$e - $s" | bc -l
done | best)
rows=$("$bin" cat "$work/store" --format json | wc -l)
duck=$(for i in 1 2 3; do python3 - "$log" <<'PY'
import sys, time, duckdb
con = duckdb.connect()
cols = {c: 'VARCHAR' for c in ['ts','proto','kind','src','a','b','c','d','e','f','g','h']}
t = time.perf_counter()
con.execute(f"""CREATE TABLE t AS SELECT * FROM read_csv('{sys.argv[1]}', delim=' ', header=false,
  columns={cols}, null_padding=true, auto_detect=false, quote='', escape='')""")
print(time.perf_counter() - t)
PY
done | best)
python3 - "$bytes" "$lines" "$rows" "$ours" "$duck" <<'PY'
import sys, duckdb
b, n, rows, ours, duck = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
print(f"input: {n:,} lines, {b/1e6:.1f} MB; stored events: {rows:,}")
print(f"honeyscope ingest (Parquet store): {ours:.3f} s  {b/ours/1e6:7.1f} MB/s  {n/ours/1e6:5.2f} M lines/s")
print(f"duckdb {duckdb.__version__} read_csv -> table: {duck:.3f} s  {b/duck/1e6:7.1f} MB/s  {n/duck/1e6:5.2f} M lines/s")
print(f"ratio (duckdb time / honeyscope time): {duck/ours:.2f}x")
PY
