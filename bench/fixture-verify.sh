#!/usr/bin/env bash
# Fixture verification throughput (docs/benchmarks.md, docs/fixtures.md):
# sha256 over a 1 GiB file of real pseudo-random data (not sparse), through
# FixtureStore::verify and through `sha256sum`, alternating in the same run
# with a warm page cache for both. Prints MB/s for each and the ratio.
#
#   bash bench/fixture-verify.sh              # 1 GiB, 5 runs each
#   SIZE=256M REPS=9 bash bench/fixture-verify.sh
#   FILE=/path/to/big.bin bash bench/fixture-verify.sh   # an existing file
set -euo pipefail

SIZE=${SIZE:-1G}
REPS=${REPS:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
manifest="$root/Cargo.toml"

if [ -z "${FILE:-}" ]; then
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' EXIT
  FILE="$dir/fixture.bin"
  echo "== writing $SIZE of /dev/urandom to $FILE"
  head -c "$SIZE" /dev/urandom > "$FILE"
fi

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')," \
  "sha_ni: $(grep -q sha_ni /proc/cpuinfo && echo yes || echo no), $(sha256sum --version | head -1)"
cargo build --release --quiet --manifest-path "$manifest" -p ironworks-cache --example verify_bench
"$root/target/release/examples/verify_bench" "$FILE" "$REPS"
