// The anchored long-value matcher before KMP fallback (commit de44a7d), kept for bench/redact-memory.mjs.
import {type Match, type RedactPattern} from '../../src/core/exec/match-types.js'

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

/** A long value that may be occurring: it started at stream offset `start`, and matched up to `next`. */
interface Candidate {
  pattern: number
  start: number
  next: number
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
 */
export class LongValues {
  private readonly hashOf: Int32Array
  /** Bit k: some value's hash maps to k (one lookup rejects most windows). */
  readonly filter: Uint8Array
  readonly filterShift: number
  /** Open addressing, linear probing: a value's index + 1, 0 for an empty slot. */
  private readonly slots: Int32Array
  private readonly slotShift: number
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

  /** The values whose first ANCHOR bytes are `buf[at..at+ANCHOR)` and hash to `h`, as indices. */
  startingAt(h: number, buf: Uint8Array, at: number): number[] {
    const found: number[] = []
    const mask = this.slots.length - 1
    for (let j = Math.imul(h, GOLDEN) >>> this.slotShift; this.slots[j] !== 0; j = (j + 1) & mask) {
      const p = this.slots[j] - 1
      if (this.hashOf[p] === h && this.patterns[p].value.compare(buf, at, at + ANCHOR, 0, ANCHOR) === 0) found.push(p)
    }
    return found
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
 * One stream's reading of the long values: the candidates still being compared (in order of their
 * start), the last ANCHOR-1 bytes (a window can start in the previous chunk), and which of those
 * could still start a value.
 */
export class LongCursor {
  private live: Candidate[] = []
  private tail: Buffer = EMPTY
  /** Stream offsets in the tail where the bytes read so far are the start of some value. */
  private possible: number[] = []

  constructor(
    private readonly values: LongValues,
    private at: number,
  ) {}

  /** Read the next chunk: the values it completes, and the first offset that is not yet decided. */
  feed(chunk: Buffer): {matches: Match[]; undecided: number} {
    const matches: Match[] = []
    const at = this.at
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
    const held = Math.min(this.possible[0] ?? this.at, this.live[0]?.start ?? this.at)
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
      if ((filter[k >>> 3] & (1 << (k & 7))) !== 0) this.hit(h, chunk, s, at, chunk, at, matches)
      if (s + ANCHOR >= n) break
      h = ((h << 1) + GEAR[chunk[s + ANCHOR]]) | 0
    }
  }

  /** A window at `buf[s..]` (stream offset `base + s`) whose hash passed the filter: start its candidates. */
  private hit(h: number, buf: Buffer, s: number, base: number, chunk: Buffer, at: number, matches: Match[]): void {
    for (const pattern of this.values.startingAt(h, buf, s)) {
      const c = {pattern, start: base + s, next: base + s + ANCHOR}
      if (this.extend(c, chunk, at, matches)) this.live.push(c)
    }
  }

  /** Compare a candidate with the chunk as far as both go: false when it is decided (failed or matched). */
  private extend(c: Candidate, chunk: Buffer, at: number, matches: Match[]): boolean {
    const p = this.values.patterns[c.pattern]
    const from = c.next - c.start
    const offset = c.next - at
    const n = Math.min(p.value.length - from, chunk.length - offset)
    if (n > 0 && chunk.compare(p.value, from, from + n, offset, offset + n) !== 0) return false
    c.next += n
    if (c.next - c.start < p.value.length) return true
    matches.push({start: c.start, end: c.next, name: p.name})
    return false
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
