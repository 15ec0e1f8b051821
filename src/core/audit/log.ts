import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs'

import {SecretsError, fsError} from '../../errors.js'
import type {Actor} from '../actor.js'
import {loadAuditKeys, valueFingerprint, type AuditKeys} from './key.js'
import {withLock} from '../lib/lock.js'
import {
  GENESIS,
  auditHeadFile,
  auditLogFile,
  headMac,
  linkOf,
  sealedSegments,
  segmentBytes,
  segmentName,
  type AuditEvent,
  type AuditRecord,
} from './record.js'

// The log's record types and file names live in record.ts; they are the writer's public face too.
export {auditLogFile, type AuditEvent, type AuditOutcome, type AuditRecord} from './record.js'

/**
 * The last complete record line of a file, and where the complete lines end (a torn last write is cut
 * off). Blank lines (a stray newline added by an editor or `echo >>`) carry nothing and are passed over:
 * the chain goes on from the last record before them, and `audit verify` reports them.
 */
function readTail(fd: number, size: number): {line?: string; end: number} {
  let chunk = 4096
  for (;;) {
    const start = Math.max(0, size - chunk)
    const buf = Buffer.alloc(size - start)
    readSync(fd, buf, 0, buf.length, start)
    const lastNl = buf.lastIndexOf(10)
    if (lastNl === -1) {
      if (start === 0) return {end: 0}
      chunk *= 4
      continue
    }
    const end = start + lastNl + 1
    let stop = lastNl
    for (;;) {
      const before = stop === 0 ? -1 : buf.lastIndexOf(10, stop - 1)
      if (before === -1 && start > 0) break
      const line = buf.subarray(before + 1, stop).toString('utf8')
      if (line.trim() !== '') return {line, end}
      if (before === -1) return {end}
      stop = before
    }
    chunk *= 4
  }
}

/** The sequence number of a record line (0 for a version 1 record, which has none). */
function seqOf(line: string, file: string): number {
  try {
    const r = JSON.parse(line) as Partial<AuditRecord>
    if (r.v === 1) return 0
    if (r.v === 2 && Number.isSafeInteger(r.seq)) return r.seq!
  } catch {
    // Reported below.
  }
  throw new SecretsError(
    'INTEGRITY',
    `The last record of the access log ${file} is corrupt, so no access can be recorded after it.`,
    {
      suggestions: [
        'Run `secrets audit verify` to see what changed. To start a new log, move the old log files aside.',
      ],
    },
  )
}

/** Where the chain goes on: the last record before this append, and the file it is in. */
interface Tail {
  /** The last complete record line, if there is one (in the active file or the newest sealed segment). */
  line?: string
  /** Where the active file's complete lines end. */
  end: number
  /** The file `line` is in. */
  file: string
  /** The number an empty active file gets (it becomes that sealed segment when it rolls over). */
  activeSeg?: number
  /** The active file holds no record yet (its first one names its segment). */
  activeEmpty: boolean
}

function findTail(fd: number, size: number, file: string): Tail {
  const tail = size === 0 ? {end: 0} : readTail(fd, size)
  if (tail.line !== undefined) return {...tail, file, activeEmpty: false}
  // An empty active file: the first use, or after earlier segments, whose chain goes on here.
  const newest = sealedSegments(file).at(-1)
  const activeSeg = (newest?.n ?? 0) + 1
  if (newest === undefined) return {end: tail.end, file, activeSeg, activeEmpty: true}
  const sfd = openSync(newest.file, 'r')
  try {
    return {...readTail(sfd, fstatSync(sfd).size), end: tail.end, file: newest.file, activeSeg, activeEmpty: true}
  } finally {
    closeSync(sfd)
  }
}

/** What every rendering of one append shares (it is rendered again if the log rolls over first). */
interface Batch {
  events: AuditEvent[]
  actor: Actor
  keys: AuditKeys
  firstSeq: number
  firstPrev: string
  time: string
  fps: Array<string | undefined>
  torn: number
}

/** The lines to append; the first record of a file names its segment number. */
function renderBatch(b: Batch, seg: number | undefined, seal?: string): {bytes: Buffer; last: string} {
  let prev = b.firstPrev
  let out = ''
  for (const [i, event] of b.events.entries()) {
    const {value: _value, ...fields} = event
    const record: AuditRecord = {
      v: 2,
      seq: b.firstSeq + i,
      ...(i === 0 && seg !== undefined ? {seg} : {}),
      ...(i === 0 && seal !== undefined ? {seal} : {}),
      time: b.time,
      user: b.actor.user,
      host: b.actor.host,
      ...(b.actor.ci ? {ci: b.actor.ci} : {}),
      pid: process.pid,
      ...fields,
      ...(b.fps[i] === undefined ? {} : {fp: b.fps[i]}),
      ...(i === 0 && b.torn > 0 ? {torn: b.torn} : {}),
      prev,
    }
    const line = JSON.stringify(record)
    prev = linkOf(b.keys, line)
    out += `${line}\n`
  }
  return {bytes: Buffer.from(out, 'utf8'), last: prev}
}

function openActive(file: string): number {
  return openSync(file, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT, 0o600)
}

/**
 * At rollover: the seal for the full active file's successor to carry, and the sealed segment number
 * the file is renamed to.
 */
async function sealActive(
  file: string,
  fd: number,
  size: number,
  keys: AuditKeys,
): Promise<{sealed: number; seal?: string}> {
  // Rare (once per segment), so the seal code loads only now.
  const {firstInfo, sealIfIntact} = await import('./seal.js')
  const seal = sealIfIntact(file, {file, fd, size}, keys, readHeadText(file))
  // The file becomes the segment its first record names (never over an existing file).
  let sealed = firstInfo({file, fd, size}).seg
  if (sealed === undefined || existsSync(segmentName(file, sealed))) sealed = (sealedSegments(file).at(-1)?.n ?? 0) + 1
  return {sealed, seal}
}

/** Write all of `bytes` at the end; on failure, cut the file back to `size` so no half record remains. */
function writeRecords(fd: number, bytes: Buffer, size: number, env: NodeJS.ProcessEnv): void {
  try {
    let off = 0
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off)
    // On by default: a record must survive a crash of the machine, not only of this process.
    if (env.SECRETS_AUDIT_FSYNC !== '0') fsyncSync(fd)
  } catch (error) {
    try {
      ftruncateSync(fd, size)
    } catch {
      // The error below is what matters.
    }
    throw error
  }
}

/**
 * Append records to the access log (JSON lines, 0600, in the user's state directory). Each carries the
 * HMAC of the previous line under the per-installation audit key and the next sequence number; the
 * head file keeps the last ones, so any record changed, inserted, removed or reordered is visible to
 * `audit verify`. When the log outgrows the segment size it is renamed to the next sealed segment and
 * the chain goes on in a new file. All of it happens under the log's lock, so concurrent processes keep
 * one chain. A log that cannot be written is an error: an access that cannot be recorded does not happen.
 */
export async function appendAudit(
  events: AuditEvent[],
  actor: Actor,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  if (events.length === 0) return
  await append(actor, env, async () => events)
}

/**
 * Make a change and record it together: the log is opened, checked and made ready under its lock
 * first, then `change` runs (still under the lock), then its records are written. A log that cannot
 * take the record stops the change before it is made. Only a failure of the final write itself (the
 * disk filling up in between) can leave a change unrecorded, and its error says so.
 */
export async function recordChange<T>(
  change: () => Promise<T>,
  events: (result: T) => AuditEvent[],
  actor: Actor,
  env: NodeJS.ProcessEnv = process.env,
): Promise<T> {
  let result: {value: T} | undefined
  await append(actor, env, async () => {
    result = {value: await change()}
    return events(result.value)
  })
  return result!.value
}

/** Errors raised by the access log itself (not by a change made under its lock). */
const auditFailures = new WeakSet<Error>()

/** Whether an error came from the access log (so recording the failure again is pointless and untrue). */
export function isAuditFailure(error: unknown): boolean {
  return error instanceof Error && auditFailures.has(error)
}

async function append(actor: Actor, env: NodeJS.ProcessEnv, produce: () => Promise<AuditEvent[]>): Promise<void> {
  const file = auditLogFile(env)
  /** Set once `produce` ran: the change is made, and an error after it must say so. */
  let changed = false
  // withLock creates the log's directory (0700) before it takes the lock.
  await withLock(file, async () => {
    let fd: number | undefined
    let keys: AuditKeys | undefined
    let written = false
    try {
      fd = openActive(file)
      let {size} = fstatSync(fd)
      const tail = findTail(fd, size, file)
      const torn = size - tail.end
      // Version 1 records were not keyed: a log of only those gets a new key.
      keys = loadAuditKeys(env, {create: true, logExists: tail.line?.startsWith('{"v":2,') ?? false})
      const lastSeq = tail.line === undefined ? 0 : seqOf(tail.line, tail.file)
      const firstPrev = tail.line === undefined ? GENESIS : linkOf(keys, tail.line)
      if (!keys.created) checkAnchor(file, keys, lastSeq, firstPrev)
      let events: AuditEvent[]
      try {
        events = await produce()
      } catch (error) {
        throw new ChangeFailed(error)
      }
      changed = true
      if (events.length === 0) return
      if (torn > 0) {
        ftruncateSync(fd, tail.end)
        size = tail.end
      }
      const batch: Batch = {
        events,
        actor,
        keys,
        firstSeq: lastSeq + 1,
        firstPrev,
        time: new Date().toISOString(),
        fps: events.map((e) => (e.value === undefined ? undefined : valueFingerprint(keys!, e.value.reveal()))),
        torn,
      }
      let {bytes, last} = renderBatch(batch, tail.activeEmpty ? (tail.activeSeg ?? 1) : undefined)
      if (size > 0 && size + bytes.length > segmentBytes(env)) {
        const {sealed, seal} = await sealActive(file, fd, size, keys)
        closeSync(fd)
        fd = undefined
        renameSync(file, segmentName(file, sealed))
        fd = openActive(file)
        size = 0
        ;({bytes, last} = renderBatch(batch, sealed + 1, seal))
      }
      writeRecords(fd, bytes, size, env)
      written = true
      writeHead(file, keys, batch.firstSeq + events.length - 1, last)
    } catch (error) {
      // A key made by this append belongs to records that were never written: a key without a log
      // would read as a removed log.
      if (keys?.created && !written) removeKey(keys.file)
      if (error instanceof ChangeFailed) throw error.cause
      const mapped = auditError(error, file, changed, written)
      if (mapped instanceof Error) auditFailures.add(mapped)
      throw mapped
    } finally {
      if (fd !== undefined) closeSync(fd)
    }
  })
}

/** A change made under the log's lock failed: its own error is what the caller sees. */
class ChangeFailed extends Error {
  constructor(override readonly cause: unknown) {
    super('change failed')
  }
}

function removeKey(file: string): void {
  try {
    unlinkSync(file)
  } catch {
    // The error being reported matters more.
  }
}

function anchorError(message: string): SecretsError {
  return new SecretsError('INTEGRITY', `${message} No access can be recorded after it, so none is performed.`, {
    suggestions: [
      'Run `secrets audit verify` to see what changed. To start a new log on purpose, move the log files (with its .head file) and the audit key aside together; with SECRETS_AUDIT_LOG and SECRETS_AUDIT_KEY_FILE pointing at them the old log can still be verified.',
    ],
  })
}

/**
 * The head file anchors the chain: it is written with the first keyed record and MACed with the audit
 * key, so while the key exists a log that was emptied, cut short or replaced (for example by unkeyed
 * version 1 records) no longer reaches the head. Appending to it would start a fresh chain that hides
 * the removal, so the append is refused.
 */
function checkAnchor(file: string, keys: AuditKeys, lastSeq: number, lastLink: string): void {
  const headFile = auditHeadFile(file)
  const text = readHeadText(file)
  if (text === undefined) {
    throw anchorError(
      `The access log's head file ${headFile} is missing although its audit key ${keys.file} exists: the log was removed, emptied or replaced.`,
    )
  }
  let head: {kid?: unknown; seq?: unknown; mac?: unknown}
  try {
    head = JSON.parse(text) as typeof head
  } catch {
    head = {}
  }
  if (typeof head.kid !== 'string' || !Number.isSafeInteger(head.seq) || typeof head.mac !== 'string')
    throw anchorError(`The access log's head file ${headFile} is corrupt.`)
  if (head.kid !== keys.kid)
    throw anchorError(`The access log ${file} was written with another audit key than ${keys.file}.`)
  const seq = head.seq as number
  if (seq > lastSeq) {
    throw anchorError(
      `The access log ${file} ends at seq ${lastSeq}, but its head file says seq ${seq}: records were removed from the end, or the log was emptied or replaced.`,
    )
  }
  if (seq === lastSeq && headMac(keys, seq, lastLink) !== head.mac)
    throw anchorError(`The last record of the access log ${file} (seq ${seq}) is not the one its head file covers.`)
}

/** The head is one fixed-size line rewritten in place with a single write. */
const HEAD_BYTES = 192

function readHeadText(log: string): string | undefined {
  try {
    return readFileSync(auditHeadFile(log), 'utf8').trim()
  } catch {
    return undefined
  }
}

/** The head: the last sequence number and a MAC over it and the last record's link. */
function writeHead(log: string, keys: AuditKeys, seq: number, link: string): void {
  const text = JSON.stringify({v: 2, kid: keys.kid, seq, mac: headMac(keys, seq, link)})
  const buf = Buffer.from(`${text.padEnd(HEAD_BYTES - 1)}\n`)
  const fd = openSync(auditHeadFile(log), constants.O_WRONLY | constants.O_CREAT, 0o600)
  try {
    writeSync(fd, buf, 0, buf.length, 0)
  } finally {
    closeSync(fd)
  }
}

function auditError(error: unknown, file: string, changed: boolean, written: boolean): Error {
  if (error instanceof SecretsError && !changed) return error
  const mapped = fsError(error, file, 'appending to the audit log')
  if (changed) {
    // The change is made; only its record is missing. Say so, rather than "nothing was changed".
    const code = (error as NodeJS.ErrnoException)?.code ?? (error instanceof SecretsError ? error.code : 'error')
    return new SecretsError(
      mapped instanceof SecretsError ? mapped.code : 'UNAVAILABLE',
      written
        ? `The change was made and recorded, but the head file of the access log ${file} could not be updated (${code}).`
        : `The change was made, but its record could not be written to the access log ${file} (${code}).`,
      {
        cause: error,
        suggestions: ['Free disk space or fix the log file, then run `secrets audit verify`.'],
      },
    )
  }
  if (mapped instanceof SecretsError) {
    return new SecretsError(
      mapped.code,
      `${mapped.message} The access was not performed because it could not be recorded.`,
      {
        cause: error,
        suggestions: [
          ...mapped.suggestions,
          'Set SECRETS_AUDIT_LOG to a writable file, or fix the state directory (XDG_STATE_HOME).',
        ],
      },
    )
  }
  return mapped
}
