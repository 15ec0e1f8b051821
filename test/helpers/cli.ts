import {spawn} from 'node:child_process'
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

  /** Run bin/run.js with args; `input` is piped on stdin (stdin is always a pipe, never a TTY). */
  run(
    args: string[],
    o: {input?: string | Buffer; env?: Record<string, string | undefined>; cwd?: string} = {},
  ): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], {
        cwd: o.cwd ?? this.project,
        env: this.env(o.env),
        stdio: ['pipe', 'pipe', 'pipe'],
      })
      let stdout = ''
      let stderr = ''
      child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d))
      child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d))
      child.on('error', reject)
      child.on('close', (code, signal) => resolve({code, signal, stdout, stderr}))
      child.stdin.on('error', () => undefined)
      child.stdin.end(o.input ?? '')
    })
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
