// The sparse Aho-Corasick matcher before long values were matched by anchor (issue 17 item 1, commit 888d002), kept for bench/redact-memory.mjs.
import {Transform, type TransformCallback} from 'node:stream'

import {type Match, type Matcher, type RedactPattern} from './sparse-matcher.js'

export {Matcher, type RedactPattern} from './sparse-matcher.js'

export const MIN_MASK_LENGTH = 4

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
 * The byte patterns to mask for a set of secrets: each value, the value with `\n` as `\r\n` (how a
 * terminal prints it), the value without a final newline, and each line of a multiline value that is long enough to be worth masking on
 * its own (a program may print one line of a key). Values shorter than MIN_MASK_LENGTH are skipped;
 * the caller warns about them.
 */
export function patternsFor(secrets: Array<{name: string; value: Buffer}>): {
  patterns: RedactPattern[]
  tooShort: string[]
} {
  const patterns: RedactPattern[] = []
  const tooShort: string[] = []
  const seen = new Set<string>()
  const add = (name: string, value: Buffer) => {
    const key = value.toString('latin1')
    if (value.length < MIN_MASK_LENGTH || seen.has(key)) return
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
    const text = value.toString('utf8')
    if (text.includes('\n')) {
      add(name, Buffer.from(text.replaceAll('\r\n', '\n').replaceAll('\n', '\r\n'), 'utf8'))
      for (const line of text.split(/\r?\n/))
        if (line.trim().length >= 2 * MIN_MASK_LENGTH) add(name, Buffer.from(line, 'utf8'))
    }
  }
  return {patterns, tooShort}
}

/**
 * A stream that replaces every secret value with `<secret:NAME>`, also when a value is split across
 * chunks: it holds back only the trailing bytes that could be the start of a value (none, for ordinary
 * output), so prompts and partial lines still appear at once.
 */
export class RedactStream extends Transform {
  /** Bytes read but not yet passed on; `heldAt` is the stream offset of the first. */
  private held: Buffer[] = []
  private heldLength = 0
  private heldAt = 0
  /** Resuming automaton only: its state after everything read, and the merged ranges not yet passed on (stream offsets). */
  private state = 0
  private stateOf: Matcher | undefined
  private ranges: Match[] = []
  private readonly source: () => Matcher

  /** `matcher` may be a function, read at every chunk, so values added later (exec --watch) are masked too. */
  constructor(matcher: Matcher | (() => Matcher)) {
    super()
    this.source = typeof matcher === 'function' ? matcher : () => matcher
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const matcher = this.source()
    if (matcher.incremental) this.continueWith(matcher, chunk)
    else this.rescan(matcher, chunk)
    callback()
  }

  /** The skip loop: read the few held bytes again with the chunk. */
  private rescan(matcher: Matcher, chunk: Buffer): void {
    const buf = this.heldLength === 0 ? chunk : Buffer.concat([...this.held, chunk])
    const {ranges, pending} = matcher.scan(buf)
    this.stateOf = undefined
    this.ranges = ranges.map((r) => ({start: r.start + this.heldAt, end: r.end + this.heldAt, name: r.name}))
    this.held = [buf]
    this.heldLength = buf.length
    this.release(this.heldAt + buf.length - pending)
  }

  /**
   * The automaton resumes where the last chunk ended, so a value of megabytes split over many chunks
   * is read once, and its matches are merged as they are found (in order of their end).
   */
  private continueWith(matcher: Matcher, chunk: Buffer): void {
    let data = chunk
    let at = this.heldAt + this.heldLength
    if (this.stateOf !== matcher) {
      // A new matcher (--watch added values) reads the held bytes again from its start.
      data = Buffer.concat([...this.held, chunk])
      at = this.heldAt
      this.held = []
      this.heldLength = 0
      this.state = 0
      this.ranges = []
      this.stateOf = matcher
    }
    const found = matcher.find(data, 0, this.state)
    this.state = found.state
    for (const m of found.matches) pushMerged(this.ranges, {start: m.start + at, end: m.end + at, name: m.name})
    this.held.push(data)
    this.heldLength += data.length
    this.release(at + data.length - matcher.depthOf(found.state))
  }

  /** Pass on everything before `boundary` (a stream offset), never splitting a masked range. */
  private release(boundary: number): void {
    let cut = boundary
    for (let i = this.ranges.length - 1; i >= 0 && this.ranges[i].end > cut; i--)
      if (this.ranges[i].start < cut) cut = this.ranges[i].start
    const count = cut - this.heldAt
    if (count <= 0) return
    const all = this.held.length === 1 ? this.held[0] : Buffer.concat(this.held)
    let done = 0
    while (done < this.ranges.length && this.ranges[done].end <= cut) done++
    this.emit_(all.subarray(0, count), this.ranges.slice(0, done), this.heldAt)
    this.ranges = this.ranges.slice(done)
    const rest = all.subarray(count)
    this.held = rest.length === 0 ? [] : [Buffer.from(rest)]
    this.heldLength = rest.length
    this.heldAt = cut
  }

  override _flush(callback: TransformCallback): void {
    if (this.heldLength > 0) {
      const all = Buffer.concat(this.held)
      const matcher = this.source()
      // Only complete matches are ranges, so the held bytes can go out with them as they are.
      const ranges =
        matcher.incremental && this.stateOf === matcher
          ? this.ranges
          : matcher
              .scan(all)
              .ranges.map((r) => ({start: r.start + this.heldAt, end: r.end + this.heldAt, name: r.name}))
      this.emit_(all, ranges, this.heldAt)
      this.held = []
      this.heldLength = 0
    }
    callback()
  }

  /** Push `buf` (starting at stream offset `at`) with each range replaced by its marker. */
  private emit_(buf: Buffer, ranges: Match[], at: number): void {
    if (ranges.length === 0) {
      this.push(buf)
      return
    }
    const parts: Buffer[] = []
    let from = 0
    for (const r of ranges) {
      if (r.start - at > from) parts.push(buf.subarray(from, r.start - at))
      parts.push(marker(r.name))
      from = r.end - at
    }
    if (from < buf.length) parts.push(buf.subarray(from))
    this.push(Buffer.concat(parts))
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
