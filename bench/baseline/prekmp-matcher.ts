// The matcher before long values fell back along a failure function (commit de44a7d), kept for bench/redact-memory.mjs.
import {Automaton} from '../../src/core/exec/automaton.js'
import {ANCHOR, type LongCursor, LongValues} from './prekmp-long-values.js'
import {type Match, type RedactPattern} from '../../src/core/exec/match-types.js'

export {type Match, type RedactPattern} from '../../src/core/exec/match-types.js'

/** Up to this many values of up to this many bytes, all go to the skip loop: the fastest case. */
const ALL_SHORT_MAX = 256
const EMPTY = Buffer.alloc(0)

/**
 * A multi-pattern matcher over bytes, streaming, with memory linear in the values' total length and a
 * small constant. Values of at least ANCHOR bytes (certificate bundles, key files and their lines) are
 * found by their first bytes and compared with the output directly (long-values.ts: a few dozen bytes
 * a value beside the value itself). Shorter values go to an Aho-Corasick automaton (automaton.ts: about
 * 30 bytes a byte of value). The usual case, a few hundred values of up to a few hundred bytes, goes to
 * the automaton's skip loop whole, as it is fastest there.
 */
export class Matcher {
  private readonly short: Automaton
  private readonly long: LongValues | undefined

  constructor(readonly patterns: RedactPattern[]) {
    const allShort = patterns.length <= ALL_SHORT_MAX && patterns.every((p) => p.value.length <= ALL_SHORT_MAX)
    const short = allShort ? patterns : patterns.filter((p) => p.value.length < ANCHOR)
    const long = allShort ? [] : patterns.filter((p) => p.value.length >= ANCHOR)
    this.short = new Automaton(short)
    this.long = long.length > 0 ? new LongValues(long) : undefined
  }

  /** A reader of one stream, from stream offset `at`. */
  cursor(at = 0): Cursor {
    return new Cursor(this.short, this.long?.cursor(at), at)
  }

  /**
   * Scan a whole buffer: the masked ranges (overlapping matches merged, each named after its leftmost
   * match, the longest at a tie) and how many trailing bytes could still be the start of a match.
   */
  scan(buf: Buffer): {ranges: Match[]; pending: number} {
    const {matches, undecided} = this.cursor().feed(buf)
    return {ranges: mergeMatches(matches), pending: buf.length - undecided}
  }
}

/** One stream's reading: matches as their last byte arrives, and how far back it is still undecided. */
export class Cursor {
  private state = 0
  /** Skip loop only: the last bytes that could start a short value, read again with the next chunk. */
  private tail: Buffer = EMPTY

  constructor(
    private readonly short: Automaton,
    private readonly long: LongCursor | undefined,
    private at: number,
  ) {}

  /**
   * Read the next chunk: the matches that end in it (stream offsets, in order of their end), and the
   * first stream offset where a match could still start (everything before it is decided).
   */
  feed(chunk: Buffer): {matches: Match[]; undecided: number} {
    const at = this.at
    const {short} = this
    let matches: Match[]
    let pending: number
    if (short.incremental) {
      const found = short.find(chunk, 0, this.state)
      this.state = found.state
      pending = short.depthOf(found.state)
      matches = found.matches.map((m) => ({start: m.start + at, end: m.end + at, name: m.name}))
    } else {
      ;({matches, pending} = this.skipLoop(chunk, at))
    }
    this.at = at + chunk.length
    let undecided = this.at - pending
    if (this.long !== undefined) {
      const long = this.long.feed(chunk)
      matches = matches.concat(long.matches)
      undecided = Math.min(undecided, long.undecided)
    }
    if (matches.length > 1) matches.sort((a, b) => a.end - b.end || a.start - b.start)
    return {matches, undecided}
  }

  /**
   * The skip loop does not resume: matches that start in the few bytes held from the last chunk are
   * found in those bytes and the chunk's first bytes, the rest in the chunk (not copied whole).
   */
  private skipLoop(chunk: Buffer, at: number): {matches: Match[]; pending: number} {
    const {short, tail} = this
    const shift = (base: number) => (m: Match) => ({start: m.start + base, end: m.end + base, name: m.name})
    let matches: Match[]
    let pending: number
    if (tail.length === 0 || chunk.length < short.maxLen) {
      const buf = tail.length === 0 ? chunk : Buffer.concat([tail, chunk])
      const found = short.find(buf)
      pending = short.depthOf(found.state)
      matches = found.matches.filter((m) => m.end > tail.length).map(shift(at - tail.length))
      this.tail = pending === 0 ? EMPTY : Buffer.from(buf.subarray(buf.length - pending))
      return {matches, pending}
    }
    const joined = Buffer.concat([tail, chunk.subarray(0, short.maxLen - 1)])
    const head = short.find(joined).matches.filter((m) => m.start < tail.length && m.end > tail.length)
    const found = short.find(chunk)
    pending = short.depthOf(found.state)
    matches = head.map(shift(at - tail.length)).concat(found.matches.map(shift(at)))
    this.tail = pending === 0 ? EMPTY : Buffer.from(chunk.subarray(chunk.length - pending))
    return {matches, pending}
  }
}

/** Overlapping matches as one range each, named after the leftmost (the longest at a tie), in order. */
export function mergeMatches(matches: Match[]): Match[] {
  if (matches.length === 0) return []
  const sorted = [...matches].sort((a, b) => a.start - b.start || b.end - a.end)
  const ranges: Match[] = []
  for (const m of sorted) {
    const last = ranges.at(-1)
    if (last !== undefined && m.start < last.end) last.end = Math.max(last.end, m.end)
    else ranges.push({...m})
  }
  return ranges
}
