#!/bin/sh
# The README's quick start: a throwaway project in ./demo, an encrypted local store, one secret,
# and a child process that receives it. Uses (and creates if missing) your identity in
# ${XDG_CONFIG_HOME:-~/.config}/secrets/identity.txt, exactly as `secrets init` does for real use.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
secrets="$root/bin/run.js"
rm -rf "$root/demo" && mkdir -p "$root/demo" && cd "$root/demo"
"$secrets" init --yes
printf %s "demo-$(date +%s)-value" | "$secrets" set SESSION_SECRET
"$secrets" list
"$secrets" exec -- node -e 'console.log("child got SESSION_SECRET (" + process.env.SESSION_SECRET.length + " characters)")'
