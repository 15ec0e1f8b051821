import {createHash} from 'node:crypto'
import {Transform, type TransformCallback} from 'node:stream'

import {type Cursor, type Match, type Matcher, type RedactPattern} from './matcher.js'

export {Matcher, type RedactPattern} from './matcher.js'

export const MIN_MASK_LENGTH = 4
/** Masked output goes out in pieces of about this size (a pipe's buffer). */
const OUT_PIECE = 65_536

/** The marker that replaces a value: `<secret:NAME>`. */
export function marker(name: string): Buffer {
  return Buffer.from(`<secret:${name}>`, 'utf8')
}

/** `value` without one final `\n` or `\r\n`. */
export function withoutFinalNewline(value: Buffer): Buffer {
  if (value.length === 0 || value[value.length - 1] !== 0x0a) return value
  return value.subarray(0, value.length > 1 && value[value.length - 2] === 0x0d ? -2 : -1)
}

/**
 * The byte patterns to mask for a set of secrets: each value, the value without a final newline, the
 * value with `\n` as `\r\n` (how a terminal prints it), and each line of a multiline value that is
 * long enough to be worth masking on its own (a program may print one line of a key). All of it on the
 * value's bytes (lines are views into the value), so a multi-megabyte value costs no copies as text.
 * Values shorter than MIN_MASK_LENGTH are skipped; the caller warns about them.
 */
export function patternsFor(secrets: Array<{name: string; value: Buffer}>): {
  patterns: RedactPattern[]
  tooShort: string[]
} {
  const patterns: RedactPattern[] = []
  const tooShort: string[] = []
  const seen = new Set<string>()
  const add = (name: string, value: Buffer) => {
    if (value.length < MIN_MASK_LENGTH) return
    const key =
      value.length <= 64 ? `=${value.toString('latin1')}` : `#${createHash('sha256').update(value).digest('base64')}`
    if (seen.has(key)) return
    seen.add(key)
    patterns.push({name, value})
  }
  for (const {name, value} of secrets) {
    // A value read from a file often ends with one newline that the program prints without.
    const trimmed = withoutFinalNewline(value)
    if (trimmed.length < MIN_MASK_LENGTH) {
      if (value.length > 0) tooShort.push(name)
      if (value.length < MIN_MASK_LENGTH) continue
    }
    add(name, value)
    add(name, trimmed)
    if (value.includes(0x0a)) {
      add(name, withCrlf(value))
      for (const line of linesOf(value)) if (worthMasking(line)) add(name, line)
    }
  }
  return {patterns, tooShort}
}

/** `value` with every `\n` not already after a `\r` as `\r\n`. */
function withCrlf(value: Buffer): Buffer {
  const lone: number[] = []
  for (let i = value.indexOf(0x0a); i !== -1; i = value.indexOf(0x0a, i + 1)) if (value[i - 1] !== 0x0d) lone.push(i)
  const out = Buffer.allocUnsafe(value.length + lone.length)
  let from = 0
  let to = 0
  for (const i of lone) {
    to += value.copy(out, to, from, i)
    out[to++] = 0x0d
    from = i
  }
  value.copy(out, to, from)
  return out
}

/** The lines of `value` (split at `\n` and `\r\n`), as views into it. */
function linesOf(value: Buffer): Buffer[] {
  const lines: Buffer[] = []
  let from = 0
  for (let i = value.indexOf(0x0a); i !== -1; i = value.indexOf(0x0a, from)) {
    lines.push(value.subarray(from, i > from && value[i - 1] === 0x0d ? i - 1 : i))
    from = i + 1
  }
  lines.push(value.subarray(from))
  return lines
}

/** A line of at least 2 * MIN_MASK_LENGTH characters besides white space at its ends. */
function worthMasking(line: Buffer): boolean {
  const need = 2 * MIN_MASK_LENGTH
  if (line.length < need) return false
  // Printable ASCII is never white space, so counting it decides most lines without decoding them.
  let printable = 0
  for (let i = 0; i < line.length && printable < need; i++) if (line[i] > 0x20 && line[i] < 0x7f) printable++
  return printable >= need || line.toString('utf8').trim().length >= need
}

/**
 * A stream that replaces every secret value with `<secret:NAME>`, also when a value is split across
 * chunks: it holds back only the trailing bytes that could be the start of a value (none, for ordinary
 * output), so prompts and partial lines still appear at once. While a long value may be occurring, the
 * output from its start is held until it is decided (at most the value's length).
 */
export class RedactStream extends Transform {
  /** Bytes read but not yet passed on; `heldAt` is the stream offset of the first. */
  private held: Buffer[] = []
  private heldLength = 0
  private heldAt = 0
  /** The matcher's reading of this stream, and the merged ranges not yet passed on (stream offsets). */
  private cursor: Cursor | undefined
  private cursorOf: Matcher | undefined
  private ranges: Match[] = []
  private readonly source: () => Matcher

  /** `matcher` may be a function, read at every chunk, so values added later (exec --watch) are masked too. */
  constructor(matcher: Matcher | (() => Matcher)) {
    super()
    this.source = typeof matcher === 'function' ? matcher : () => matcher
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.release(this.consume(chunk))
    callback()
  }

  /** Read a chunk; returns the first stream offset not yet decided. */
  private consume(chunk: Buffer): number {
    const matcher = this.source()
    let data = chunk
    if (this.cursor === undefined || this.cursorOf !== matcher) {
      // A new matcher (--watch added values) reads the held bytes again from their start.
      data = this.heldLength === 0 ? chunk : Buffer.concat([...this.held, chunk])
      this.held = []
      this.heldLength = 0
      this.ranges = []
      this.cursor = matcher.cursor(this.heldAt)
      this.cursorOf = matcher
    }
    const {matches, undecided} = this.cursor.feed(data)
    for (const m of matches) pushMerged(this.ranges, m)
    if (data.length > 0) this.held.push(data)
    this.heldLength += data.length
    return undecided
  }

  /** Pass on everything before `boundary` (a stream offset), never splitting a masked range. */
  private release(boundary: number): void {
    let cut = boundary
    for (let i = this.ranges.length - 1; i >= 0 && this.ranges[i].end > cut; i--)
      if (this.ranges[i].start < cut) cut = this.ranges[i].start
    const count = cut - this.heldAt
    if (count <= 0) return
    let done = 0
    while (done < this.ranges.length && this.ranges[done].end <= cut) done++
    this.emit_(this.takeHeld(count), this.ranges.slice(0, done), this.heldAt)
    this.ranges = this.ranges.slice(done)
    this.heldAt = cut
  }

  /** The first `count` held bytes, as the held chunks (or parts of them) they are in. */
  private takeHeld(count: number): Buffer[] {
    const parts: Buffer[] = []
    let need = count
    let used = 0
    while (need > 0) {
      const b = this.held[used]
      if (b.length <= need) {
        parts.push(b)
        need -= b.length
        used++
      } else {
        parts.push(b.subarray(0, need))
        this.held[used] = b.subarray(need)
        need = 0
      }
    }
    this.held.splice(0, used)
    this.heldLength -= count
    return parts
  }

  override _flush(callback: TransformCallback): void {
    if (this.heldLength > 0) {
      // Only complete matches are ranges, so the held bytes can go out with them as they are.
      if (this.cursorOf !== this.source()) this.consume(Buffer.alloc(0))
      this.release(this.heldAt + this.heldLength)
    }
    callback()
  }

  /**
   * Push `parts` (consecutive, the first at stream offset `at`) with each range replaced by its marker,
   * in pieces of about OUT_PIECE bytes: a masked long value is never copied, and one that was not is
   * copied once, never as one buffer of its whole length.
   */
  private emit_(parts: Buffer[], ranges: Match[], at: number): void {
    if (ranges.length === 0 && parts.length === 1) {
      this.push(parts[0])
      return
    }
    const out: Buffer[] = []
    let outLength = 0
    const put = (b: Buffer) => {
      if (b.length === 0) return
      out.push(b)
      outLength += b.length
      if (outLength >= OUT_PIECE) {
        this.push(out.length === 1 ? out[0] : Buffer.concat(out))
        out.length = 0
        outLength = 0
      }
    }
    let r = 0
    let partAt = at
    for (const part of parts) {
      let from = 0
      while (from < part.length) {
        const range = ranges[r]
        const pos = partAt + from
        if (range === undefined || range.start >= partAt + part.length) {
          put(part.subarray(from))
          break
        }
        if (pos < range.start) {
          put(part.subarray(from, range.start - partAt))
          from = range.start - partAt
          continue
        }
        if (pos === range.start) put(marker(range.name))
        // Skip the masked bytes in this part; the range may go on into the next.
        from = Math.min(part.length, range.end - partAt)
        if (range.end <= partAt + from) r++
      }
      partAt += part.length
    }
    if (outLength > 0) this.push(out.length === 1 ? out[0] : Buffer.concat(out))
  }
}

/**
 * Add a match (found in order of its end) to sorted, disjoint ranges: it absorbs the ranges it
 * overlaps, and the union is named after the leftmost (the longest at a tie).
 */
function pushMerged(ranges: Match[], m: Match): void {
  let {start, end, name} = m
  while (ranges.length > 0 && ranges.at(-1)!.end > start) {
    const last = ranges.pop()!
    if (last.start < start || (last.start === start && last.end > end)) name = last.name
    start = Math.min(start, last.start)
    end = Math.max(end, last.end)
  }
  ranges.push({start, end, name})
}

/** Redact a whole buffer at once (for tests and small outputs). */
export function redactBuffer(matcher: Matcher, buf: Buffer): Buffer {
  const {ranges} = matcher.scan(buf)
  if (ranges.length === 0) return buf
  const parts: Buffer[] = []
  let at = 0
  for (const r of ranges) {
    parts.push(buf.subarray(at, r.start), marker(r.name))
    at = r.end
  }
  parts.push(buf.subarray(at))
  return Buffer.concat(parts)
}
