import {existsSync} from 'node:fs'

import {edgeLine, isBlank, readLine, type Line} from './chain-line.js'
import {auditKeyFile, fastMac, loadAuditKeys, type AuditKeys} from './key.js'
import {lineChunks, openAuditSnapshot, type AuditSnapshot, type SegmentSnapshot} from './read.js'
import {GENESIS, auditHeadFile, auditLogFile, headMac, segmentName} from './record.js'
import {firstInfo, parseHead, precomputeSeals, segmentSeal, type Head} from './seal.js'

// The access log's chain check (what `secrets audit verify` runs). Not to be confused with rotation's
// `verify:` command or the store's MAC check.

/** What the chain check (`audit verify`) found first. */
export interface AuditProblem {
  kind: 'changed' | 'inserted' | 'removed' | 'reordered' | 'corrupt' | 'head-missing' | 'wrong-key'
  file: string
  /** 1-based line in `file`. */
  line?: number
  seq?: number
  message: string
}

/** The outcome of the chain check over the whole log. */
export interface ChainCheck {
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

/**
 * Recompute the chain over every segment: each record's `prev` must be the keyed link to the line
 * before it, sequence numbers must run 1, 2, 3 ... without gaps, segments must be numbered without
 * gaps, and the head must match the last record. Reports the first record that was changed, inserted,
 * removed or moved, and every missing segment. Never throws for a tampered log: that is the result.
 */
export async function checkAuditChain(env: NodeJS.ProcessEnv = process.env): Promise<ChainCheck> {
  const snapshot = await openAuditSnapshot(env)
  try {
    return checkSnapshot(snapshot, env, await precomputeSeals(snapshot, env))
  } finally {
    snapshot.close()
  }
}

/** The chain check of one snapshot; `seals` holds seals computed ahead (see precomputeSeals). */
export function checkSnapshot(
  snapshot: AuditSnapshot,
  env: NodeJS.ProcessEnv,
  seals: ReadonlyMap<SegmentSnapshot, string> = new Map(),
): ChainCheck {
  const log = auditLogFile(env)
  const result: ChainCheck = {intact: true, log, records: 0, legacy: 0, segments: [], missingSegments: [], notes: []}
  if (snapshot.segments.length === 0 && snapshot.head === undefined) return noLog(result, env)
  const keys = loadAuditKeys(env, {create: false, logExists: true})
  result.keyId = keys.kid
  const head = snapshot.head === undefined ? undefined : parseHead(snapshot.head, auditHeadFile(log))
  if (head && head.kid !== keys.kid) {
    result.intact = false
    result.problem = {
      kind: 'wrong-key',
      file: keys.file,
      message: `The log was written with another audit key (key id ${head.kid}; ${keys.file} has key id ${keys.kid}), so it cannot be verified with this one.`,
    }
    return result
  }
  const walk = new ChainWalk(result, keys, head, seals, numberSegments(snapshot, result))
  walk.run(snapshot.segments)
  walk.checkHead(snapshot)
  if (result.missingSegments.length > 0 && result.problem === undefined) {
    walk.fail({
      kind: 'removed',
      file: segmentName(log, result.missingSegments[0]),
      message: `Segment(s) ${result.missingSegments.join(', ')} of ${log} are missing.`,
    })
  }
  if (result.missingSegments.length > 0) result.intact = false
  return result
}

/** No segment and no head: fine for a new installation, a removed log if its key exists. */
function noLog(result: ChainCheck, env: NodeJS.ProcessEnv): ChainCheck {
  // The key is made with the first record: a key without a log means the log was removed.
  const key = auditKeyFile(env)
  if (existsSync(key)) {
    result.intact = false
    result.problem = {
      kind: 'removed',
      file: result.log,
      message: `The access log ${result.log} is gone, but its audit key ${key} exists (it is made with the first record): the whole log was removed or moved. If you moved it on purpose, set SECRETS_AUDIT_LOG to its new place.`,
    }
  } else {
    result.notes.push('No access log yet.')
  }
  return result
}

/** Each segment with the number and seal its first record carries, and what that says about the files. */
interface Numbering {
  numbered: Array<{s: SegmentSnapshot; seg?: number; seal?: string}>
  /** The highest sealed segment number that should exist. */
  maxSealed: number
  /** A file whose first record names another segment than its file name says. */
  misnamed?: {s: SegmentSnapshot; seg?: number}
}

/** Fills `result.missingSegments`. */
function numberSegments(snapshot: AuditSnapshot, result: ChainCheck): Numbering {
  // Sealed segments run 1, 2, 3 ... up to the newest; any number missing in between is a removed segment.
  const sealed = snapshot.segments.filter((s) => s.n !== undefined).map((s) => s.n!)
  // The first record of each file names its segment number, so the active file tells how many sealed
  // segments came before it (a removed newest segment is missing too) and a renamed file is caught.
  const numbered = snapshot.segments.map((s) => ({s, ...firstInfo(s)}))
  const activeSeg = numbered.find((x) => x.s.n === undefined)?.seg
  const maxSealed = Math.max(sealed.at(-1) ?? 0, (activeSeg ?? 1) - 1)
  for (let n = 1; n <= maxSealed; n++) if (!sealed.includes(n)) result.missingSegments.push(n)
  const misnamed = numbered.find((x) => x.seg !== undefined && x.seg !== (x.s.n ?? maxSealed + 1))
  return {numbered, maxSealed, misnamed}
}

/** A record whose link broke, waiting for the two records after it to tell what happened. */
interface Pending {
  r: Line
  p?: Line
  beforeP: string
  next: Line[]
}

const where = (l: Line) => `${l.file}:${l.line}`

/** The walk along the chain, segment by segment, up to the first problem. */
class ChainWalk {
  private readonly mac: (b: Uint8Array) => string
  private readonly firstMissing: boolean
  /** The last record that linked. */
  private p: Line | undefined
  /** The link a record right after `p`'s predecessor would carry (the expected `prev` of `p`). */
  private beforeP = GENESIS
  private keyedSeen = false
  private headLink: string | undefined
  private pending: Pending | undefined
  private done = false
  /** Blank lines passed over (file:line), reported as a note. */
  private readonly blank: string[] = []

  constructor(
    private readonly result: ChainCheck,
    private readonly keys: AuditKeys,
    private readonly head: Head | undefined,
    private readonly seals: ReadonlyMap<SegmentSnapshot, string>,
    private readonly numbering: Numbering,
  ) {
    this.mac = fastMac(keys.chain)
    this.firstMissing = result.missingSegments[0] === 1
  }

  fail(problem: AuditProblem): void {
    this.result.intact = false
    this.result.problem = problem
    this.done = true
  }

  run(segments: SegmentSnapshot[]): void {
    const {numbered, misnamed, maxSealed} = this.numbering
    if (misnamed) {
      this.fail({
        kind: 'reordered',
        file: misnamed.s.file,
        line: 1,
        message: `${misnamed.s.file} holds segment ${misnamed.seg} of the log, not ${misnamed.s.n ?? maxSealed + 1}: segment files were renamed.`,
      })
    }
    /** A segment that does not match its seal: reported only if its records (and their neighbours) show nothing. */
    let sealMismatch: string | undefined
    for (const [i, seg] of segments.entries()) {
      if (this.done) break
      const before = this.result.records
      const next = numbered[i + 1]
      const sealed = seg.n !== undefined && next?.seg === seg.n + 1 ? this.viaSeal(seg, next.seal) : false
      if (sealed === true) {
        this.result.segments.push({
          segment: seg.n!,
          file: seg.file,
          records: this.result.records - before,
          bySeal: true,
        })
        continue
      }
      this.walkRecords(seg)
      if (sealed === 'mismatch') sealMismatch ??= seg.file
      this.result.segments.push({segment: seg.n ?? 'active', file: seg.file, records: this.result.records - before})
    }
    const {pending} = this
    if (pending && !this.done) this.classify(pending)
    if (sealMismatch !== undefined && !this.done) {
      this.fail({
        kind: 'changed',
        file: sealMismatch,
        message: `${sealMismatch} does not match the seal the next segment holds for it, though its records still link: it was rewritten by someone holding the audit key.`,
      })
    }
    this.result.lastSeq = this.p?.v === 2 ? this.p.seq : undefined
    if (this.blank.length > 0) {
      const shown = this.blank.slice(0, 3).join(', ') + (this.blank.length > 3 ? ', ...' : '')
      this.result.notes.push(
        `${this.blank.length} blank line(s) (${shown}) hold no record; the chain links across them, so they are harmless.`,
      )
    }
  }

  /** One segment, record by record. */
  private walkRecords(seg: SegmentSnapshot): void {
    let lineNo = 0
    const chunks = lineChunks(seg)
    let step = chunks.next()
    while (!step.done && !this.done) {
      const {buf, end} = step.value
      let start = 0
      while (start < end && !this.done) {
        const nl = buf.indexOf(10, start)
        lineNo += 1
        if (isBlank(buf, start, nl)) {
          this.blank.push(`${seg.file}:${lineNo}`)
          start = nl + 1
          continue
        }
        const line = readLine(buf, start, nl, seg.file, lineNo, this.mac, !this.keyedSeen)
        start = nl + 1
        if ('corrupt' in line) {
          if (this.pending) this.classify(this.pending)
          else
            this.fail({
              kind: 'corrupt',
              file: seg.file,
              line: lineNo,
              message: `${seg.file}:${lineNo} is not an access record (${line.corrupt}).`,
            })
          break
        }
        this.visit(line)
      }
      if (!this.done) step = chunks.next()
    }
    if (step.done && step.value.torn > 0 && !this.done) {
      if (seg.n === undefined)
        this.result.notes.push(
          `${step.value.torn} bytes of an interrupted write at the end of ${seg.file}; the next append removes them.`,
        )
      else if (!this.pending)
        this.fail({
          kind: 'corrupt',
          file: seg.file,
          line: lineNo + 1,
          message: `${seg.file} ends in ${step.value.torn} bytes that are not a complete record.`,
        })
    }
  }

  /** Check one record against the one before it; a broken link waits for two more records to say what happened. */
  private visit(line: Line): void {
    const {p, head} = this
    this.result.records += 1
    if (this.pending) {
      this.pending.next.push(line)
      if (this.pending.next.length === 2) this.classify(this.pending)
      return
    }
    if (line.v === 1) {
      if (this.keyedSeen) {
        this.fail({
          kind: 'inserted',
          file: line.file,
          line: line.line,
          message: `${line.file}:${line.line} is a version 1 record after keyed records: it was inserted.`,
        })
        return
      }
      this.result.legacy += 1
    } else {
      this.keyedSeen = true
      if (head && line.seq === head.seq) this.headLink = line.link
    }
    const skipFirst = p === undefined && this.firstMissing
    const expectedPrev = p === undefined ? GENESIS : line.v === 1 ? p.sha! : p.link
    const expectedSeq = p === undefined || p.v === 1 ? 1 : p.seq + 1
    if (!skipFirst && line.prev !== expectedPrev) {
      this.pending = {r: line, p, beforeP: this.beforeP, next: []}
      return
    }
    if (line.v === 2 && !skipFirst && line.seq !== expectedSeq) {
      // The link holds but the number is wrong: written by someone holding the key, or renumbered and relinked.
      this.fail({
        kind: 'changed',
        file: line.file,
        line: line.line,
        seq: line.seq,
        message: `${line.file}:${line.line} has seq ${line.seq} where ${expectedSeq} was expected.`,
      })
      return
    }
    this.beforeP = p?.link ?? GENESIS
    this.p = line
  }

  /** Say what a broken link means, from the records around it. */
  private classify({r, p: pp, beforeP: bp, next}: Pending): void {
    const {head, keys} = this
    const expectedPrev = pp?.link ?? GENESIS
    const expectedSeq = (pp?.seq ?? 0) + 1
    const n1 = next[0]
    if (pp && r.prev === bp) {
      this.fail({
        kind: 'inserted',
        file: pp.file,
        line: pp.line,
        seq: pp.seq,
        message: `The record at ${where(pp)} was inserted: the record after it links to the one before it.`,
      })
    } else if (r.v === 2 && r.seq !== expectedSeq && n1?.seq === expectedSeq) {
      this.fail({
        kind: 'reordered',
        ...at(r),
        message: `The record at ${where(r)} (seq ${r.seq}) is out of order: seq ${expectedSeq} comes after it.`,
      })
    } else if (
      (n1 && n1.prev === expectedPrev) ||
      (pp?.v === 2 && head !== undefined && pp.seq === head.seq && headMac(keys, head.seq, pp.link) === head.mac)
    ) {
      this.fail({
        kind: 'inserted',
        ...at(r),
        message: `The record at ${where(r)} was inserted: the record after it links to the one before it.`,
      })
    } else if (r.v === 2 && r.seq > expectedSeq) {
      const range = r.seq - 1 === expectedSeq ? `seq ${expectedSeq} is` : `seq ${expectedSeq} to ${r.seq - 1} are`
      this.fail({
        kind: 'removed',
        ...at(r),
        seq: expectedSeq,
        message: `Record ${range} missing before ${where(r)} (removed, or moved elsewhere${this.result.missingSegments.length > 0 ? ', or in a missing segment' : ''}).`,
      })
    } else if (pp && (r.v === 1 || r.seq === expectedSeq)) {
      this.fail({
        kind: 'changed',
        ...at(pp),
        message: `The record at ${where(pp)}${pp.v === 2 ? ` (seq ${pp.seq})` : ''} was changed: the next record's link does not match it.`,
      })
    } else if (pp) {
      this.fail({
        kind: 'reordered',
        ...at(r),
        message: `The record at ${where(r)} (seq ${r.seq}) is out of order: seq ${expectedSeq} was expected.`,
      })
    } else {
      this.fail({
        kind: 'changed',
        ...at(r),
        message: `The first record, at ${where(r)}, was changed: it does not start the chain.`,
      })
    }
  }

  /**
   * A sealed segment whose successor carries its seal (an HMAC of the whole file, made when it was
   * sealed after checking its chain) is checked in one pass over its bytes, plus its first and last
   * records against their neighbours. Returns false to check it record by record instead.
   */
  private viaSeal(seg: SegmentSnapshot, seal: string | undefined): boolean | 'mismatch' {
    const {p, head} = this
    if (seal === undefined || this.pending || seg.size === 0) return false
    const first = edgeLine(seg, 'first', this.mac)
    const last = edgeLine(seg, 'last', this.mac)
    if (first === undefined || last === undefined) return false
    const expectedPrev = p === undefined ? GENESIS : p.link
    const expectedSeq = p === undefined || p.v === 1 ? 1 : p.seq + 1
    const skipFirst = p === undefined && this.firstMissing
    if (!skipFirst && (first.prev !== expectedPrev || first.seq !== expectedSeq)) return false
    if (head && head.seq >= first.seq && head.seq < last.seq) return false
    if ((this.seals.get(seg) ?? segmentSeal(this.keys, seg)) !== seal) return 'mismatch'
    this.result.records += last.seq - first.seq + 1
    this.keyedSeen = true
    if (head && head.seq === last.seq) this.headLink = last.link
    this.beforeP = last.seq === first.seq ? (p?.link ?? GENESIS) : last.prev
    this.p = last
    return true
  }

  /** After the walk: the head must cover the last record, so records removed from the end show. */
  checkHead(snapshot: AuditSnapshot): void {
    const {p, head, result} = this
    if (this.done) return
    const headFile = auditHeadFile(result.log)
    if (head === undefined) {
      if (this.keyedSeen)
        this.fail({
          kind: 'head-missing',
          file: headFile,
          message: `The head file ${headFile} is missing, so records removed from the end could not be detected.`,
        })
      // The audit key is made with the first keyed record and its head: a log without either, while the
      // key exists, was emptied or replaced (version 1 records carry no key, so anyone can write them).
      else
        this.fail({
          kind: 'removed',
          file: result.log,
          message:
            result.records === 0
              ? `The access log ${result.log} holds no record, but its audit key ${this.keys.file} exists (it is made with the first record): the log was emptied.`
              : `The access log ${result.log} holds only version 1 records and no head file, but its audit key ${this.keys.file} exists (it is made with the first keyed record): the keyed records were removed or the log was replaced.`,
        })
    } else if ((result.lastSeq ?? 0) < head.seq) {
      const from = (result.lastSeq ?? 0) + 1
      const last = p ? where(p) : 'the start'
      this.fail({
        kind: 'removed',
        file: p?.file ?? result.log,
        line: p ? p.line + 1 : undefined,
        seq: from,
        message: `Record${from === head.seq ? ` seq ${from} is` : `s seq ${from} to ${head.seq} are`} missing after ${last}: removed from the end of the log${snapshot.segments.at(-1)?.n === undefined ? '' : ', or the active segment was removed'}.`,
      })
    } else if (this.headLink === undefined || headMac(this.keys, head.seq, this.headLink) !== head.mac) {
      this.fail({
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
}

/** Where a record is, for a problem. */
function at(l: Line): {file: string; line: number; seq: number} {
  return {file: l.file, line: l.line, seq: l.seq}
}
