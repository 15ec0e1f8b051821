#!/usr/bin/env bash
# Step 2 of the secrets GitHub Action (../action.yml). With INPUT_RUN, runs that bash script under
# `secrets exec` (the secrets in its environment, masked in its output; its exit status is the step's).
# Without it, `secrets export --format github`: `::add-mask::` for every line of every value on stdout,
# then the variables appended to $GITHUB_ENV for the job's later steps.
#
# Inputs arrive as environment variables, never interpolated into this script (no script injection), and
# are unset before secrets starts, so the command sees none of them. SECRETS_ACTION_BIN is the program
# the install step put in place (default: `secrets` on PATH).
set -euo pipefail

bin="${SECRETS_ACTION_BIN:-}"
[[ -n "$bin" ]] || bin=secrets
script="${INPUT_RUN:-}"
args=()
[[ -z "${INPUT_CONFIG:-}" ]] || args+=(--config "$INPUT_CONFIG")
[[ -z "${INPUT_ENV:-}" ]] || args+=(--env "$INPUT_ENV")
# Names separated by spaces or new lines; globbing is off, so a `*` stays a (refused) name.
set -f
for name in ${INPUT_ONLY:-}; do
  args+=(--only "$name")
done
set +f
unset INPUT_RUN INPUT_CONFIG INPUT_ENV INPUT_ONLY

if [[ -n "$script" ]]; then
  # The shell GitHub runs a `run:` step with; exec passes the script's exit status through.
  exec "$bin" exec ${args[@]+"${args[@]}"} -- bash --noprofile --norc -eo pipefail -c "$script"
fi
exec "$bin" export --format github ${args[@]+"${args[@]}"}
