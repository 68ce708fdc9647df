#!/usr/bin/env bash
# Runs one syncer command for the composite action (action.yml) and exposes its results.
# Inputs come as environment variables: COMMAND, PATHS, ARGS (both split on spaces), and SYNCER,
# the command that action/install.sh installed (default: `syncer` on PATH).
# Exit codes: plan and drift exit 2 for "changes"/"drift", which is not a failure here; the
# step fails only when syncer fails (1). Outputs: exit-code, report, plus what syncer writes.
set -uo pipefail

report="${RUNNER_TEMP:-/tmp}/syncer-report-$$.md"
case "${COMMAND:-}" in
  plan) flags=(--detailed-exitcode --report "$report") ;;
  drift) flags=(--report "$report") ;;
  apply) flags=(--auto-approve --report "$report") ;;
  validate) flags=() ;;
  *) echo "::error::syncer action: command must be validate, plan, apply or drift (got '${COMMAND:-}')"; exit 1 ;;
esac

# shellcheck disable=SC2086  # PATHS and ARGS are space-separated lists on purpose
"${SYNCER:-syncer}" "$COMMAND" "${flags[@]}" ${ARGS:-} ${PATHS:-.}
code=$?

{
  echo "exit-code=$code"
  if [ -f "$report" ]; then echo "report=$report"; fi
} >> "${GITHUB_OUTPUT:-/dev/null}"

if [ "$code" -eq 2 ] && { [ "$COMMAND" = plan ] || [ "$COMMAND" = drift ]; }; then
  exit 0
fi
exit "$code"
