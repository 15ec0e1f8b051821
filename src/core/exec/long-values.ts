import {type Match, type RedactPattern} from './match-types.js'

/** A long value is found by its first ANCHOR bytes, then compared byte for byte as the stream goes. */
export const ANCHOR = 32

/**
 * The rolling hash of a window is a gear hash: h = (h << 1) + GEAR[byte] for each byte, mod 2^32. A
 * byte's share is shifted out after 32 more bytes, so the hash of the last ANCHOR (32) bytes rolls
 * with one shift and one add a byte, with nothing to take out (as in FastCDC's content-defined chunking).
 */
const GEAR = (() => {
  // splitmix32 from a fixed seed: the same table (and the same collisions) in every run.
  const table = new Int32Array(256)
  let x = 0x2545f491
  for (let i = 0; i < 256; i++) {
    x = (x + 0x9e3779b9) | 0
    let z = x
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
    table[i] = z ^ (z >>> 16)
  }
  return table
})()
/** Fibonacci hashing: a window's hash times this, its high bits index the tables. */
const GOLDEN = -1_640_531_535
const EMPTY = Buffer.alloc(0)
/** The filter has 2^FILTER_BITS bits a slot (16-32 a value): about 5% of other windows pass it. */
const FILTER_BITS = 3

function hashAt(buf: Uint8Array, from: number): number {
  let h = 0
  for (let i = from; i < from + ANCHOR; i++) h = ((h << 1) + GEAR[buf[i]]) | 0
  return h
}

/**
 * A long value that may be occurring: it starts at stream offset `start` and has matched up to `next`.
 * For a value with a failure table, `start` moves on when the candidate falls back; once `done`,
 * `next` is where its matched bytes ended.
 */
interface Candidate {
  pattern: number
  start: number
  next: number
  done: boolean
}

/**
 * Knuth-Morris-Pratt's failure function: `fail[i]` is the length of the longest proper prefix of
 * `value[0..i]` that is also its suffix.
 */
function failureOf(value: Uint8Array): Int32Array {
  const fail = new Int32Array(value.length)
  for (let i = 1, k = 0; i < value.length; i++) {
    while (k > 0 && value[i] !== value[k]) k = fail[k - 1]
    if (value[i] === value[k]) k++
    fail[i] = k
  }
  return fail
}

/**
 * The values of at least ANCHOR bytes (a certificate bundle under `files:`, and its lines). No trie:
 * per value, the hash of its first ANCHOR bytes (4 bytes) in a bit filter (2-4 bytes) and an open
 * addressing table (8-16 bytes), a bit for its first 4 bytes, and its place in a list sorted by its
 * first bytes (4 bytes): 20-30 bytes a value, beside the value itself (a trie took 30 a byte). A
 * rolling hash over the output finds where a value could start; from there it is compared with the
 * output directly, so a value of megabytes costs its own bytes and a few dozen more, not a trie node
 * per byte. The sorted list answers "could these last few bytes be the start of a value" at a chunk's
 * end, so only those are held back.
 *
 * A value whose first ANCHOR bytes occur in it again (a run of one character, a repeated block) could
 * start again inside its own candidate at every such offset, so it also keeps a failure table (4 bytes
 * a byte, for those values only): it has at most one candidate a stream, which falls back along the
 * table on a mismatch or a completed match, as in Knuth-Morris-Pratt, instead of one candidate per
 * start compared up to the value's length each. Any other value cannot start inside its own matched
 * bytes, so it needs no table and its candidate simply ends there.
 */
export class LongValues {
  readonly hashOf: Int32Array
  /** Bit k: some value's hash maps to k (one lookup rejects most windows). */
  readonly filter: Uint8Array
  readonly filterShift: number
  /** Open addressing, linear probing: a value's index + 1, 0 for an empty slot. */
  readonly slots: Int32Array
  readonly slotShift: number
  /** The failure tables of the values whose first ANCHOR bytes occur in them again, by value index. */
  readonly fail = new Map<number, Int32Array>()
  /** Value indices sorted by their first ANCHOR bytes; which bytes start a value; bit per hash of 4 first bytes. */
  private readonly byAnchor: Int32Array
  private readonly firstByte = new Uint8Array(256)
  private readonly first4: Uint8Array
  private readonly first4Shift: number

  constructor(readonly patterns: RedactPattern[]) {
    let bits = 1
    while (1 << bits < 2 * patterns.length) bits++
    this.slots = new Int32Array(1 << bits)
    this.slotShift = 32 - bits
    this.filter = new Uint8Array(1 << (bits + FILTER_BITS - 3))
    this.filterShift = 32 - (bits + FILTER_BITS)
    this.hashOf = new Int32Array(patterns.length)
    this.first4 = new Uint8Array(1 << bits)
    this.first4Shift = 32 - (bits + 3)
    const mask = (1 << bits) - 1
    for (const [i, p] of patterns.entries()) {
      if (p.value.length < ANCHOR) throw new RangeError(`a long value has at least ${ANCHOR} bytes`)
      const h = hashAt(p.value, 0)
      this.hashOf[i] = h
      const k = Math.imul(h, GOLDEN) >>> this.filterShift
      this.filter[k >>> 3] |= 1 << (k & 7)
      let j = Math.imul(h, GOLDEN) >>> this.slotShift
      while (this.slots[j] !== 0) j = (j + 1) & mask
      this.slots[j] = i + 1
      this.firstByte[p.value[0]] = 1
      if (p.value.indexOf(p.value.subarray(0, ANCHOR), 1) !== -1) this.fail.set(i, failureOf(p.value))
      const f = Math.imul(p.value.readInt32LE(0), GOLDEN) >>> this.first4Shift
      this.first4[f >>> 3] |= 1 << (f & 7)
    }
    const order = Array.from({length: patterns.length}, (_, i) => i)
    order.sort((a, b) => patterns[a].value.compare(patterns[b].value, 0, ANCHOR, 0, ANCHOR))
    this.byAnchor = Int32Array.from(order)
  }

  /** A reader of one stream, from stream offset `at`. */
  cursor(at = 0): LongCursor {
    return new LongCursor(this, at)
  }

  /** True when the filter says a window with hash `h` could start a value. */
  maybe(h: number): boolean {
    const k = Math.imul(h, GOLDEN) >>> this.filterShift
    return (this.filter[k >>> 3] & (1 << (k & 7))) !== 0
  }

  /** True when `buf[from..]` (shorter than ANCHOR) is the start of some value. */
  startsSome(buf: Buffer, from: number): boolean {
    const n = buf.length - from
    if (n <= 0 || this.firstByte[buf[from]] === 0) return false
    if (n >= 4) {
      const f = Math.imul(buf.readInt32LE(from), GOLDEN) >>> this.first4Shift
      if ((this.first4[f >>> 3] & (1 << (f & 7))) === 0) return false
    }
    const {byAnchor, patterns} = this
    let lo = 0
    let hi = byAnchor.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (patterns[byAnchor[mid]].value.compare(buf, from, from + n, 0, n) < 0) lo = mid + 1
      else hi = mid
    }
    return lo < byAnchor.length && patterns[byAnchor[lo]].value.compare(buf, from, from + n, 0, n) === 0
  }
}

/**
 * One stream's reading of the long values: the candidates still being compared, the last ANCHOR-1
 * bytes (a window can start in the previous chunk), and which of those could still start a value.
 */
export class LongCursor {
  private live: Candidate[] = []
  /** Values with a failure table -> their one candidate (live, or done in the chunk being read). */
  private readonly own = new Map<number, Candidate>()
  /** In the chunk being read, windows with hash `skipHash` up to stream offset `skipUntil` start no candidate. */
  private skipHash = 0
  private skipUntil = -1
  private tail: Buffer = EMPTY
  /** Stream offsets in the tail where the bytes read so far are the start of some value. */
  private possible: number[] = []
  /** Bytes of values compared with the output so far (for tests: the work, not the time). */
  compared = 0

  constructor(
    private readonly values: LongValues,
    private at: number,
  ) {}

  /** Read the next chunk: the values it completes, and the first offset that is not yet decided. */
  feed(chunk: Buffer): {matches: Match[]; undecided: number} {
    const matches: Match[] = []
    const at = this.at
    this.skipUntil = -1
    this.live = this.live.filter((c) => this.extend(c, chunk, at, matches))
    if (this.tail.length > 0 && chunk.length > 0) {
      // Windows that start in the tail and end in this chunk.
      const joined = Buffer.concat([this.tail, chunk.subarray(0, ANCHOR - 1)])
      const base = at - this.tail.length
      for (let s = 0; s + ANCHOR <= joined.length; s++) {
        const h = hashAt(joined, s)
        if (this.values.maybe(h)) this.hit(h, joined, s, base, chunk, at, matches)
      }
    }
    this.scan(chunk, at, matches)
    this.at = at + chunk.length
    this.keepTail(chunk)
    for (const [pattern, c] of this.own) if (c.done) this.own.delete(pattern)
    let held = this.possible[0] ?? this.at
    for (const c of this.live) held = Math.min(held, c.start)
    return {matches, undecided: held}
  }

  /** The rolling hash over every window that starts in `chunk`: the hot loop. */
  private scan(chunk: Buffer, at: number, matches: Match[]): void {
    const n = chunk.length
    if (n < ANCHOR) return
    const {filter, filterShift} = this.values
    let h = hashAt(chunk, 0)
    for (let s = 0; ; s++) {
      const k = Math.imul(h, GOLDEN) >>> filterShift
      if ((filter[k >>> 3] & (1 << (k & 7))) !== 0 && (h !== this.skipHash || at + s > this.skipUntil))
        this.hit(h, chunk, s, at, chunk, at, matches)
      if (s + ANCHOR >= n) break
      h = ((h << 1) + GEAR[chunk[s + ANCHOR]]) | 0
    }
  }

  /**
   * A window at `buf[s..]` (stream offset `base + s`) whose hash passed the filter: start a candidate
   * for each value whose first ANCHOR bytes it is. A window inside the matched bytes of a value's own
   * candidate is passed over without comparing: if the value starts there, the candidate's fallback
   * reaches that start (a start whose window was not yet complete when the candidate fell back or
   * ended lies past its matched bytes, so it is read here as usual). When every value with this hash
   * is passed over, so are the next windows with it up to where the first of those candidates' matched
   * bytes end.
   */
  private hit(h: number, buf: Buffer, s: number, base: number, chunk: Buffer, at: number, matches: Match[]): void {
    const {hashOf, patterns, slots, slotShift} = this.values
    const mask = slots.length - 1
    const start = base + s
    let covered = Infinity
    for (let j = Math.imul(h, GOLDEN) >>> slotShift; slots[j] !== 0; j = (j + 1) & mask) {
      const pattern = slots[j] - 1
      if (hashOf[pattern] !== h) continue
      const own = this.own.size === 0 ? undefined : this.own.get(pattern)
      if (own !== undefined && start + ANCHOR <= own.next) {
        covered = Math.min(covered, own.next - ANCHOR)
        continue
      }
      covered = -1
      this.compared += ANCHOR
      if (patterns[pattern].value.compare(buf, s, s + ANCHOR, 0, ANCHOR) !== 0) continue
      const c = {pattern, start, next: start + ANCHOR, done: false}
      if (this.values.fail.has(pattern)) this.own.set(pattern, c)
      if (this.extend(c, chunk, at, matches)) this.live.push(c)
    }
    if (covered !== Infinity && covered > start) {
      this.skipHash = h
      this.skipUntil = covered
    }
  }

  /** Compare a candidate with the chunk as far as both go: false when it is decided (failed or matched). */
  private extend(c: Candidate, chunk: Buffer, at: number, matches: Match[]): boolean {
    const fail = this.values.fail.size === 0 ? undefined : this.values.fail.get(c.pattern)
    if (fail !== undefined) return this.follow(c, fail, chunk, at, matches)
    const p = this.values.patterns[c.pattern]
    const from = c.next - c.start
    const offset = c.next - at
    const n = Math.min(p.value.length - from, chunk.length - offset)
    // A compare that fails counts its whole length: an upper bound.
    this.compared += Math.max(0, n)
    if (n > 0 && chunk.compare(p.value, from, from + n, offset, offset + n) !== 0) return false
    c.next += n
    if (c.next - c.start < p.value.length) return true
    matches.push({start: c.start, end: c.next, name: p.name})
    return false
  }

  /**
   * Knuth-Morris-Pratt over the chunk for a value with a failure table: every occurrence that starts
   * at or after the candidate's start is found, overlapping ones included. On a mismatch after q
   * bytes, or after a whole match, the candidate falls back to the longest border that the next byte
   * extends; below ANCHOR bytes it is done, since the hash finds those starts once their window is
   * complete. False when done. Overlapping occurrences after the first in a chunk go out as one match,
   * their union, from the second's start: since the first starts before it, the merged range and its
   * name (of the leftmost, longest at a tie) are what the occurrences one by one would give, and a run
   * of one character costs a few matches a chunk, not one a byte.
   */
  private follow(c: Candidate, fail: Int32Array, chunk: Buffer, at: number, matches: Match[]): boolean {
    const {value, name} = this.values.patterns[c.pattern]
    const m = value.length
    let q = c.next - c.start
    let compared = 0
    let end = -1
    let first: Match | undefined
    let rest: Match | undefined
    for (let i = c.next - at; i < chunk.length && end === -1; i++) {
      const b = chunk[i]
      for (compared++; value[q] !== b; compared++) {
        q = fail[q - 1]
        if (q < ANCHOR) break
      }
      if (q < ANCHOR) end = at + i
      else if (++q === m) {
        const start = at + i + 1 - m
        if (rest !== undefined && start < rest.end) rest.end = at + i + 1
        else if (first !== undefined && start < first.end) {
          rest = {start, end: at + i + 1, name}
          matches.push(rest)
        } else {
          first = {start, end: at + i + 1, name}
          rest = undefined
          matches.push(first)
        }
        q = fail[m - 1]
        if (q < ANCHOR) end = at + i + 1
      }
    }
    this.compared += compared
    if (end !== -1) {
      c.next = end
      c.done = true
      return false
    }
    c.next = at + chunk.length
    c.start = c.next - q
    return true
  }

  /** Keep the last ANCHOR-1 bytes, and the offsets among them that could still start a value. */
  private keepTail(chunk: Buffer): void {
    const oldEnd = this.at - chunk.length
    const joined = chunk.length >= ANCHOR - 1 ? chunk : Buffer.concat([this.tail, chunk])
    this.tail = Buffer.from(joined.subarray(Math.max(0, joined.length - (ANCHOR - 1))))
    const tailAt = this.at - this.tail.length
    const check = this.possible.filter((s) => s >= tailAt)
    for (let s = Math.max(oldEnd, tailAt); s < this.at; s++) check.push(s)
    this.possible = check.filter((s) => this.values.startsSome(this.tail, s - tailAt))
  }
}
