import {chmodSync, readFileSync, statSync} from 'node:fs'
import {join, resolve} from 'node:path'

import {SecretsError, fsError} from '../../errors.js'
import {writeFileAtomic} from '../lib/atomic-write.js'
import {gitOutput, gitTopLevel, type GitOptions} from './git.js'

const BEGIN = '# >>> secrets scan (added by `secrets scan --install-hook`) >>>'
const END = '# <<< secrets scan <<<'

/** The lines the hook runs: block the commit when the staged files hold a secret. */
export const HOOK_BLOCK = `${BEGIN}
if command -v secrets >/dev/null 2>&1; then
  secrets scan --staged || exit $?
else
  echo "pre-commit: secrets is not on PATH, so the staged files were not scanned for hardcoded secrets." >&2
  exit 1
fi
${END}
`

export interface HookResult {
  file: string
  action: 'created' | 'appended' | 'unchanged'
}

/**
 * Install the pre-commit hook (in `git rev-parse --git-path hooks`, which follows core.hooksPath). A new
 * hook is created; an existing shell hook gets the block appended, unless it may end before reaching it
 * (a top-level `exit` or `exec`) or is not a shell script: then it is left alone and the error says what
 * to add by hand. Installing twice changes nothing.
 */
export function installHook(o: GitOptions): HookResult {
  const top = gitTopLevel(o)
  if (top === undefined) {
    throw new SecretsError('USAGE', `--install-hook needs a git repository, and ${o.cwd} is not inside one.`, {
      suggestions: ['Run it inside the repository (after `git init` for a new one).'],
    })
  }
  const hooks = gitOutput(['rev-parse', '--git-path', 'hooks'], {cwd: top, env: o.env})?.toString('utf8').trim()
  if (!hooks)
    throw new SecretsError('UNAVAILABLE', `git could not tell where the hooks of ${top} are.`, {
      suggestions: ['Run `git rev-parse --git-path hooks` there to see why.'],
    })
  const file = join(resolve(top, hooks), 'pre-commit')
  let existing: string | undefined
  let mode = 0o755
  try {
    existing = readFileSync(file, 'utf8')
    mode = (statSync(file).mode & 0o777) | 0o755
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(error, file, 'reading')
  }
  if (existing === undefined) {
    write(file, `#!/bin/sh\n${HOOK_BLOCK}`, 0o755)
    return {file, action: 'created'}
  }
  if (existing.includes(BEGIN)) {
    if ((statSync(file).mode & 0o111) !== 0o111) chmodSync(file, mode)
    return {file, action: 'unchanged'}
  }
  const shebang = existing.split('\n', 1)[0]
  const why = !/^#!.*\b(?:sh|bash|dash|zsh|ksh)\b/.test(shebang)
    ? `is not a shell script (${shebang.startsWith('#!') ? shebang : 'no #! line'})`
    : /^(?:exit|exec)\b/m.test(existing)
      ? 'has a top-level `exit` or `exec`, so lines appended to it might never run'
      : undefined
  if (why !== undefined) {
    throw new SecretsError(
      'CONFLICT',
      `A pre-commit hook already exists at ${file} and ${why}; it was left unchanged.`,
      {
        suggestions: [
          "Add `secrets scan --staged || exit $?` to it where it runs for every commit (or to your hook manager's pre-commit list).",
        ],
      },
    )
  }
  write(file, `${existing}${existing.endsWith('\n') ? '' : '\n'}\n${HOOK_BLOCK}`, mode)
  return {file, action: 'appended'}
}

function write(file: string, text: string, mode: number): void {
  writeFileAtomic(file, text, mode)
  // The temp file's mode went through the umask; a hook must be executable whatever the umask.
  try {
    chmodSync(file, mode)
  } catch (error) {
    throw fsError(error, file, 'making executable')
  }
}
