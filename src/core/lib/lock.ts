import {randomBytes} from 'node:crypto'
import {spawnSync} from 'node:child_process'
import {linkSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync} from 'node:fs'
import {hostname} from 'node:os'
import {basename, dirname, join} from 'node:path'

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
  /** Linux: the kernel's boot id, so a pid from before a reboot is not mistaken for a live holder. */
  boot?: string
  /** Linux: the process start time (clock ticks after boot), so a reused pid is told apart. */
  start?: string
}

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

/** This machine's boot id (Linux), or undefined. */
function bootId(): string | undefined {
  return readProc('/proc/sys/kernel/random/boot_id')?.trim() || undefined
}

/** The start time of process `pid` in clock ticks after boot (Linux /proc), or undefined. */
function startTicks(pid: number): string | undefined {
  const stat = readProc(`/proc/${pid}/stat`)
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
  const fields = stat?.slice(stat.lastIndexOf(')') + 2).split(' ')
  const start = fields?.[19]
  return start !== undefined && /^\d+$/.test(start) ? start : undefined
}

/**
 * When process `pid` started, as a wall-clock time in ms, where that can be learned: Linux from /proc
 * (boot time plus start ticks at USER_HZ, which is 100 on every Linux architecture), elsewhere `ps`.
 */
function startedAt(pid: number): number | undefined {
  const ticks = startTicks(pid)
  if (ticks !== undefined) {
    const btime = /^btime (\d+)$/m.exec(readProc('/proc/stat') ?? '')?.[1]
    return btime === undefined ? undefined : Number(btime) * 1000 + Number(ticks) * 10
  }
  if (process.platform === 'win32') return undefined
  const ps = spawnSync('ps', ['-o', 'lstart=', '-p', String(pid)], {encoding: 'utf8', timeout: 2000})
  const t = ps.status === 0 ? Date.parse(ps.stdout.trim()) : Number.NaN
  return Number.isFinite(t) ? t : undefined
}

let self: Pick<Owner, 'boot' | 'start'> | undefined

/** What identifies this process beyond its pid, computed once. */
function selfIdentity(): Pick<Owner, 'boot' | 'start'> {
  self ??= {boot: bootId(), start: startTicks(process.pid)}
  return self
}

function ownerText(o: Owner): string {
  return `${o.pid}\n${o.host}\n${o.token}\n${o.boot ?? ''}\n${o.start ?? ''}\n`
}

/** The owner record of a lock file; undefined when missing or not a record (a corrupt or foreign file). */
function readOwner(file: string): Owner | undefined {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
  const [pid, host, token, boot, start] = text.split('\n')
  if (!/^[1-9]\d*$/.test(pid ?? '') || !host || !token) return {pid: Number.NaN, host: '', token: ''}
  return {pid: Number(pid), host, token, boot: boot || undefined, start: start || undefined}
}

const malformed = (o: Owner) => !Number.isInteger(o.pid)

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
  writeFileSync(tmp, ownerText(owner), {mode: 0o600})
  try {
    linkSync(tmp, target)
    return true
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    // ENOENT: our token file was swept as a leftover in the instant before the link; just retry.
    if (code === 'EEXIST' || code === 'ENOENT') return false
    throw error
  } finally {
    try {
      unlinkSync(tmp)
    } catch {
      // Swept already.
    }
  }
}

function mtimeOf(file: string): number | undefined {
  try {
    return statSync(file).mtimeMs
  } catch {
    return undefined
  }
}

/**
 * Whether the owner of lock `file` is certainly gone. On this host: its pid is dead, or the pid now
 * belongs to another process (another boot, another start time, or started after the lock was made:
 * pid 1 in a restarted container). On another host: the lock is older than FOREIGN_STALE_MS.
 */
function isAbandoned(file: string, owner: Owner | undefined): boolean {
  if (owner === undefined) return false
  // Locks are created whole with link(2), so a record that does not parse was never a live lock.
  if (malformed(owner)) return true
  const mtime = mtimeOf(file)
  if (owner.host !== hostname()) return mtime !== undefined && Date.now() - mtime > FOREIGN_STALE_MS
  if (!isAlive(owner.pid)) return true
  const now = selfIdentity()
  if (owner.boot !== undefined && now.boot !== undefined) {
    if (owner.boot !== now.boot) return true
    const start = startTicks(owner.pid)
    if (owner.start !== undefined && start !== undefined) return start !== owner.start
  }
  if (mtime === undefined) return false
  // No start time in the record (another system, or an older version): compare the running process's
  // start with the lock's age; a process that started after the lock was made cannot hold it.
  const started = startedAt(owner.pid)
  if (started !== undefined) return started > mtime + 1000
  return Date.now() - mtime > FOREIGN_STALE_MS
}

/**
 * Remove what killed lockers left beside the lock: their private `<lock>.<token>` files (written before
 * the link(2) that takes the lock) and steal-guard temps, once their owner is gone. Called while
 * holding the lock.
 */
function sweepLockTemps(file: string): void {
  const prefix = `${basename(file)}.`
  let names: string[]
  try {
    names = readdirSync(dirname(file))
  } catch {
    return
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || name === `${prefix}steal`) continue
    if (!/^[0-9a-f]{16}(-g)?$/.test(name.slice(prefix.length).replace(/^steal\./, ''))) continue
    const path = join(dirname(file), name)
    const owner = readOwner(path)
    // A contender's token file is written, then linked: it may be seen empty for a moment.
    const young = Date.now() - (mtimeOf(path) ?? Date.now()) < GUARD_STALE_MS
    if (owner === undefined || (malformed(owner) && young) || !isAbandoned(path, owner)) continue
    try {
      unlinkSync(path)
    } catch {
      // Gone already.
    }
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

/** Who holds a lock, for the LOCKED message. */
const holder = (owner: Owner | undefined): string =>
  owner === undefined || malformed(owner)
    ? 'held by an unknown process: the lock file vanished or is not a lock record'
    : `held by process ${owner.pid} on ${owner.host}`

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Run `fn` while holding an exclusive lock on `target` (a `<target>.lock` file next to it). Locks held
 * by a process that died (same host) are recovered at once; a lock held by a live process is waited for.
 */
export async function withLock<T>(target: string, fn: () => Promise<T> | T): Promise<T> {
  const file = `${target}.lock`
  ensureDir(dirname(target))
  const me: Owner = {pid: process.pid, host: hostname(), token: randomBytes(8).toString('hex'), ...selfIdentity()}
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
      throw new SecretsError('LOCKED', `Timed out waiting for the lock on ${target} (${holder(owner)}).`, {
        retryable: true,
        suggestions: [`Wait for that process to finish and retry. If it is certainly gone, delete ${file}.`],
      })
    }
    await sleep(delay + Math.random() * delay)
    delay = Math.min(delay * 2, 100)
  }
  sweepLockTemps(file)
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
