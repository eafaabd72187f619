#!/usr/bin/env bash
# The project's one test command: set up a fresh Debian machine, then check everything.
#   scripts/test.sh
# Installs the Debian packages the tests use as peers (needs root or sudo, once), then runs
# cargo fmt --check, clippy with warnings as errors, and every test. Tests find the shared
# data in ../shared beside the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."

# Peers the tests run against. Installed once; later runs see them and skip apt.
packages=(tcpdump tshark nftables wireshark-common chromium python3-pip p0f nmap hping3 masscan iproute2
  iputils-ping netcat-openbsd telnet binutils)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "== installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# DuckDB is the second engine the report's SQL is cross-checked against.
if ! python3 -c 'import duckdb' 2>/dev/null; then
  echo "== installing the duckdb Python module"
  python3 -m pip install -q duckdb 2>/dev/null || python3 -m pip install -q --break-system-packages duckdb
fi
export HONEYSCOPE_REQUIRE_TOOLS=1

if [ ! -d ../shared/data ]; then
  echo "error: ../shared/data is missing: the tests read the shared test data beside the checkout" >&2
  exit 1
fi

# Keep builds incremental across runs on the same machine (CI clones afresh each time).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/honeyscope/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
