import {randomBytes} from 'node:crypto'
import {linkSync, readFileSync, statSync, unlinkSync, writeFileSync} from 'node:fs'
import {hostname} from 'node:os'
import {dirname} from 'node:path'

import {SecretsError, fsError} from '../../errors.js'
import {ensureDir} from './atomic-write.js'

/** How long to wait for a lock before giving up, overridable with SECRETS_LOCK_TIMEOUT (seconds). */
function lockTimeoutMs(): number {
  const fromEnv = Number(process.env.SECRETS_LOCK_TIMEOUT)
  return Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv * 1000 : 30_000
}

/** A lock whose owner lives on another host is considered abandoned after this long. */
const FOREIGN_STALE_MS = 5 * 60_000
/** The steal guard is held for microseconds; one older than this was left by a crash. */
const GUARD_STALE_MS = 10_000

interface Owner {
  pid: number
  host: string
  token: string
}

function readOwner(file: string): Owner | undefined {
  try {
    const [pid, host, token] = readFileSync(file, 'utf8').split('\n')
    return {pid: Number(pid), host, token}
  } catch {
    return undefined
  }
}

/** Whether process `pid` runs on this host (EPERM: it runs, as another user). */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Create `target` holding our owner record, atomically: write a private temp file, then link() it. */
function tryCreate(target: string, owner: Owner): boolean {
  const tmp = `${target}.${owner.token}`
  writeFileSync(tmp, `${owner.pid}\n${owner.host}\n${owner.token}\n`, {mode: 0o600})
  try {
    linkSync(tmp, target)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw error
  } finally {
    unlinkSync(tmp)
  }
}

function isAbandoned(file: string, owner: Owner | undefined): boolean {
  if (owner === undefined) return false
  if (owner.host === hostname()) return !isAlive(owner.pid)
  try {
    return Date.now() - statSync(file).mtimeMs > FOREIGN_STALE_MS
  } catch {
    return false
  }
}

/**
 * Remove a lock left by a dead process. Stealing happens under a short-lived guard so that two
 * contenders cannot both decide the lock is stale and remove each other's fresh lock.
 */
function stealIfAbandoned(file: string, me: Owner): void {
  const guard = `${file}.steal`
  if (!tryCreate(guard, {...me, token: `${me.token}-g`})) {
    try {
      if (Date.now() - statSync(guard).mtimeMs > GUARD_STALE_MS) unlinkSync(guard)
    } catch {
      // Someone else is handling it.
    }
    return
  }
  try {
    const owner = readOwner(file)
    if (isAbandoned(file, owner)) unlinkSync(file)
  } catch {
    // The lock vanished in between: fine, we just retry.
  } finally {
    try {
      unlinkSync(guard)
    } catch {
      // Already gone.
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Run `fn` while holding an exclusive lock on `target` (a `<target>.lock` file next to it). Locks held
 * by a process that died (same host) are recovered at once; a lock held by a live process is waited for.
 */
export async function withLock<T>(target: string, fn: () => Promise<T> | T): Promise<T> {
  const file = `${target}.lock`
  ensureDir(dirname(target))
  const me: Owner = {pid: process.pid, host: hostname(), token: randomBytes(8).toString('hex')}
  const deadline = Date.now() + lockTimeoutMs()
  let delay = 5
  for (;;) {
    let created: boolean
    try {
      created = tryCreate(file, me)
    } catch (error) {
      throw fsError(error, file, 'creating lock file')
    }
    if (created) break
    const owner = readOwner(file)
    if (isAbandoned(file, owner)) {
      stealIfAbandoned(file, me)
      continue
    }
    if (Date.now() > deadline) {
      throw new SecretsError(
        'LOCKED',
        `Timed out waiting for the lock on ${target} (held by process ${owner?.pid ?? '?'} on ${owner?.host ?? '?'}).`,
        {
          retryable: true,
          suggestions: [`Wait for that process to finish and retry. If it is certainly gone, delete ${file}.`],
        },
      )
    }
    await sleep(delay + Math.random() * delay)
    delay = Math.min(delay * 2, 100)
  }
  try {
    return await fn()
  } finally {
    try {
      if (readOwner(file)?.token === me.token) unlinkSync(file)
    } catch {
      // Nothing to release.
    }
  }
}
