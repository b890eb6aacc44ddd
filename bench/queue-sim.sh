#!/usr/bin/env bash
# The gated-queue policies in virtual time (`ironworks sim queue`), on the
# scenarios of issue 3:
#   A: 60 PRs/day, CI 2 h, 10% bad PRs, 2% flaky runs, 8 builders, 14 days
#   B: 200 PRs/day, 32 builders, otherwise as A
# each over seeds 1..SEEDS (means). Prints both tables, the wall time of
# each run, then checks scenario A's targets for `ironworks`: at least 4.5x
# serial's merged PRs/day, p95 approval-to-land under 8 h, at most 2 builds
# per merged PR, no invariant violation. Exits 1 if a target is missed or
# any policy breaks an invariant.
#
#   bash bench/queue-sim.sh            # SEEDS=5
#   SEEDS=20 bash bench/queue-sim.sh
set -euo pipefail

SEEDS=${SEEDS:-5}
root=$(cd "$(dirname "$0")/.." && pwd)

cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p ironworks
bin="$root/target/release/ironworks"

common=(--ci-hours 2 --fail-rate 0.1 --flake-rate 0.02 --days 14 --seed 1 --seeds "$SEEDS")
scenario_a=(--prs-per-day 60 --builders 8 "${common[@]}")
scenario_b=(--prs-per-day 200 --builders 32 "${common[@]}")

now() { date +%s%N; }
status=0

run() {
  local name=$1 t0 t1 rc=0
  shift
  echo "== scenario $name: ironworks sim queue $*"
  t0=$(now)
  "$bin" sim queue "$@" || rc=$?
  t1=$(now)
  echo "(wall time $(( (t1 - t0) / 1000000 )) ms for $SEEDS seeds x 4 policies)"
  echo
  # 1 = some policy broke an invariant; anything else is a failure to run.
  if [ "$rc" -ne 0 ]; then status=1; fi
}

run A "${scenario_a[@]}"
run B "${scenario_b[@]}"

# The pretty JSON has one key per line; pick the figures per policy.
"$bin" sim queue "${scenario_a[@]}" --json | awk -v seeds="$SEEDS" '
  /"policy":/           { gsub(/[",]/, "", $2); p = $2 }
  /"merged_per_day":/   { gsub(/,/, "", $2); merged[p] = $2 }
  /"p95_hours":/        { gsub(/,/, "", $2); p95[p] = $2 }
  /"builds_per_merge":/ { gsub(/,/, "", $2); bpm[p] = $2 }
  /"violations":/       { gsub(/,/, "", $2); viol[p] = $2 }
  END {
    ratio = merged["ironworks"] / merged["serial"]
    printf "scenario A targets for ironworks (means of %d seeds):\n", seeds
    ok = 1
    ok = check(ratio >= 4.5, sprintf("merged/day %.1f = %.2fx serial (%.1f)", merged["ironworks"], ratio, merged["serial"]), ">= 4.5x") && ok
    ok = check(p95["ironworks"] < 8, sprintf("p95 approval-to-land %.2f h", p95["ironworks"]), "< 8 h") && ok
    ok = check(bpm["ironworks"] <= 2, sprintf("builds per merged PR %.2f", bpm["ironworks"]), "<= 2") && ok
    ok = check(viol["ironworks"] == 0, sprintf("invariant violations %d", viol["ironworks"]), "0") && ok
    exit ok ? 0 : 1
  }
  function check(pass, what, target) {
    printf "  %-4s %s (target %s)\n", pass ? "met" : "MISS", what, target
    return pass
  }
' || status=1

exit "$status"
