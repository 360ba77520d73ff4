#!/usr/bin/env bash
# CI (.ci/run): smoke-run every npm script with tiny counts, so none can rot unseen.
#
# Every script in package.json must be either in ELSEWHERE (run by CI or by `npm test`
# already: start/prestart/prepare, test, test:vitest, test:as, the asbuild* builds,
# build:examples) or have a line in smoke_cmd below. A script in neither FAILS this smoke
# before anything runs it, so a new script cannot be forgotten: give it a smoke line.
#
# Contract for the scripts (each keeps its real default run as it is):
#   bench:core, bench:rehearsal, bench:links, bench:telemetry, bench:upload, bench:startup
#                   `-- --quick`: the same code paths and validity checks with small
#                   iteration counts / short timing budgets (see each file's header)
#   soak            `-- --cases N` (and `--system gen|genx --cases N --per-shape K`)
#   fuzz            `-- INPUTS_PER_DECODER SEED --daemon N` (daemon inputs over a PTY)
#   compare:rules   `-- --cases N --meshes N --max-steps N --no-shrink --out FILE`
#                   (--out a temp file: by default it rewrites docs/evidence-rules.md)
#   explore         `-- --smoke`: a small bounded part, well under a minute
#   mutate          `-- --smoke`: a few mutants, for CI (it writes test-results/mutation.json,
#                   which git ignores; its "args" field says it was a smoke run)
#   typecheck       as it is (tsc --noEmit)
#   test:arm        `-- --check` (the emulated ARM boards are set up; npm test's
#                   test/qemu/arm-pi.test.ts boots the Pi once and runs its checks)
# A new script: accept a small-count form (for explore and mutate, `--smoke`) that
# finishes in well under a minute, and add it to smoke_cmd.
#
# Rules for smoke lines: tiny counts; never write into tracked files of the repo (point
# outputs at "$tmp"). After the runs, a work tree that was clean before must still be
# clean (checked: it fails the smoke); if it was not clean (someone is editing), a change
# is reported as a warning only, since it may not be ours.
#
# Output: one line per script with its name, elapsed (wall) seconds and the CPU seconds it
# used (on a shared, loaded machine wall time says little), the last lines of the output
# of any that failed, and a total. Every script runs; the exit status is 1 if any
# failed (or had no smoke line, or timed out after SMOKE_TIMEOUT seconds, default 600).
# Whole run: about 135 CPU seconds, two thirds of it `mutate --smoke` (2 workers) and
# most of the rest typecheck; 215 s of wall time measured on a shared 2-core machine at
# load average 10-15.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

ELSEWHERE=" start prestart prepare test test:as test:vitest asbuild asbuild:debug asbuild:release build:examples "
TIMEOUT=${SMOKE_TIMEOUT:-600}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gsu-smoke-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# The command that smoke-runs npm script $1, or status 1 if there is none.
smoke_cmd() {
  case "$1" in
    typecheck)       echo "npm run --silent typecheck" ;;
    bench:core)      echo "npm run --silent bench:core -- --quick" ;;
    bench:rehearsal) echo "npm run --silent bench:rehearsal -- --quick" ;;
    bench:links)     echo "npm run --silent bench:links -- --quick" ;;
    bench:telemetry) echo "npm run --silent bench:telemetry -- --quick" ;;
    bench:upload)    echo "npm run --silent bench:upload -- --quick" ;;
    bench:memory)    echo "npm run --silent bench:memory -- --quick" ;;
    bench:recovery)  echo "npm run --silent bench:recovery -- --quick" ;;
    bench:startup)   echo "npm run --silent bench:startup -- --quick" ;;
    soak)            echo "npm run --silent soak -- --cases 12 && npm run --silent soak -- --system gen --cases 24 --per-shape 3 && npm run --silent soak -- --system gen --links --crashes --cases 12 --per-shape 3 && npm run --silent soak -- --system genx --cases 12 --per-shape 3" ;;
    fuzz)            echo "npm run --silent fuzz -- 300 7 --daemon 100" ;;
    compare:rules)   echo "npm run --silent compare:rules -- --cases 2 --meshes 2 --max-steps 12 --no-shrink --out '$tmp/evidence-rules.md'" ;;
    explore)         echo "npm run --silent explore -- --smoke" ;;
    mutate)          echo "npm run --silent mutate -- --smoke" ;;
    # .ci/run's ARM step runs the whole lane; here: the set-up is in place and the
    # runner answers (no boot). Exits 77 with the reason where it is not set up.
    test:arm)        echo "npm run --silent test:arm -- --check" ;;
    *) return 1 ;;
  esac
}

tree_state() { git status --porcelain=v1 --untracked-files=all 2>/dev/null; git diff HEAD 2>/dev/null | sha1sum; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }

scripts=$(node -e 'console.log(Object.keys(JSON.parse(require("fs").readFileSync("package.json", "utf8")).scripts).join("\n"))') || {
  echo "smoke: cannot read the scripts of package.json"; exit 1; }

# Every script must be accounted for before anything runs.
missing=()
for s in $scripts; do
  [[ "$ELSEWHERE" == *" $s "* ]] && continue
  smoke_cmd "$s" >/dev/null || missing+=("$s")
done
for s in "${missing[@]}"; do
  echo "smoke: npm run $s: no smoke line for it in scripts/smoke-scripts.sh (add one with tiny counts, or to ELSEWHERE if CI runs it already)"
done

git_clean_before=0
[ -z "$(git status --porcelain=v1 --untracked-files=all 2>/dev/null)" ] && git_clean_before=1
state_before=$(tree_state)

failed=("${missing[@]}")
TIMEFORMAT='%U %S'   # user and system CPU seconds of a run, its child processes included
cpu_total=0
total0=$(date +%s%N)
for s in $scripts; do
  [[ "$ELSEWHERE" == *" $s "* ]] && continue
  cmd=$(smoke_cmd "$s") || continue
  t0=$(date +%s%N)
  { time timeout -k 10 "$TIMEOUT" bash -c "$cmd" > "$tmp/$s.log" 2>&1 < /dev/null; } 2> "$tmp/$s.time"
  rc=$?
  dt=$(secs "$t0" "$(date +%s%N)")
  cpu=$(awk '{ printf "%.1f", $1 + $2 }' "$tmp/$s.time" 2>/dev/null)
  cpu_total=$(awk -v a="$cpu_total" -v b="${cpu:-0}" 'BEGIN { printf "%.1f", a + b }')
  if [ $rc -eq 0 ]; then
    printf 'smoke: %-16s ok      %6ss  (cpu %ss)\n' "$s" "$dt" "$cpu"
  else
    why="status $rc"; [ $rc -eq 124 ] && why="timed out after ${TIMEOUT}s"
    printf 'smoke: %-16s FAILED  %6ss  (cpu %ss; %s: %s); its last lines:\n' "$s" "$dt" "$cpu" "$why" "$cmd"
    tail -20 "$tmp/$s.log" | sed 's/^/    /'
    failed+=("$s")
  fi
done

if [ "$(tree_state)" != "$state_before" ]; then
  if [ $git_clean_before -eq 1 ]; then
    echo "smoke: FAILED: the smoke runs changed the work tree (a script wrote into the repo):"
    git status --porcelain=v1 --untracked-files=all | sed 's/^/    /'
    failed+=("(work tree)")
  else
    echo "smoke: warning: the work tree changed during the runs (it was not clean before, so this may be someone else's edit):"
    git status --porcelain=v1 --untracked-files=all | sed 's/^/    /'
  fi
fi

echo "smoke: total $(secs "$total0" "$(date +%s%N)")s (cpu ${cpu_total}s), ${#failed[@]} failed${failed[0]:+: ${failed[*]}}"
[ ${#failed[@]} -eq 0 ]
