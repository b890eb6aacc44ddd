#!/usr/bin/env bash
# Orchestration overhead of `ironworks run`: a stage of N jobs that each run
# `true`, against a plain shell loop running the same N commands one after
# the other. Prints wall times (median of REPEATS) and per-job overhead.
#
#   bash bench/orchestration.sh            # N=200, REPEATS=5
#   N=500 REPEATS=9 bash bench/orchestration.sh
set -euo pipefail

N=${N:-200}
REPEATS=${REPEATS:-5}
root=$(cd "$(dirname "$0")/.." && pwd)

cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p ironworks
bin="$root/target/release/ironworks"
true_bin=$(type -P true)   # the external program, not the shell builtin

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
repo="$work/repo"
mkdir -p "$repo"
{
  printf '[project]\nid = "bench"\n'
  for i in $(seq "$N"); do
    printf '\n[[job]]\nname = "j%d"\nstage = "spark"\nrun = ["%s"]\n' "$i" "$true_bin"
  done
} > "$repo/ironworks.toml"
printf '.ironworks/\n' > "$repo/.gitignore"
git -C "$repo" init -q -b main
git -C "$repo" add -A
git -C "$repo" -c user.name=b -c user.email=b@example.invalid commit -qm bench

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

time_shell() {
  local t0 t1
  t0=$(now)
  for _ in $(seq "$N"); do "$true_bin"; done
  t1=$(now)
  echo $(( (t1 - t0) / 1000 ))
}

time_ironworks() {
  local jobs=$1 t0 t1
  t0=$(now)
  (cd "$repo" && "$bin" run spark --jobs "$jobs" >/dev/null 2>&1)
  t1=$(now)
  echo $(( (t1 - t0) / 1000 ))
}

# One warm-up of each, so page cache and the state database exist.
time_shell >/dev/null
time_ironworks 1 >/dev/null

shell_us=$(for _ in $(seq "$REPEATS"); do time_shell; done | median)
j1_us=$(for _ in $(seq "$REPEATS"); do time_ironworks 1; done | median)
j2_us=$(for _ in $(seq "$REPEATS"); do time_ironworks 2; done | median)

runs=$(cd "$repo" && "$bin" runs --json --limit 1 | grep -c '"status": "green"' || true)
[ "$runs" -eq 1 ] || { echo "the last run was not green" >&2; exit 1; }

awk -v n="$N" -v s="$shell_us" -v a="$j1_us" -v b="$j2_us" -v r="$REPEATS" 'BEGIN {
  printf "jobs: %d, repeats: %d (median wall time)\n", n, r
  printf "%-28s %10.1f ms  %7.3f ms/job\n", "shell loop (sequential)", s/1000, s/1000/n
  printf "%-28s %10.1f ms  %7.3f ms/job  overhead %6.3f ms/job\n", "ironworks run --jobs 1", a/1000, a/1000/n, (a-s)/1000/n
  printf "%-28s %10.1f ms  %7.3f ms/job  %s the shell loop\n", "ironworks run --jobs 2", b/1000, b/1000/n, (b < s ? "faster than" : "SLOWER than")
}'
