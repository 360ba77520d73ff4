#!/usr/bin/env bash
# CI: smoke-run every npm script with tiny counts, so none can rot unseen.
# Every script in package.json must be either listed in ELSEWHERE (run by CI or by
# npm test already) or have a line in run_one below; a script that is in neither
# fails this smoke, so a new script cannot be forgotten.
# Contract for new scripts: accept a small-count form (e.g. --smoke, --cases N) that
# finishes in well under a minute; the real default stays as it is.
# Output: one line per script with its time; exit 1 if any failed (all still run).
set -uo pipefail
cd "$(dirname "$0")/.."

ELSEWHERE=" start prestart prepare test test:as test:vitest asbuild asbuild:debug asbuild:release build:examples "
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

run_one() {
  case "$1" in
    typecheck)       npm run --silent typecheck ;;
    bench:core)      npm run --silent bench:core ;;
    bench:links)     npm run --silent bench:links ;;
    bench:rehearsal) npm run --silent bench:rehearsal ;;
    bench:telemetry) npm run --silent bench:telemetry ;;
    bench:upload)    npm run --silent bench:upload ;;
    soak)            npm run --silent soak -- --cases 30 && npm run --silent soak -- --system gen --cases 60 --per-shape 3 ;;
    fuzz)            npm run --silent fuzz -- 300 7 ;;
    compare:rules)   npm run --silent compare:rules -- --cases 2 --meshes 2 --max-steps 12 --out "$tmp/evidence.md" --no-shrink ;;
    explore)         npm run --silent explore -- --smoke ;;
    mutate)          npm run --silent mutate -- --smoke ;;
    *) return 127 ;;
  esac
}

failed=()
total0=$(date +%s)
for s in $(node -e 'console.log(Object.keys(require("./package.json").scripts).join(" "))'); do
  if [[ "$ELSEWHERE" == *" $s "* ]]; then continue; fi
  t0=$(date +%s)
  run_one "$s" > "$tmp/$s.log" 2>&1
  rc=$?
  dt=$(( $(date +%s) - t0 ))
  if [ $rc -eq 127 ]; then
    echo "smoke: npm run $s: no smoke line for it in scripts/smoke-scripts.sh (add one with tiny counts)"
    failed+=("$s"); continue
  fi
  if [ $rc -ne 0 ]; then
    echo "smoke: npm run $s FAILED (status $rc, ${dt}s); its last lines:"
    tail -20 "$tmp/$s.log" | sed 's/^/    /'
    failed+=("$s")
  else
    echo "smoke: npm run $s ok (${dt}s)"
  fi
done
echo "smoke: $(( $(date +%s) - total0 ))s, ${#failed[@]} failed${failed:+: ${failed[*]}}"
[ ${#failed[@]} -eq 0 ]
