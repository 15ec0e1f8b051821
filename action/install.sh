#!/usr/bin/env bash
# Step 1 of the secrets GitHub Action (../action.yml): installs secrets-cli@$INPUT_VERSION from npm into a
# prefix of its own under $RUNNER_TEMP (not the runner's global Node), puts its bin directory on
# $GITHUB_PATH so later steps of the job find `secrets`, and writes the program's path to $GITHUB_OUTPUT.
# Inputs arrive as environment variables, never interpolated into this script (no script injection).
#
# Exit codes follow secrets' own table: 2 (USAGE) for a bad input or a runner without a recent enough
# Node, 5 (NOT_FOUND) when npm has no such version, 9 (UNAVAILABLE) when npm fails otherwise.
set -euo pipefail

# Keep in step with package.json "engines" (test/action.test.ts checks it).
MIN_NODE=20.12
PACKAGE=secrets-cli

fail() {
  # One `::error` line: the runner shows it in the log and the job's annotations.
  printf '::error title=secrets action::%s\n' "$2"
  exit "$1"
}

# Only printable characters of a value, for a message (a stray newline could forge a workflow command).
printable() {
  printf '%s' "${1//[^[:print:]]/?}"
}

version="${INPUT_VERSION:-}"
if [[ -z "$version" ]]; then
  fail 2 "Input 'version' is empty: name a secrets-cli version such as 0.1.0, or latest."
fi
if ! [[ "$version" =~ ^(latest|[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?)$ ]]; then
  fail 2 "Input 'version' \"$(printable "$version")\" is not a version: write an exact version such as 0.1.0 (or latest); ranges, tags and URLs are not installed."
fi

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  fail 2 "Node.js $MIN_NODE or later is needed on the runner, and node or npm is not on PATH: add actions/setup-node (node-version: 22) before this step."
fi
node_version="$(node -p 'process.versions.node')"
if ! node -e '
  const [have, want] = process.argv.slice(1).map((v) => v.split(".").map(Number))
  process.exit(have[0] > want[0] || (have[0] === want[0] && have[1] >= want[1]) ? 0 : 1)
' "$node_version" "$MIN_NODE"; then
  fail 2 "secrets-cli needs Node.js $MIN_NODE or later, and this runner has $(printable "$node_version"): add actions/setup-node (node-version: 22) before this step."
fi

prefix="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/secrets-cli"
bin_dir="$prefix/node_modules/.bin"
write_outputs() {
  if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
    printf 'bin=%s\n' "$bin_dir/secrets" >>"$GITHUB_OUTPUT"
  fi
}

# A second use of the action in the same job finds the version the first one installed.
installed="$(node -e '
  try { console.log(require(process.argv[1]).version) } catch {}
' "$prefix/node_modules/$PACKAGE/package.json")"
if [[ "$version" != latest && "$installed" == "$version" && -x "$bin_dir/secrets" ]]; then
  echo "$PACKAGE@$version is already installed in $prefix"
  write_outputs
  exit 0
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
echo "Installing $PACKAGE@$version into $prefix"
if ! npm install --prefix "$prefix" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
  "$PACKAGE@$version" 2>"$log"; then
  cat "$log" >&2
  if grep -Eq 'E404|ETARGET|No matching version' "$log"; then
    fail 5 "npm has no $PACKAGE@$version: check the input 'version' against the package's published versions."
  fi
  fail 9 "npm could not install $PACKAGE@$version (its messages are above); the registry may be unreachable, so a retry may succeed."
fi
cat "$log" >&2

if [[ ! -x "$bin_dir/secrets" ]]; then
  fail 9 "npm installed $PACKAGE@$version, but $bin_dir/secrets is missing."
fi
if [[ -n "${GITHUB_PATH:-}" ]]; then
  printf '%s\n' "$bin_dir" >>"$GITHUB_PATH"
fi
write_outputs
echo "Installed $("$bin_dir/secrets" --version)"
