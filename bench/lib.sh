# Shared by the benchmark scripts (sourced): the release binary, and timing a command.
cargo build --release -q -p honeyscope-cli
bin=${CARGO_TARGET_DIR:-target}/release/honeyscope

# Runs before each timed run; a script redefines it to reset state (a store, a log dir).
before_each() { :; }

# Wall time of the fastest of 3 runs of a command, in seconds. Its standard output is
# dropped; its standard error goes to $stderr_to (default: dropped).
time_of() {
  for _ in 1 2 3; do
    before_each
    s=$(date +%s.%N); "$@" >/dev/null 2>"${stderr_to:-/dev/null}"; e=$(date +%s.%N)
    echo "$e - $s" | bc -l
  done | sort -n | head -1
}
