import {closeSync, fstatSync, openSync, readSync, statSync} from 'node:fs'

import {fsError} from '../../errors.js'
import {matchesFilter, type AuditFilter} from './query.js'
import {parseRecord} from './read.js'
import {auditLogFile, isBlank, type AuditRecord} from './record.js'

// `audit log --follow`: records as they are appended, like `tail -F`, across rollovers. It reads
// without the log's lock (appends write whole lines, and only complete lines are parsed), so a
// follower never slows the commands it watches.

const POLL_MS = 200

interface Active {
  fd: number
  ino: number
  /** Bytes of the file already looked at (up to its last complete line). */
  offset: number
}

function openActive(log: string): Active | undefined {
  try {
    const fd = openSync(log, 'r')
    return {fd, ino: fstatSync(fd).ino, offset: 0}
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw fsError(error, log, 'reading the access log')
  }
}

/** The complete lines appended since the last call. */
function newLines(a: Active): string[] {
  const size = fstatSync(a.fd).size
  if (size <= a.offset) return []
  const buf = Buffer.alloc(size - a.offset)
  const n = readSync(a.fd, buf, 0, buf.length, a.offset)
  const end = buf.lastIndexOf(10, n - 1) + 1
  const lines: string[] = []
  for (let start = 0; start < end;) {
    const nl = buf.indexOf(10, start)
    if (!isBlank(buf, start, nl)) lines.push(buf.toString('utf8', start, nl))
    start = nl + 1
  }
  a.offset += end
  return lines
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, {once: true})
  })
}

/**
 * The records appended after seq `afterSeq` that match `filter`, as they arrive, until `signal` aborts.
 * Records at or below `afterSeq` (already shown) are skipped, so starting from the top of the active
 * file loses and repeats nothing.
 */
export async function* followAudit(
  filter: AuditFilter,
  afterSeq: number,
  signal: AbortSignal,
  env: NodeJS.ProcessEnv = process.env,
): AsyncGenerator<AuditRecord> {
  const log = auditLogFile(env)
  let active = openActive(log)
  let lastSeq = afterSeq
  const fresh = function* (a: Active): Generator<AuditRecord> {
    for (const line of newLines(a)) {
      const r = parseRecord(line, log, 0)
      if (r.seq === undefined || r.seq <= lastSeq) continue
      lastSeq = r.seq
      if (matchesFilter(r, filter)) yield r
    }
  }
  try {
    while (!signal.aborted) {
      active ??= openActive(log)
      if (active !== undefined) {
        yield* fresh(active)
        // A rollover renamed the file: read what reached it before the rename, then go on in the new one.
        if (inode(log) !== active.ino) {
          yield* fresh(active)
          closeSync(active.fd)
          active = undefined
          continue
        }
      }
      await pause(POLL_MS, signal)
    }
  } finally {
    if (active !== undefined) closeSync(active.fd)
  }
}

function inode(file: string): number | undefined {
  try {
    return statSync(file).ino
  } catch {
    return undefined
  }
}
