import {spawn, type ChildProcess} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, existsSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const BIN = join(ROOT, 'bin', 'run.js')

export interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** How a command is run: stdin text, extra environment, working directory, Node flags before bin/run.js. */
export interface RunOptions {
  input?: string | Buffer
  env?: Record<string, string | undefined>
  cwd?: string
  /** Node options before bin/run.js (e.g. `--import` of a tracing hook). */
  node?: string[]
  /** Called with each chunk of stderr as it arrives (to react while the command runs). */
  onStderr?: (text: string, child: ChildProcess) => void
}

/** A started command: the child (to signal it) and its result once it ends. */
export interface Running {
  child: ChildProcess
  done: Promise<RunResult>
}

/** The environment a runner adds to every command, as values or computed at each call. */
export type RunnerEnv = Record<string, string | undefined> | (() => Record<string, string | undefined>)

/** `run` with a default environment (a command's own `env` wins). */
export type Runner = (args: string[], o?: RunOptions) => Promise<RunResult>

/** A throwaway user and project: its own HOME, XDG dirs and project directory. */
export class Sandbox {
  readonly root: string
  readonly home: string
  readonly project: string

  constructor() {
    this.root = mkdtempSync(join(tmpdir(), 'secrets-test-'))
    this.home = join(this.root, 'home')
    this.project = join(this.root, 'project')
    mkdirSync(this.home, {recursive: true})
    mkdirSync(this.project, {recursive: true})
  }

  /** The environment a command runs with: nothing from the developer's own setup leaks in. */
  env(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
    const base: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: this.home,
      USER: 'tester',
      LANG: 'C.UTF-8',
      NO_COLOR: '1',
      SECRETS_SCRYPT_LOG_N: '12',
    }
    const out: NodeJS.ProcessEnv = {...base}
    for (const [k, v] of Object.entries(extra)) {
      if (v === undefined) delete out[k]
      else out[k] = v
    }
    return out
  }

  /** Start bin/run.js with args without waiting for it; stdin is a pipe that gets `input` and is closed. */
  start(args: string[], o: RunOptions = {}): Running {
    const child = spawn(process.execPath, [...(o.node ?? []), BIN, ...args], {
      cwd: o.cwd ?? this.project,
      env: this.env(o.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
      o.onStderr?.(stderr, child)
    })
    const done = new Promise<RunResult>((resolve, reject) => {
      child.on('error', reject)
      child.on('close', (code, signal) => resolve({code, signal, stdout, stderr}))
    })
    child.stdin.on('error', () => undefined)
    child.stdin.end(o.input ?? '')
    return {child, done}
  }

  /** Run bin/run.js with args; `input` is piped on stdin (stdin is always a pipe, never a TTY). */
  run(args: string[], o: RunOptions = {}): Promise<RunResult> {
    return this.start(args, o).done
  }

  /** A `run` that adds `env` to every command (the command's own `env` wins). */
  runner(env: RunnerEnv): Runner {
    return (args, o = {}) => this.run(args, {...o, env: {...(typeof env === 'function' ? env() : env), ...o.env}})
  }

  async init(): Promise<void> {
    const r = await this.run(['init', '--yes'])
    if (r.code !== 0) throw new Error(`init failed: ${r.stderr}`)
  }

  get storeFile(): string {
    return join(this.project, '.secrets', 'store.json')
  }

  get auditFile(): string {
    return join(this.home, '.local', 'state', 'secrets', 'audit.jsonl')
  }

  get identityFile(): string {
    return join(this.home, '.config', 'secrets', 'identity.txt')
  }

  auditText(): string {
    return existsSync(this.auditFile) ? readFileSync(this.auditFile, 'utf8') : ''
  }

  cleanup(): void {
    rmSync(this.root, {recursive: true, force: true})
  }
}
