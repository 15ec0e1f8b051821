import {createHmac, webcrypto} from 'node:crypto'
import {closeSync, existsSync, fstatSync, openSync, readSync} from 'node:fs'

import {SecretsError} from '../../errors.js'
import {GENESIS, auditHeadFile, auditLogFile, hashLine, headMac, segmentName} from './log.js'
import {auditKeyFile, fastMac, loadAuditKeys, type AuditKeys} from './key.js'
import {lineChunks, openAuditSnapshot, type AuditSnapshot, type SegmentSnapshot} from './read.js'

/** What `audit verify` found first. */
export interface AuditProblem {
  kind: 'changed' | 'inserted' | 'removed' | 'reordered' | 'corrupt' | 'head-missing' | 'wrong-key'
  file: string
  /** 1-based line in `file`. */
  line?: number
  seq?: number
  message: string
}

export interface VerifyResult {
  intact: boolean
  log: string
  keyId?: string
  /** Records checked (version 1 records included). */
  records: number
  /** Version 1 records (before the keyed chain): linked by plain SHA-256, so anyone could rewrite them. */
  legacy: number
  lastSeq?: number
  /** `bySeal`: checked in one pass against the seal its successor holds, not record by record. */
  segments: Array<{segment: number | 'active'; file: string; records: number; bySeal?: boolean}>
  /** Sealed segment numbers that should exist and do not. */
  missingSegments: number[]
  problem?: AuditProblem
  /** Facts that do not break integrity (a torn last write, records newer than the head). */
  notes: string[]
}

interface Line {
  file: string
  line: number
  v: 1 | 2
  seq: number
  prev: string
  /** The keyed link to this line (what the next record's `prev` must be). */
  link: string
  /** The SHA-256 of this line, for a version 1 record that follows it. */
  sha?: string
}

const PREFIX = '{"v":2,"seq":'
const PREV_TAG = '"prev":"'

/**
 * Recompute the chain over every segment: each record's `prev` must be the keyed link to the line
 * before it, sequence numbers must run 1, 2, 3 ... without gaps, segments must be numbered without
 * gaps, and the head must match the last record. Reports the first record that was changed, inserted,
 * removed or moved, and every missing segment. Never throws for a tampered log: that is the result.
 */
export async function verifyAudit(env: NodeJS.ProcessEnv = process.env): Promise<VerifyResult> {
  const snapshot = await openAuditSnapshot(env)
  try {
    return verifySnapshot(snapshot, env, await precomputeSeals(snapshot, env))
  } finally {
    snapshot.close()
  }
}

interface Head {
  kid: string
  seq: number
  mac: string
}

function parseHead(text: string, file: string): Head {
  try {
    const h = JSON.parse(text) as Partial<Record<keyof Head, unknown>>
    if (typeof h.kid === 'string' && Number.isSafeInteger(h.seq) && typeof h.mac === 'string') return h as Head
  } catch {
    // Reported below.
  }
  throw new SecretsError('INTEGRITY', `The access log's head file ${file} is corrupt.`, {
    suggestions: ['It holds the last sequence number and link; restore it from a backup of the log.'],
  })
}

/** Sealed segments up to this size are read whole and hashed on the thread pool; bigger ones stream. */
const PARALLEL_SEAL_BYTES = 64 * 1024 * 1024

/**
 * The seals of the sealed segments, computed before the chain walk: hashing the sealed segments is most
 * of verify's work (one HMAC-SHA256 pass over the log), and WebCrypto runs it on libuv's thread pool, so
 * two segments at a time use both cores. Identical to segmentSeal(); any failure here (a key that cannot
 * be read, ...) leaves the map empty, and verifySnapshot reports it in its own order.
 */
async function precomputeSeals(snapshot: AuditSnapshot, env: NodeJS.ProcessEnv): Promise<Map<SegmentSnapshot, string>> {
  const out = new Map<SegmentSnapshot, string>()
  const sealed = snapshot.segments.filter((s) => s.n !== undefined && s.size > 0 && s.size <= PARALLEL_SEAL_BYTES)
  if (sealed.length < 2) return out
  let key: webcrypto.CryptoKey
  try {
    key = await webcrypto.subtle.importKey(
      'raw',
      loadAuditKeys(env, {create: false, logExists: true}).seal,
      {name: 'HMAC', hash: 'SHA-256'},
      false,
      ['sign'],
    )
  } catch {
    return out
  }
  let next = 0
  const lane = async () => {
    while (next < sealed.length) {
      const seg = sealed[next++]
      const buf = Buffer.allocUnsafe(seg.size)
      let pos = 0
      for (let n = 1; pos < seg.size && n > 0; pos += n) n = readSync(seg.fd, buf, pos, seg.size - pos, pos)

      out.set(seg, Buffer.from(await webcrypto.subtle.sign('HMAC', key, buf.subarray(0, pos))).toString('hex'))
    }
  }
  await Promise.all([lane(), lane()])
  return out
}

export function verifySnapshot(
  snapshot: AuditSnapshot,
  env: NodeJS.ProcessEnv,
  seals: ReadonlyMap<SegmentSnapshot, string> = new Map(),
): VerifyResult {
  const log = auditLogFile(env)
  const result: VerifyResult = {intact: true, log, records: 0, legacy: 0, segments: [], missingSegments: [], notes: []}
  const headFile = auditHeadFile(log)
  if (snapshot.segments.length === 0 && snapshot.head === undefined) {
    // The key is made with the first record: a key without a log means the log was removed.
    const key = auditKeyFile(env)
    if (existsSync(key)) {
      result.intact = false
      result.problem = {
        kind: 'removed',
        file: log,
        message: `The access log ${log} is gone, but its audit key ${key} exists (it is made with the first record): the whole log was removed or moved. If you moved it on purpose, set SECRETS_AUDIT_LOG to its new place.`,
      }
    } else {
      result.notes.push('No access log yet.')
    }
    return result
  }
  const keys = loadAuditKeys(env, {create: false, logExists: true})
  result.keyId = keys.kid
  const head = snapshot.head === undefined ? undefined : parseHead(snapshot.head, headFile)
  if (head && head.kid !== keys.kid) {
    result.intact = false
    result.problem = {
      kind: 'wrong-key',
      file: keys.file,
      message: `The log was written with another audit key (key id ${head.kid}; ${keys.file} has key id ${keys.kid}), so it cannot be verified with this one.`,
    }
    return result
  }

  // Sealed segments run 1, 2, 3 ... up to the newest; any number missing in between is a removed segment.
  const sealed = snapshot.segments.filter((s) => s.n !== undefined).map((s) => s.n!)
  // The first record of each file names its segment number, so the active file tells how many sealed
  // segments came before it (a removed newest segment is missing too) and a renamed file is caught.
  const numbered = snapshot.segments.map((s) => ({s, ...firstInfo(s)}))
  const activeSeg = numbered.find((x) => x.s.n === undefined)?.seg
  const maxSealed = Math.max(sealed.at(-1) ?? 0, (activeSeg ?? 1) - 1)
  for (let n = 1; n <= maxSealed; n++) if (!sealed.includes(n)) result.missingSegments.push(n)
  const misnamed = numbered.find((x) => x.seg !== undefined && x.seg !== (x.s.n ?? maxSealed + 1))

  const mac = fastMac(keys.chain)
  let p: Line | undefined
  /** The link a record right after `p`'s predecessor would carry (the expected `prev` of `p`). */
  let beforeP = GENESIS
  let keyedSeen = false
  let headLink: string | undefined
  let pending: {r: Line; p?: Line; beforeP: string; next: Line[]} | undefined
  let done = false
  const firstMissing = result.missingSegments[0] === 1

  const fail = (problem: AuditProblem) => {
    result.intact = false
    result.problem = problem
    done = true
  }

  const classify = (r: Line, pp: Line | undefined, bp: string, next: Line[]) => {
    const expectedPrev = pp?.link ?? GENESIS
    const expectedSeq = (pp?.seq ?? 0) + 1
    const n1 = next[0]
    const where = (l: Line) => `${l.file}:${l.line}`
    if (pp && r.prev === bp) {
      fail({
        kind: 'inserted',
        file: pp.file,
        line: pp.line,
        seq: pp.seq,
        message: `The record at ${where(pp)} was inserted: the record after it links to the one before it.`,
      })
    } else if (r.v === 2 && r.seq !== expectedSeq && n1?.seq === expectedSeq) {
      fail({
        kind: 'reordered',
        file: r.file,
        line: r.line,
        seq: r.seq,
        message: `The record at ${where(r)} (seq ${r.seq}) is out of order: seq ${expectedSeq} comes after it.`,
      })
    } else if (
      (n1 && n1.prev === expectedPrev) ||
      (pp?.v === 2 && head !== undefined && pp.seq === head.seq && headMac(keys, head.seq, pp.link) === head.mac)
    ) {
      fail({
        kind: 'inserted',
        file: r.file,
        line: r.line,
        seq: r.seq,
        message: `The record at ${where(r)} was inserted: the record after it links to the one before it.`,
      })
    } else if (r.v === 2 && r.seq > expectedSeq) {
      const range = r.seq - 1 === expectedSeq ? `seq ${expectedSeq} is` : `seq ${expectedSeq} to ${r.seq - 1} are`
      fail({
        kind: 'removed',
        file: r.file,
        line: r.line,
        seq: expectedSeq,
        message: `Record ${range} missing before ${where(r)} (removed, or moved elsewhere${result.missingSegments.length > 0 ? ', or in a missing segment' : ''}).`,
      })
    } else if (pp && (r.v === 1 || r.seq === expectedSeq)) {
      fail({
        kind: 'changed',
        file: pp.file,
        line: pp.line,
        seq: pp.seq,
        message: `The record at ${where(pp)}${pp.v === 2 ? ` (seq ${pp.seq})` : ''} was changed: the next record's link does not match it.`,
      })
    } else if (pp) {
      fail({
        kind: 'reordered',
        file: r.file,
        line: r.line,
        seq: r.seq,
        message: `The record at ${where(r)} (seq ${r.seq}) is out of order: seq ${expectedSeq} was expected.`,
      })
    } else {
      fail({
        kind: 'changed',
        file: r.file,
        line: r.line,
        seq: r.seq,
        message: `The first record, at ${where(r)}, was changed: it does not start the chain.`,
      })
    }
  }

  if (misnamed) {
    fail({
      kind: 'reordered',
      file: misnamed.s.file,
      line: 1,
      message: `${misnamed.s.file} holds segment ${misnamed.seg} of the log, not ${misnamed.s.n ?? maxSealed + 1}: segment files were renamed.`,
    })
  }
  /** Check one record against the one before it; a broken link waits for two more records to say what happened. */
  const visit = (line: Line) => {
    result.records += 1
    if (pending) {
      pending.next.push(line)
      if (pending.next.length === 2) classify(pending.r, pending.p, pending.beforeP, pending.next)
      return
    }
    if (line.v === 1) {
      if (keyedSeen) {
        fail({
          kind: 'inserted',
          file: line.file,
          line: line.line,
          message: `${line.file}:${line.line} is a version 1 record after keyed records: it was inserted.`,
        })
        return
      }
      result.legacy += 1
    } else {
      keyedSeen = true
      if (head && line.seq === head.seq) headLink = line.link
    }
    const skipFirst = p === undefined && firstMissing
    const expectedPrev = p === undefined ? GENESIS : line.v === 1 ? p.sha! : p.link
    const expectedSeq = p === undefined || p.v === 1 ? 1 : p.seq + 1
    if (!skipFirst && line.prev !== expectedPrev) {
      pending = {r: line, p, beforeP, next: []}
      return
    }
    if (line.v === 2 && !skipFirst && line.seq !== expectedSeq) {
      // The link holds but the number is wrong: written by someone holding the key, or renumbered and relinked.
      fail({
        kind: 'changed',
        file: line.file,
        line: line.line,
        seq: line.seq,
        message: `${line.file}:${line.line} has seq ${line.seq} where ${expectedSeq} was expected.`,
      })
      return
    }
    beforeP = p?.link ?? GENESIS
    p = line
  }

  /**
   * A sealed segment whose successor carries its seal (an HMAC of the whole file, made when it was
   * sealed after checking its chain) is checked in one pass over its bytes, plus its first and last
   * records against their neighbours. Returns false to check it record by record instead.
   */
  const viaSeal = (seg: SegmentSnapshot, seal: string | undefined): boolean | 'mismatch' => {
    if (seal === undefined || pending || seg.size === 0) return false
    const first = edgeLine(seg, 'first', mac)
    const last = edgeLine(seg, 'last', mac)
    if (first === undefined || last === undefined) return false
    const expectedPrev = p === undefined ? GENESIS : p.link
    const expectedSeq = p === undefined || p.v === 1 ? 1 : p.seq + 1
    const skipFirst = p === undefined && firstMissing
    if (!skipFirst && (first.prev !== expectedPrev || first.seq !== expectedSeq)) return false
    if (head && head.seq >= first.seq && head.seq < last.seq) return false
    if ((seals.get(seg) ?? segmentSeal(keys, seg)) !== seal) return 'mismatch'
    result.records += last.seq - first.seq + 1
    keyedSeen = true
    if (head && head.seq === last.seq) headLink = last.link
    beforeP = last.seq === first.seq ? (p?.link ?? GENESIS) : last.prev
    p = last
    return true
  }

  /** A segment that does not match its seal: reported only if its records (and their neighbours) show nothing. */
  let sealMismatch: string | undefined
  for (const [i, seg] of snapshot.segments.entries()) {
    if (done) break
    const before = result.records
    const next = numbered[i + 1]
    const sealed = seg.n !== undefined && next?.seg === seg.n + 1 ? viaSeal(seg, next.seal) : false
    if (sealed === true) {
      result.segments.push({segment: seg.n!, file: seg.file, records: result.records - before, bySeal: true})
      continue
    }
    let lineNo = 0
    const chunks = lineChunks(seg)
    let step = chunks.next()
    while (!step.done && !done) {
      const {buf, end} = step.value
      let start = 0
      while (start < end && !done) {
        const nl = buf.indexOf(10, start)
        lineNo += 1
        const line = readLine(buf, start, nl, seg.file, lineNo, mac, !keyedSeen)
        start = nl + 1
        if ('corrupt' in line) {
          if (pending) classify(pending.r, pending.p, pending.beforeP, pending.next)
          else
            fail({
              kind: 'corrupt',
              file: seg.file,
              line: lineNo,
              message: `${seg.file}:${lineNo} is not an access record (${line.corrupt}).`,
            })
          break
        }
        visit(line)
      }
      if (!done) step = chunks.next()
    }
    if (step.done && step.value.torn > 0 && !done) {
      if (seg.n === undefined)
        result.notes.push(
          `${step.value.torn} bytes of an interrupted write at the end of ${seg.file}; the next append removes them.`,
        )
      else if (!pending)
        fail({
          kind: 'corrupt',
          file: seg.file,
          line: lineNo + 1,
          message: `${seg.file} ends in ${step.value.torn} bytes that are not a complete record.`,
        })
    }
    if (sealed === 'mismatch') sealMismatch ??= seg.file
    result.segments.push({segment: seg.n ?? 'active', file: seg.file, records: result.records - before})
  }
  if (pending && !done) classify(pending.r, pending.p, pending.beforeP, pending.next)
  if (sealMismatch !== undefined && !done) {
    fail({
      kind: 'changed',
      file: sealMismatch,
      message: `${sealMismatch} does not match the seal the next segment holds for it, though its records still link: it was rewritten by someone holding the audit key.`,
    })
  }
  result.lastSeq = p?.v === 2 ? p.seq : undefined

  if (!done) {
    if (head === undefined) {
      if (keyedSeen)
        fail({
          kind: 'head-missing',
          file: headFile,
          message: `The head file ${headFile} is missing, so records removed from the end could not be detected.`,
        })
    } else if ((result.lastSeq ?? 0) < head.seq) {
      const from = (result.lastSeq ?? 0) + 1
      const last = p ? `${p.file}:${p.line}` : 'the start'
      fail({
        kind: 'removed',
        file: p?.file ?? log,
        line: p ? p.line + 1 : undefined,
        seq: from,
        message: `Record${from === head.seq ? ` seq ${from} is` : `s seq ${from} to ${head.seq} are`} missing after ${last}: removed from the end of the log${snapshot.segments.at(-1)?.n === undefined ? '' : ', or the active segment was removed'}.`,
      })
    } else if (headLink === undefined || headMac(keys, head.seq, headLink) !== head.mac) {
      fail({
        kind: 'changed',
        file: p!.file,
        line: p!.line,
        seq: head.seq,
        message: `The record with seq ${head.seq} (the last one the head file covers) was changed.`,
      })
    } else if (result.lastSeq! > head.seq) {
      result.notes.push(
        `${result.lastSeq! - head.seq} record(s) after seq ${head.seq} are newer than the head file (an append was interrupted before updating it).`,
      )
    }
  }
  if (result.missingSegments.length > 0 && result.problem === undefined) {
    fail({
      kind: 'removed',
      file: segmentName(log, result.missingSegments[0]),
      message: `Segment(s) ${result.missingSegments.join(', ')} of ${log} are missing.`,
    })
  }
  if (result.missingSegments.length > 0) result.intact = false
  return result
}

/** The segment number and the predecessor's seal that the first record of a file carries, if any. */
export function firstInfo(seg: SegmentSnapshot): {seg?: number; seal?: string} {
  const buf = Buffer.alloc(Math.min(seg.size, 4096))
  readSync(seg.fd, buf, 0, buf.length, 0)
  const nl = buf.indexOf(10)
  try {
    const r = JSON.parse(buf.toString('utf8', 0, nl === -1 ? buf.length : nl)) as {seg?: unknown; seal?: unknown}
    return {
      seg: Number.isSafeInteger(r.seg) ? (r.seg as number) : undefined,
      seal: typeof r.seal === 'string' ? r.seal : undefined,
    }
  } catch {
    return {}
  }
}

/** The first or last complete line of a segment, parsed (keyed records only). */
export function edgeLine(
  seg: SegmentSnapshot,
  which: 'first' | 'last',
  mac: (b: Uint8Array) => string,
): Line | undefined {
  const n = Math.min(seg.size, 8192)
  const buf = Buffer.alloc(n)
  readSync(seg.fd, buf, 0, n, which === 'first' ? 0 : seg.size - n)
  let start: number
  let end: number
  if (which === 'first') {
    start = 0
    end = buf.indexOf(10)
  } else {
    if (buf[n - 1] !== 10) return undefined
    end = n - 1
    start = buf.lastIndexOf(10, end - 1) + 1
    if (start === 0 && n < seg.size) return undefined
  }
  if (end <= start) return undefined
  const line = readLine(buf, start, end, seg.file, 0, mac, false)
  return 'corrupt' in line || line.v !== 2 ? undefined : line
}

/** HMAC-SHA256 of a whole segment file under the seal key. */
export function segmentSeal(keys: AuditKeys, seg: SegmentSnapshot): string {
  const h = createHmac('sha256', keys.seal)
  const buf = Buffer.alloc(Math.min(8 * 1024 * 1024, Math.max(seg.size, 1)))
  for (let pos = 0; pos < seg.size;) {
    const n = readSync(seg.fd, buf, 0, Math.min(buf.length, seg.size - pos), pos)
    if (n === 0) break
    h.update(buf.subarray(0, n))
    pos += n
  }
  return h.digest('hex')
}

function readLine(
  buf: Buffer,
  start: number,
  end: number,
  file: string,
  lineNo: number,
  mac: (b: Uint8Array) => string,
  legacyPossible: boolean,
): Line | {corrupt: string} {
  const bytes = buf.subarray(start, end)
  // The fast path reads seq and prev at their fixed places instead of parsing the JSON: the link
  // already proves the rest of the line is what was written.
  if (
    end - start > 80 &&
    buf.toString('latin1', start, start + PREFIX.length) === PREFIX &&
    buf.toString('latin1', end - 74, end - 66) === PREV_TAG &&
    buf[end - 1] === 0x7d &&
    buf[end - 2] === 0x22
  ) {
    let seq = 0
    let i = start + PREFIX.length
    for (; i < end && buf[i] >= 0x30 && buf[i] <= 0x39; i++) seq = seq * 10 + (buf[i] - 0x30)
    if (buf[i] === 0x2c && i > start + PREFIX.length) {
      return {file, line: lineNo, v: 2, seq, prev: buf.toString('latin1', end - 66, end - 2), link: mac(bytes)}
    }
  }
  let r: {v?: unknown; seq?: unknown; prev?: unknown}
  try {
    r = JSON.parse(bytes.toString('utf8')) as typeof r
  } catch {
    return {corrupt: 'corrupt JSON line'}
  }
  if (r === null || typeof r !== 'object' || typeof r.prev !== 'string') return {corrupt: 'no `prev` link'}
  if (r.v === 1) {
    return {
      file,
      line: lineNo,
      v: 1,
      seq: 0,
      prev: r.prev,
      link: mac(bytes),
      ...(legacyPossible ? {sha: hashLine(bytes)} : {}),
    }
  }
  if (r.v === 2 && Number.isSafeInteger(r.seq))
    return {file, line: lineNo, v: 2, seq: r.seq as number, prev: r.prev, link: mac(bytes)}
  return {corrupt: 'unknown record version'}
}

/**
 * At rollover, under the lock: the seal for the active file, if its whole chain holds, from the link to
 * the previous segment's last record through to the head; otherwise none, and `verify` then checks
 * that segment record by record (and reports what is wrong with it).
 */
export function sealIfIntact(
  log: string,
  seg: SegmentSnapshot,
  keys: AuditKeys,
  headText: string | undefined,
): string | undefined {
  const mac = fastMac(keys.chain)
  const {seg: n} = firstInfo(seg)
  if (n === undefined) return undefined
  let expectedPrev = GENESIS
  let expectedSeq = 1
  if (n > 1) {
    let fd: number
    try {
      fd = openSync(segmentName(log, n - 1), 'r')
    } catch {
      return undefined
    }
    try {
      const before = edgeLine({file: segmentName(log, n - 1), fd, size: fstatSync(fd).size}, 'last', mac)
      if (before === undefined) return undefined
      expectedPrev = before.link
      expectedSeq = before.seq + 1
    } finally {
      closeSync(fd)
    }
  }
  const chunks = lineChunks(seg)
  let step = chunks.next()
  while (!step.done) {
    const {buf, end} = step.value
    for (let start = 0; start < end;) {
      const nl = buf.indexOf(10, start)
      const line = readLine(buf, start, nl, seg.file, 0, mac, false)
      start = nl + 1
      if ('corrupt' in line || line.v !== 2 || line.prev !== expectedPrev || line.seq !== expectedSeq) return undefined
      expectedPrev = line.link
      expectedSeq += 1
    }
    step = chunks.next()
  }
  if (step.value.torn > 0 || headText === undefined) return undefined
  try {
    const head = parseHead(headText, '')
    if (head.kid !== keys.kid || head.seq !== expectedSeq - 1 || headMac(keys, head.seq, expectedPrev) !== head.mac)
      return undefined
  } catch {
    return undefined
  }
  return segmentSeal(keys, seg)
}
