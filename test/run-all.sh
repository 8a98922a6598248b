#!/usr/bin/env bash
# The whole test suite, as `npm test` runs it: the unit tests on one jest worker beside
# the end-to-end suites instead of after them. The end-to-end suites mostly wait on the
# network (commits, governance windows, polls) and keep about a third of one core busy;
# one unit worker uses the other core, a second would starve the network of the CPU its
# timings need. Either failing fails the run; the unit output follows the end-to-end one.
set -uo pipefail
cd "$(dirname "$0")/.."

# Each side normally ends in under half an hour. A side that still runs after this long
# is stopped and fails the run, so a hang reports itself well inside CI's 90 minutes
# instead of using them up with no result.
side_limit=${GIGLEDGER_TEST_SIDE_LIMIT:-60m}

unit_log=$(mktemp)
trap 'rm -f "$unit_log"' EXIT
(
  unit_status=0
  timeout --kill-after=30s "$side_limit" npm run test:unit --silent -- --maxWorkers=1 --forceExit || unit_status=$?
  if [ "$unit_status" -eq 124 ] || [ "$unit_status" -eq 137 ]; then echo "== the unit tests did not end within $side_limit"; fi
  echo "== $(date -u +%H:%M:%S) unit tests done (exit $unit_status)"
  exit "$unit_status"
) >"$unit_log" 2>&1 &
unit_pid=$!

e2e_status=0
timeout --kill-after=30s "$side_limit" npm run test:e2e --silent || e2e_status=$?
if [ "$e2e_status" -eq 124 ] || [ "$e2e_status" -eq 137 ]; then
  echo "== the end-to-end suites did not end within $side_limit; stopping their network"
  node --input-type=module -e "import('./test/dist/support/global-teardown.js').then((teardown) => teardown.default())"
fi
echo "== $(date -u +%H:%M:%S) end-to-end suites done (exit $e2e_status)"
unit_status=0
wait "$unit_pid" || unit_status=$?
echo "== unit tests' output"
cat "$unit_log"
if [ "$e2e_status" -ne 0 ]; then exit "$e2e_status"; fi
exit "$unit_status"
