#!/usr/bin/env bash
# Runs one syncer command for the composite action (action.yml) and exposes its results.
# Inputs come as environment variables: COMMAND, PATHS, ARGS (both split on spaces), and SYNCER,
# the command that action/install.sh installed (default: `syncer` on PATH); syncer itself reads
# SYNCER_ENVIRONMENT.
# Exit codes: plan, drift, status and compare exit 2 for "changes", "drift", "unhealthy",
# "different", which is not a failure here; the
# step fails only when syncer fails (1). Outputs: exit-code, report, plus what syncer writes.
set -uo pipefail

report="${RUNNER_TEMP:-/tmp}/syncer-report-$$.md"
outputs="${GITHUB_OUTPUT:-/dev/null}"
case "${COMMAND:-}" in
  plan) flags=(--detailed-exitcode --report "$report") ;;
  drift) flags=(--report "$report") ;;
  status) flags=(--detailed-exitcode --report "$report") ;;
  compare) flags=(--report "$report") ;;
  apply) flags=(--auto-approve --report "$report") ;;
  validate) flags=() ;;
  *)
    echo "::error::syncer action: command must be validate, plan, apply, drift, status or compare"
    printf 'exit-code=1\nerror=true\n' >> "$outputs"
    exit 1
    ;;
esac

# shellcheck disable=SC2086  # PATHS and ARGS are space-separated lists on purpose
"${SYNCER:-syncer}" "$COMMAND" "${flags[@]}" ${ARGS:-} -- ${PATHS:-.}
code=$?

# syncer writes `error` itself (usage errors and validate included); this covers a syncer that
# could not start at all
wrote_error=false
if grep -q '^error=' "$outputs" 2>/dev/null; then wrote_error=true; fi
{
  echo "exit-code=$code"
  if [ -f "$report" ]; then echo "report=$report"; fi
  if [ "$wrote_error" = false ]; then
    if [ "$code" -eq 0 ] || [ "$code" -eq 2 ]; then echo "error=false"; else echo "error=true"; fi
  fi
} >> "$outputs"

if [ "$code" -eq 2 ] && { [ "$COMMAND" = plan ] || [ "$COMMAND" = drift ] || [ "$COMMAND" = status ] || [ "$COMMAND" = compare ]; }; then
  exit 0
fi
exit "$code"
