import {spawnSync} from 'node:child_process'
import {chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {delimiter, join, resolve} from 'node:path'
import {parse} from 'yaml'

import {BIN, ROOT, type Sandbox} from './cli.js'

/** One step of a composite action, as action.yml declares it. */
export interface ActionStep {
  name?: string
  id?: string
  shell?: string
  run?: string
  uses?: string
  env?: Record<string, string>
  'working-directory'?: string
}

/** action.yml, parsed. */
export interface ActionFile {
  name: string
  description: string
  inputs: Record<string, {description: string; required?: boolean; default?: string}>
  runs: {using: string; steps: ActionStep[]}
}

export function readAction(): ActionFile {
  return parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as ActionFile
}

/** Every `${{ ... }}` expression of a text, trimmed. */
export function expressions(text: string): string[] {
  return [...text.matchAll(/\$\{\{\s*([\s\S]*?)\s*\}\}/g)].map((m) => m[1])
}

/** What one step did. */
export interface StepResult {
  name: string
  code: number | null
  stdout: string
  stderr: string
}

/** What a run of the whole action did: its steps (up to the first that failed) and the job's files. */
export interface ActionRun {
  /** The runner's directory (RUNNER_TEMP is its temp/, GITHUB_ENV its github_env). */
  dir: string
  steps: StepResult[]
  /** The exit status of the last step that ran (the action's outcome). */
  code: number | null
  githubEnv: string
  githubPath: string[]
  /** The arguments npm was called with, one per line, or undefined when it was not called. */
  npmArgs?: string[]
}

/** How the stand-in for npm behaves: installs a `secrets` that runs this checkout's bin/run.js, or fails. */
export type FakeNpm = 'install' | 'e404' | 'offline'

const FAKE_NPM = `#!/bin/sh
printf '%s\\n' "$@" > "$FAKE_NPM_ARGS"
case "$FAKE_NPM" in
  e404) echo 'npm error code E404' >&2; echo 'npm error 404 Not Found - GET .../secrets-cli - Not found' >&2; exit 1 ;;
  offline) echo 'npm error code ECONNREFUSED' >&2; exit 1 ;;
esac
for arg; do
  if [ "$last" = --prefix ]; then prefix="$arg"; fi
  last="$arg"
done
mkdir -p "$prefix/node_modules/.bin" "$prefix/node_modules/secrets-cli"
for spec; do :; done
printf '{"name": "secrets-cli", "version": "%s"}\n' "\${spec#secrets-cli@}" > "$prefix/node_modules/secrets-cli/package.json"
printf '#!/bin/sh\\nexec "%s" "%s" "$@"\\n' "$FAKE_NODE" "$FAKE_BIN" > "$prefix/node_modules/.bin/secrets"
chmod 755 "$prefix/node_modules/.bin/secrets"
`

/**
 * A runner's files and the stand-ins on PATH (npm, and optionally a node that reports another version):
 * a new runner, or the one of an earlier run (a later use of the action in the same job).
 */
function runnerFiles(sb: Sandbox, nodeVersion?: string, reuse?: string) {
  const dir = reuse ?? mkdtempSync(join(sb.root, 'runner-'))
  const fakebin = join(dir, 'fakebin')
  mkdirSync(join(dir, 'temp'), {recursive: true})
  mkdirSync(fakebin, {recursive: true})
  writeFileSync(join(fakebin, 'npm'), FAKE_NPM)
  chmodSync(join(fakebin, 'npm'), 0o755)
  if (nodeVersion !== undefined) {
    const fake = `#!/bin/sh\nif [ "$1" = -p ]; then echo ${nodeVersion}; exit 0; fi\nexec "${process.execPath}" "$@"\n`
    writeFileSync(join(fakebin, 'node'), fake)
    chmodSync(join(fakebin, 'node'), 0o755)
  }
  const files = {env: join(dir, 'github_env'), path: join(dir, 'github_path'), npmArgs: join(dir, 'npm-args')}
  if (reuse === undefined) for (const f of [files.env, files.path]) writeFileSync(f, '')
  rmSync(files.npmArgs, {force: true})
  return {dir, fakebin, files}
}

/** `name=value` lines (and `name<<DELIM` blocks) of a $GITHUB_OUTPUT file. */
function readOutputs(file: string): Record<string, string> {
  const out: Record<string, string> = {}
  const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n') : []
  for (let i = 0; i < lines.length; i++) {
    const heredoc = /^([\w-]+)<<(.+)$/.exec(lines[i])
    if (heredoc) {
      const end = lines.indexOf(heredoc[2], i + 1)
      out[heredoc[1]] = lines.slice(i + 1, end).join('\n')
      i = end
    } else if (lines[i].includes('=')) {
      out[lines[i].slice(0, lines[i].indexOf('='))] = lines[i].slice(lines[i].indexOf('=') + 1)
    }
  }
  return out
}

/**
 * Runs action.yml's steps the way the runner does, on this machine: each `run:` under its `shell:` with
 * the step's `env:` and `working-directory`, `${{ inputs.* }}` and `${{ steps.*.outputs.* }}` filled in,
 * GITHUB_ENV, GITHUB_OUTPUT, GITHUB_PATH and RUNNER_TEMP as files of a temporary runner, PATH additions
 * applied to later steps, and a stop at the first step that fails. npm is a stand-in (see FakeNpm).
 */
export function runAction(
  sb: Sandbox,
  inputs: Record<string, string>,
  o: {npm?: FakeNpm; jobEnv?: Record<string, string>; nodeVersion?: string; runner?: string} = {},
): ActionRun {
  const action = readAction()
  for (const name of Object.keys(inputs)) if (!(name in action.inputs)) throw new Error(`no input ${name}`)
  const value = (name: string) => inputs[name] ?? action.inputs[name]?.default ?? ''
  const {dir, fakebin, files} = runnerFiles(sb, o.nodeVersion, o.runner)
  const outputs: Record<string, Record<string, string>> = {}
  const evaluate = (text: string) =>
    text.replaceAll(/\$\{\{\s*([\s\S]*?)\s*\}\}/g, (_, expr: string) => {
      const input = /^inputs\.([\w-]+)$/.exec(expr)
      if (input) return value(input[1])
      const output = /^steps\.([\w-]+)\.outputs\.([\w-]+)$/.exec(expr)
      if (output) return outputs[output[1]]?.[output[2]] ?? ''
      throw new Error(`action.yml uses an expression this runner does not know: ${expr}`)
    })
  const steps: StepResult[] = []
  for (const [i, step] of action.runs.steps.entries()) {
    if (step.shell !== 'bash' || step.run === undefined) throw new Error(`step ${i} is not a bash run step`)
    const outputFile = join(dir, `output-${i}`)
    writeFileSync(outputFile, '')
    const added = readFileSync(files.path, 'utf8').split('\n').filter(Boolean).reverse()
    const env = sb.env({
      ...o.jobEnv,
      PATH: [...added, fakebin, process.env.PATH].join(delimiter),
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_ACTION_PATH: ROOT,
      GITHUB_WORKSPACE: sb.project,
      GITHUB_ENV: files.env,
      GITHUB_PATH: files.path,
      GITHUB_OUTPUT: outputFile,
      RUNNER_TEMP: join(dir, 'temp'),
      FAKE_NPM: o.npm ?? 'install',
      FAKE_NPM_ARGS: files.npmArgs,
      FAKE_NODE: process.execPath,
      FAKE_BIN: BIN,
      ...Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, evaluate(String(v))])),
    })
    const cwd = resolve(sb.project, evaluate(step['working-directory'] ?? '.'))
    // The runner writes the step's script to a file and runs `bash --noprofile --norc -eo pipefail FILE`.
    const script = join(dir, `step-${i}.sh`)
    writeFileSync(script, step.run)
    const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', script], {
      cwd,
      env,
      encoding: 'utf8',
      timeout: 60_000,
    })
    steps.push({name: step.name ?? `step ${i}`, code: r.status, stdout: r.stdout, stderr: r.stderr})
    if (step.id) outputs[step.id] = readOutputs(outputFile)
    if (r.status !== 0) break
  }
  return {
    dir,
    steps,
    code: steps.at(-1)?.code ?? null,
    githubEnv: readFileSync(files.env, 'utf8'),
    githubPath: readFileSync(files.path, 'utf8').split('\n').filter(Boolean),
    npmArgs: existsSync(files.npmArgs) ? readFileSync(files.npmArgs, 'utf8').trimEnd().split('\n') : undefined,
  }
}

/** The `NAME<<DELIMITER` blocks of a $GITHUB_ENV file, as [name, value] pairs. */
export function envBlocks(text: string): Array<[string, string]> {
  return [...text.matchAll(/^(\w+)<<(ghadelimiter_[0-9a-f-]+)\n([\s\S]*?)\n\2\n/gm)].map((m) => [m[1], m[3]])
}
