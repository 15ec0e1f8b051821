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

/** The last complete line of a file, and where the complete lines end (a torn last write is cut off). */
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
    const before = lastNl === 0 ? -1 : buf.lastIndexOf(10, lastNl - 1)
    if (before === -1 && start > 0) {
      chunk *= 4
      continue
    }
    return {line: buf.subarray(before + 1, lastNl).toString('utf8'), end: start + lastNl + 1}
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
}

function findTail(fd: number, size: number, file: string): Tail {
  const tail = size === 0 ? {end: 0} : readTail(fd, size)
  if (tail.line !== undefined) return {...tail, file}
  // An empty active file: the first use, or after earlier segments, whose chain goes on here.
  const newest = sealedSegments(file).at(-1)
  const activeSeg = (newest?.n ?? 0) + 1
  if (newest === undefined) return {end: tail.end, file, activeSeg}
  const sfd = openSync(newest.file, 'r')
  try {
    return {...readTail(sfd, fstatSync(sfd).size), end: tail.end, file: newest.file, activeSeg}
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
  const file = auditLogFile(env)
  // withLock creates the log's directory (0700) before it takes the lock.
  await withLock(file, async () => {
    let fd: number | undefined
    try {
      fd = openActive(file)
      let {size} = fstatSync(fd)
      const tail = findTail(fd, size, file)
      const torn = size - tail.end
      // Version 1 records were not keyed: a log of only those gets a new key.
      const keys = loadAuditKeys(env, {create: true, logExists: tail.line?.startsWith('{"v":2,') ?? false})
      if (torn > 0) {
        ftruncateSync(fd, tail.end)
        size = tail.end
      }
      const batch: Batch = {
        events,
        actor,
        keys,
        firstSeq: (tail.line === undefined ? 0 : seqOf(tail.line, tail.file)) + 1,
        firstPrev: tail.line === undefined ? GENESIS : linkOf(keys, tail.line),
        time: new Date().toISOString(),
        fps: events.map((e) => (e.value === undefined ? undefined : valueFingerprint(keys, e.value.reveal()))),
        torn,
      }
      let {bytes, last} = renderBatch(batch, size === 0 ? (tail.activeSeg ?? 1) : undefined)
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
      writeHead(file, keys, batch.firstSeq + events.length - 1, last)
    } catch (error) {
      throw auditError(error, file)
    } finally {
      if (fd !== undefined) closeSync(fd)
    }
  })
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

function auditError(error: unknown, file: string): Error {
  if (error instanceof SecretsError) return error
  const mapped = fsError(error, file, 'appending to the audit log')
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
