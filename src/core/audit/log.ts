import {createHash, createHmac} from 'node:crypto'
import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  writeSync,
} from 'node:fs'
import {basename, dirname, join} from 'node:path'

import {SecretsError, fsError} from '../../errors.js'
import type {Actor} from '../actor.js'
import {loadAuditKeys, valueFingerprint, type AuditKeys} from './key.js'
import {userStateDir} from '../store/identity.js'
import {withLock} from '../lib/lock.js'
import type {SecretValue} from '../secret-value.js'

/** What happened to one access. */
export type AuditOutcome = 'ok' | 'denied' | 'not_found' | 'error'

/** One access to one secret. */
export interface AuditEvent {
  /** The secrets command, e.g. `get`, `set`, `export`. */
  command: string
  /** The child command for `exec`, as argv[0] only. */
  child?: string
  action:
    | 'read'
    | 'write'
    | 'delete'
    | 'restore'
    | 'rekey'
    | 'purge'
    | 'rotate-pending'
    | 'rotate-verified'
    | 'rotate-promoted'
    | 'rotate-rolled-back'
    | 'rollback'
  provider: string
  ref: string
  version?: string
  outcome: AuditOutcome
  /** The error code for outcomes other than ok. */
  code?: string
  /** The value read or written: used only to compute `fp`, never written to the log. */
  value?: SecretValue
  /** `cache`: the value came from the offline fallback cache, fetched at `fetched`, `ageSeconds` old. */
  source?: 'cache'
  fetched?: string
  ageSeconds?: number
}

/**
 * A record as written: who and when, the event (without its value), the value's keyed fingerprint, its
 * sequence number, and `prev`, the HMAC of the previous record's line under the audit key.
 */
export interface AuditRecord extends Omit<AuditEvent, 'value'> {
  v: 1 | 2
  /** 1, 2, 3 ... across all segments (absent in version 1 records). */
  seq?: number
  /** On the first record of each segment file: its segment number (1, 2, 3 ...). */
  seg?: number
  /** On the first record of a segment: the HMAC of the whole previous segment, made when it was sealed. */
  seal?: string
  time: string
  user: string
  host: string
  ci?: Actor['ci']
  pid: number
  /** HMAC-SHA256 of the value under the audit key, first 128 bits in hex. */
  fp?: string
  /** Bytes of a torn, unterminated write found at the end of the log and cut off before this record. */
  torn?: number
  prev: string
}

export const GENESIS = '0'.repeat(64)
const DEFAULT_SEGMENT_BYTES = 16 * 1024 * 1024

export function auditLogFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.SECRETS_AUDIT_LOG || join(userStateDir(env), 'audit.jsonl')
}

/** The file holding the last record's sequence number and link, so removal at the end is visible. */
export function auditHeadFile(log: string): string {
  return `${log}.head`
}

/** Segment rollover size: SECRETS_AUDIT_SEGMENT_BYTES, default 16 MiB. */
export function segmentBytes(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.SECRETS_AUDIT_SEGMENT_BYTES)
  return Number.isInteger(n) && n > 0 ? n : DEFAULT_SEGMENT_BYTES
}

/** The SHA-256 of a line: the link of version 1 records, which were not keyed. */
export function hashLine(line: string | Uint8Array): string {
  return createHash('sha256').update(line).digest('hex')
}

/** The link to a line: HMAC-SHA256 under the chain key. */
export function linkOf(keys: AuditKeys, line: string | Uint8Array): string {
  return createHmac('sha256', keys.chain).update(line).digest('hex')
}

/** The head file's MAC over the last sequence number and the last line's link. */
export function headMac(keys: AuditKeys, seq: number, link: string): string {
  return createHmac('sha256', keys.head).update(`${seq}\n${link}`).digest('hex')
}

/** Sealed segments next to the log (`audit.jsonl.000001` ...), oldest first. */
export function sealedSegments(log: string): Array<{n: number; file: string}> {
  const dir = dirname(log)
  const prefix = `${basename(log)}.`
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
  return names
    .filter((n) => n.startsWith(prefix) && /^\d+$/.test(n.slice(prefix.length)))
    .map((n) => ({n: Number(n.slice(prefix.length)), file: join(dir, n)}))
    .sort((a, b) => a.n - b.n)
}

export function segmentName(log: string, n: number): string {
  return `${log}.${String(n).padStart(6, '0')}`
}

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
      fd = openSync(file, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT, 0o600)
      let {size} = fstatSync(fd)
      let tail = size === 0 ? {end: 0} : readTail(fd, size)
      const torn = size - tail.end
      let lastFile = file
      /** The number the active file has (it becomes that sealed segment when it rolls over). */
      let activeSeg: number | undefined
      if (tail.line === undefined) {
        // An empty active file: the first use, or after earlier segments, whose chain goes on here.
        const newest = sealedSegments(file).at(-1)
        activeSeg = (newest?.n ?? 0) + 1
        if (newest) {
          const sfd = openSync(newest.file, 'r')
          try {
            tail = {...readTail(sfd, fstatSync(sfd).size), end: tail.end}
          } finally {
            closeSync(sfd)
          }
          lastFile = newest.file
        }
      }
      // Version 1 records were not keyed: a log of only those gets a new key.
      const keys = loadAuditKeys(env, {create: true, logExists: tail.line?.startsWith('{"v":2,') ?? false})
      if (torn > 0) {
        ftruncateSync(fd, tail.end)
        size = tail.end
      }
      const firstSeq = (tail.line === undefined ? 0 : seqOf(tail.line, lastFile)) + 1
      const firstPrev = tail.line === undefined ? GENESIS : linkOf(keys, tail.line)
      const time = new Date().toISOString()
      const fps = events.map((e) => (e.value === undefined ? undefined : valueFingerprint(keys, e.value.reveal())))
      /** The lines to append; the first record of a file names its segment number. */
      const render = (seg: number | undefined, seal?: string) => {
        let prev = firstPrev
        let out = ''
        for (const [i, event] of events.entries()) {
          const {value: _value, ...fields} = event
          const record: AuditRecord = {
            v: 2,
            seq: firstSeq + i,
            ...(i === 0 && seg !== undefined ? {seg} : {}),
            ...(i === 0 && seal !== undefined ? {seal} : {}),
            time,
            user: actor.user,
            host: actor.host,
            ...(actor.ci ? {ci: actor.ci} : {}),
            pid: process.pid,
            ...fields,
            ...(fps[i] === undefined ? {} : {fp: fps[i]}),
            ...(i === 0 && torn > 0 ? {torn} : {}),
            prev,
          }
          const line = JSON.stringify(record)
          prev = linkOf(keys, line)
          out += `${line}\n`
        }
        return {bytes: Buffer.from(out, 'utf8'), last: prev}
      }
      let {bytes, last} = render(size === 0 ? (activeSeg ?? 1) : undefined)
      if (size > 0 && size + bytes.length > segmentBytes(env)) {
        // Rare (once per segment), so the checker loads only now.
        const {firstInfo, sealIfIntact} = await import('./verify-log.js')
        const seal = sealIfIntact(file, {file, fd, size}, keys, readHeadText(file))
        // The file becomes the segment its first record names (never over an existing file).
        let sealed = firstInfo({file, fd, size}).seg
        if (sealed === undefined || existsSync(segmentName(file, sealed)))
          sealed = (sealedSegments(file).at(-1)?.n ?? 0) + 1
        closeSync(fd)
        fd = undefined
        renameSync(file, segmentName(file, sealed))
        fd = openSync(file, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT, 0o600)
        size = 0
        ;({bytes, last} = render(sealed + 1, seal))
      }
      try {
        let off = 0
        while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off)
        // On by default: a record must survive a crash of the machine, not only of this process.
        if (env.SECRETS_AUDIT_FSYNC !== '0') fsyncSync(fd)
      } catch (error) {
        // Leave no half-written record behind.
        try {
          ftruncateSync(fd, size)
        } catch {
          // The error below is what matters.
        }
        throw error
      }
      writeHead(file, keys, firstSeq + events.length - 1, last)
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

/** Every record of every segment, oldest first (see audit-read.ts). */
export async function* readAuditRecords(env: NodeJS.ProcessEnv = process.env): AsyncGenerator<AuditRecord> {
  const {openAuditSnapshot, snapshotRecords} = await import('./read.js')
  const snapshot = await openAuditSnapshot(env)
  try {
    yield* snapshotRecords(snapshot)
  } finally {
    snapshot.close()
  }
}
