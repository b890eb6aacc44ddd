#!/usr/bin/env bash
# Log analyzer figures (docs/benchmarks.md, docs/logs.md).
#
# 1. The synthetic corpus (crates/ironworks-core/examples/log_bench.rs):
#    learn 200 passed logs of 20 000 lines on one core, extract from 50
#    failed logs with known injected error blocks; prints learn MB/s,
#    extract ms/log, index size, recall, precision and lines per log.
# 2. Bounded memory on a ~1 GB log, through the real binary: a job prints
#    it and passes (the run is learned), then prints a failing variant;
#    prints max RSS and wall time of `ironworks run`, `ironworks logs learn`
#    and `ironworks logs explain` (/usr/bin/time -v).
#
#   bash bench/log-analyzer.sh                  # both (~1 GB twice in a temp dir)
#   BIG_LINES=0 bash bench/log-analyzer.sh      # the corpus only
#   PASSED=50 FAILED=20 bash bench/log-analyzer.sh
set -euo pipefail

PASSED=${PASSED:-200}
FAILED=${FAILED:-50}
LINES=${LINES:-20000}
# ~102 bytes a line: 10.5 M lines ≈ 1.07 GB.
BIG_LINES=${BIG_LINES:-10500000}
root=$(cd "$(dirname "$0")/.." && pwd)
manifest="$root/Cargo.toml"

echo "== corpus: $PASSED passed + $FAILED failed logs × $LINES lines"
cargo run --release --quiet --manifest-path "$manifest" -p ironworks-core --example log_bench -- \
  --passed "$PASSED" --failed "$FAILED" --lines "$LINES"

[ "$BIG_LINES" = 0 ] && exit 0

cargo build --release --quiet --manifest-path "$manifest" -p ironworks
cargo build --release --quiet --manifest-path "$manifest" -p ironworks-core --example log_bench
target=$(cargo metadata --format-version 1 --no-deps --manifest-path "$manifest" |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
bin="$target/release/ironworks"
gen="$target/release/examples/log_bench"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "== generating two logs of $BIG_LINES lines in $work"
"$gen" gen --lines "$BIG_LINES" --seed 1 > "$work/pass.log"
"$gen" gen --lines "$BIG_LINES" --seed 2 --fail > "$work/fail.log"
ls -l "$work/pass.log" "$work/fail.log" | awk '{printf "%s %.2f GB\n", $NF, $5 / 1e9}'

repo="$work/repo"
mkdir -p "$repo"
cat > "$repo/ironworks.toml" <<TOML
[project]
id = "big"

[[job]]
name = "big"
stage = "spark"
timeout = "30m"
env = { DIR = "$work" }
script = 'cat "\$DIR/current.log"; test ! -e "\$DIR/fail"'
TOML
printf '.ironworks/\n' > "$repo/.gitignore"
git -C "$repo" init -q -b main
git -C "$repo" add -A
git -C "$repo" -c user.name=b -c user.email=b@example.invalid commit -qm bench

measure() { # label, command...
  local label=$1 rss wall
  shift
  /usr/bin/time -v -o "$work/time" "$@" > "$work/stdout" 2> "$work/stderr" || true
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time")
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/time")
  printf '%-28s max RSS %5d MB, wall %s\n' "$label" $(( rss / 1024 )) "$wall"
}

cd "$repo"
ln -sf "$work/pass.log" "$work/current.log"
measure "run (green, 1 GB log)" "$bin" run spark
tail -n 4 "$work/stdout"
measure "logs learn" "$bin" logs learn
cat "$work/stdout"
ln -sf "$work/fail.log" "$work/current.log"
touch "$work/fail"
measure "run (red, 1 GB log)" "$bin" run spark
tail -n 4 "$work/stdout"
"$bin" runs --json --limit 1 > "$work/runs.json"
run=$(grep -m 1 '"id":' "$work/runs.json" | tr -dc '0-9')
measure "logs explain $run" "$bin" logs explain "$run"
head -n 30 "$work/stdout"
