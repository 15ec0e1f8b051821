import {closeSync, fstatSync, openSync, readSync} from 'node:fs'

import {SecretsError, fsError} from '../../errors.js'
import {auditHeadFile, auditLogFile, isBlank, sealedSegments, type AuditRecord} from './record.js'
import {withLock} from '../lib/lock.js'

/** One segment file as it was when the snapshot was taken. */
export interface SegmentSnapshot {
  /** Sealed segment number, or undefined for the active file. */
  n?: number
  file: string
  fd: number
  size: number
}

/** Every segment of the log and its head, opened together under the log's lock. */
export interface AuditSnapshot {
  log: string
  segments: SegmentSnapshot[]
  /** The head file's text, if there is one. */
  head?: string
  close(): void
}

function openIfExists(file: string): {fd: number; size: number} | undefined {
  try {
    const fd = openSync(file, 'r')
    return {fd, size: fstatSync(fd).size}
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw fsError(error, file, 'reading the access log')
  }
}

/**
 * Open every segment and read the head while holding the lock for a moment, so a concurrent rollover
 * cannot make a segment vanish or appear twice. Records appended afterwards are simply not seen.
 */
export async function openAuditSnapshot(env: NodeJS.ProcessEnv = process.env): Promise<AuditSnapshot> {
  const log = auditLogFile(env)
  return withLock(log, () => {
    const segments: SegmentSnapshot[] = []
    const close = () => {
      for (const s of segments) closeSync(s.fd)
    }
    try {
      for (const s of sealedSegments(log)) {
        const opened = openIfExists(s.file)
        if (opened) segments.push({n: s.n, file: s.file, ...opened})
      }
      const active = openIfExists(log)
      if (active) segments.push({file: log, ...active})
      const head = openIfExists(auditHeadFile(log))
      let headText: string | undefined
      if (head) {
        const buf = Buffer.alloc(Math.min(head.size, 4096))
        readSync(head.fd, buf, 0, buf.length, 0)
        closeSync(head.fd)
        headText = buf.toString('utf8').trim()
      }
      return {log, segments, head: headText, close}
    } catch (error) {
      close()
      throw error
    }
  })
}

const CHUNK = 8 * 1024 * 1024

/** A run of complete lines: buf[0..end) holds them, each ending in a newline. */
export interface LineChunk {
  buf: Buffer
  end: number
  /** Where buf[0] is in the file. */
  offset: number
}

/**
 * The complete lines of a segment, read in large chunks. A final value of `torn` says how many bytes
 * followed the last newline (a write torn by a crash, or garbage).
 */
export function* lineChunks(seg: SegmentSnapshot): Generator<LineChunk, {torn: number}> {
  let buf = Buffer.alloc(Math.min(CHUNK, Math.max(seg.size, 1)))
  let carry = 0
  let pos = 0
  while (pos < seg.size) {
    if (carry === buf.length) {
      const bigger = Buffer.alloc(buf.length * 2)
      buf.copy(bigger, 0, 0, carry)
      buf = bigger
    }
    const n = readSync(seg.fd, buf, carry, Math.min(buf.length - carry, seg.size - pos), pos)
    if (n === 0) break
    pos += n
    const filled = carry + n
    const last = buf.lastIndexOf(10, filled - 1)
    if (last === -1) {
      carry = filled
      continue
    }
    yield {buf, end: last + 1, offset: pos - filled}
    carry = filled - (last + 1)
    if (carry > 0) buf.copy(buf, 0, last + 1, filled)
  }
  return {torn: carry}
}

/** Parse one record line; a line that is not a record is INTEGRITY, naming file and line. */
export function parseRecord(text: string, file: string, lineNo: number | (() => number)): AuditRecord {
  try {
    const r = JSON.parse(text) as AuditRecord
    if (r !== null && typeof r === 'object' && typeof r.time === 'string' && typeof r.ref === 'string') return r
  } catch {
    // Reported below.
  }
  throw new SecretsError(
    'INTEGRITY',
    `${file}:${typeof lineNo === 'number' ? lineNo : lineNo()} is not an access record (corrupt JSON line).`,
    {
      suggestions: ['Run `secrets audit verify` to find what was changed.'],
    },
  )
}

/**
 * The records of a snapshot, oldest first. With `contains`, lines that hold none of these strings (as
 * they appear in JSON) are skipped before they are parsed, so a filtered read of a large log costs
 * little more than reading it.
 */
export function* snapshotRecords(snapshot: AuditSnapshot, contains?: string[]): Generator<AuditRecord> {
  const needles = contains?.map((s) => Buffer.from(JSON.stringify(s).slice(1, -1), 'utf8'))
  for (const seg of snapshot.segments) {
    let lineNo = 0
    for (const {buf, end, offset} of lineChunks(seg)) {
      /** Each line's text, and its line number, or (when only its byte offset is known) the offset. */
      const batch: Array<[string, {line: number} | {offset: number}]> = []
      if (needles === undefined) {
        for (let start = 0; start < end;) {
          const nl = buf.indexOf(10, start)
          lineNo += 1
          // A blank line (a stray newline) holds no record; `audit verify` reports it.
          if (!isBlank(buf, start, nl)) batch.push([buf.toString('utf8', start, nl), {line: lineNo}])
          start = nl + 1
        }
      } else {
        // Jump from one occurrence of a needle to the next: only the lines holding one are looked at.
        // Line numbers are worked out only if one of those lines turns out to be corrupt.
        for (let pos = 0; pos < end;) {
          let hit = -1
          for (const needle of needles) {
            const at = buf.indexOf(needle, pos)
            if (at !== -1 && at < end && (hit === -1 || at < hit)) hit = at
          }
          if (hit === -1) break
          const start = hit === 0 ? 0 : buf.lastIndexOf(10, hit - 1) + 1
          const nl = buf.indexOf(10, hit)
          batch.push([buf.toString('utf8', start, nl), {offset: offset + start}])
          pos = nl + 1
        }
      }
      for (const [text, at] of batch)
        yield parseRecord(text, seg.file, 'line' in at ? at.line : () => lineAt(seg, at.offset))
    }
  }
}

/** The 1-based line number of the line that starts at byte `offset` of a segment. */
function lineAt(seg: SegmentSnapshot, offset: number): number {
  let lines = 1
  for (const {buf, end} of lineChunks({...seg, size: offset})) {
    for (let i = buf.indexOf(10); i !== -1 && i < end; i = buf.indexOf(10, i + 1)) lines += 1
  }
  return lines
}

/** Every record of every segment, oldest first. */
export async function* readAuditRecords(env: NodeJS.ProcessEnv = process.env): AsyncGenerator<AuditRecord> {
  const snapshot = await openAuditSnapshot(env)
  try {
    yield* snapshotRecords(snapshot)
  } finally {
    snapshot.close()
  }
}
