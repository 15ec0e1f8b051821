import {spawn, spawnSync} from 'node:child_process'

import {SecretsError} from '../../errors.js'

/**
 * The environment git runs with: enough to find its config and the repository (PATH, HOME, locale and
 * every GIT_* variable, which a pre-commit hook needs for GIT_INDEX_FILE), and nothing else, so no
 * credential of ours (SECRETS_AGE_KEY, VAULT_TOKEN, AWS keys...) ever reaches a child process.
 */
export function gitEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {}
  for (const k of ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'XDG_CONFIG_HOME', 'SYSTEMROOT'])
    if (env[k] !== undefined) out[k] = env[k]
  for (const [k, v] of Object.entries(env)) if (k.startsWith('GIT_') && v !== undefined) out[k] = v
  out.GIT_TERMINAL_PROMPT = '0'
  out.LC_ALL = 'C'
  return out
}

export interface GitOptions {
  cwd: string
  env: NodeJS.ProcessEnv
}

function notInstalled(error: unknown): SecretsError {
  return new SecretsError('UNAVAILABLE', 'git is not installed or not on PATH.', {
    cause: error,
    suggestions: ['Install git, or scan a directory that is not a git repository.'],
  })
}

/** Run git with arguments (paths and options only, never a value); null when it exits non-zero. */
export function gitOutput(args: string[], o: GitOptions): Buffer | null {
  const r = spawnSync('git', args, {
    cwd: o.cwd,
    env: gitEnv(o.env),
    maxBuffer: 1 << 30,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  if (r.error) {
    if ((r.error as NodeJS.ErrnoException).code === 'ENOENT') throw notInstalled(r.error)
    throw r.error
  }
  return r.status === 0 ? r.stdout : null
}

/** The top of the work tree holding `cwd`, or undefined outside a repository (or without git). */
export function gitTopLevel(o: GitOptions): string | undefined {
  try {
    return gitOutput(['rev-parse', '--show-toplevel'], o)?.toString('utf8').trim() || undefined
  } catch (error) {
    if (error instanceof SecretsError) return undefined
    throw error
  }
}

/** Split NUL-terminated git output. */
export function splitZ(buf: Buffer): string[] {
  const text = buf.toString('utf8')
  const parts = text.split('\0')
  if (parts.at(-1) === '') parts.pop()
  return parts
}

/** One blob from `git cat-file --batch`: its id and bytes (null when it is too large to read). */
export interface Blob {
  id: string
  size: number
  data: Buffer | null
}

/**
 * Read blobs through one `git cat-file --batch` process, streaming: each blob is handed to `each` as it
 * arrives, and blobs over `maxBytes` are skipped without being kept in memory.
 */
export async function readBlobs(
  ids: string[],
  o: GitOptions & {maxBytes: number},
  each: (blob: Blob, index: number) => void,
): Promise<void> {
  if (ids.length === 0) return
  const child = spawn('git', ['cat-file', '--batch'], {cwd: o.cwd, env: gitEnv(o.env), stdio: ['pipe', 'pipe', 'pipe']})
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  let pending: Buffer = Buffer.alloc(0)
  let index = 0
  let current: {id: string; size: number; chunks: Buffer[]; got: number} | undefined
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', (error) =>
      reject((error as NodeJS.ErrnoException).code === 'ENOENT' ? notInstalled(error) : error),
    )
    child.on('close', (code) => {
      if (code === 0 && index === ids.length) resolve()
      else
        reject(
          new SecretsError(
            'INTEGRITY',
            `git cat-file could not read the staged files (exit ${code}): ${stderr.trim().split('\n')[0] ?? ''}`,
            {
              suggestions: ['Run `git fsck` to check the repository.'],
            },
          ),
        )
    })
  })
  child.stdout.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
    for (;;) {
      if (current === undefined) {
        const nl = pending.indexOf(0x0a)
        if (nl === -1) return
        const header = pending.subarray(0, nl).toString('utf8').split(' ')
        pending = pending.subarray(nl + 1)
        if (header[1] === 'missing') {
          each({id: header[0], size: 0, data: null}, index++)
          continue
        }
        current = {id: header[0], size: Number(header[2]), chunks: [], got: 0}
      }
      const need = current.size + 1 - current.got
      const take = Math.min(need, pending.length)
      if (current.size <= o.maxBytes) current.chunks.push(pending.subarray(0, take))
      current.got += take
      pending = pending.subarray(take)
      if (current.got < current.size + 1) return
      const data = current.size <= o.maxBytes ? Buffer.concat(current.chunks).subarray(0, current.size) : null
      each({id: current.id, size: current.size, data}, index++)
      current = undefined
    }
  })
  child.stdin.on('error', () => undefined)
  child.stdin.end(`${ids.join('\n')}\n`)
  await done
}
