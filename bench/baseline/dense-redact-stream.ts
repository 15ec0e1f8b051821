import {Transform, type TransformCallback} from 'node:stream'

/** One value to mask, and the variable named in its marker. */
export interface RedactPattern {
  name: string
  value: Buffer
}

export const MIN_MASK_LENGTH = 4

/** The marker that replaces a value: `<secret:NAME>`. */
export function marker(name: string): Buffer {
  return Buffer.from(`<secret:${name}>`, 'utf8')
}

/**
 * The byte patterns to mask for a set of secrets: each value, the value with `\n` as `\r\n` (how a
 * terminal prints it), and each line of a multiline value that is long enough to be worth masking on
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
    if (value.length < MIN_MASK_LENGTH) {
      if (value.length > 0) tooShort.push(name)
      continue
    }
    add(name, value)
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
 * A multi-pattern matcher over bytes. Matches are found with a Wu-Manber skip loop over 2-byte blocks;
 * an Aho-Corasick automaton (a dense DFA) tells how many trailing bytes of a chunk could still be the
 * start of a value, which is all a stream must hold back.
 */
export class Matcher {
  private readonly delta: Uint16Array | Int32Array
  /** Length of the string each DFA state stands for. */
  private readonly depth: Uint32Array
  private readonly start = 0

  constructor(readonly patterns: RedactPattern[]) {
    const size = 1 + patterns.reduce((n, p) => n + p.value.length, 0)
    const goto = new Int32Array(size * 256).fill(-1)
    const depth = new Uint32Array(size)
    let states = 1
    for (const p of patterns) {
      let s = 0
      for (const b of p.value) {
        let next = goto[s * 256 + b]
        if (next === -1) {
          next = states++
          goto[s * 256 + b] = next
          depth[next] = depth[s] + 1
        }
        s = next
      }
    }
    const delta = states < 0xffff ? new Uint16Array(states * 256) : new Int32Array(states * 256)
    const fail = new Int32Array(states)
    const queue: number[] = []
    for (let c = 0; c < 256; c++) {
      const next = goto[c]
      delta[c] = next === -1 ? 0 : next
      if (next !== -1) queue.push(next)
    }
    for (let head = 0; head < queue.length; head++) {
      const s = queue[head]
      for (let c = 0; c < 256; c++) {
        const next = goto[s * 256 + c]
        if (next === -1) {
          delta[s * 256 + c] = delta[fail[s] * 256 + c]
        } else {
          delta[s * 256 + c] = next
          fail[next] = delta[fail[s] * 256 + c]
          queue.push(next)
        }
      }
    }
    this.delta = delta
    this.depth = depth.subarray(0, states)
  }

  /** Wu-Manber shift table over 2-byte blocks of the first `minLen` bytes of every pattern. */
  private wm?: {minLen: number; shift: Uint8Array; candidates: Map<number, number[]>; maxLen: number}

  private wuManber() {
    if (this.wm) return this.wm
    const minLen = Math.min(...this.patterns.map((p) => p.value.length))
    const maxLen = Math.max(...this.patterns.map((p) => p.value.length))
    const shift = new Uint8Array(65536).fill(Math.min(255, minLen - 1))
    const candidates = new Map<number, number[]>()
    for (const [index, p] of this.patterns.entries()) {
      for (let j = 1; j < minLen; j++) {
        const gram = (p.value[j - 1] << 8) | p.value[j]
        shift[gram] = Math.min(shift[gram], minLen - 1 - j)
      }
      const last = (p.value[minLen - 2] << 8) | p.value[minLen - 1]
      const list = candidates.get(last) ?? []
      list.push(index)
      candidates.set(last, list)
    }
    this.wm = {minLen, shift, candidates, maxLen}
    return this.wm
  }

  /** How many trailing bytes of `buf` could be the start of a value (the DFA run over the tail). */
  pendingOf(buf: Buffer, maxLen: number): number {
    let s = this.start
    for (let i = Math.max(0, buf.length - maxLen + 1); i < buf.length; i++) s = this.delta[(s << 8) | buf[i]]
    return this.depth[s]
  }

  /**
   * Scan `buf`; return the masked ranges (merged where they overlap, each named after its leftmost
   * longest match) and how many trailing bytes could still be the start of a match. Candidates are
   * found with a Wu-Manber skip loop (most windows are skipped several bytes at a time) and verified
   * byte for byte.
   */
  scan(buf: Buffer): {ranges: Array<{start: number; end: number; name: string}>; pending: number} {
    const ranges: Array<{start: number; end: number; name: string}> = []
    if (this.patterns.length === 0) return {ranges, pending: 0}
    const {minLen, shift, candidates, maxLen} = this.wuManber()
    const n = buf.length
    for (let i = minLen - 1; i < n;) {
      const sh = shift[(buf[i - 1] << 8) | buf[i]]
      if (sh !== 0) {
        i += sh
        continue
      }
      const at = i - minLen + 1
      for (const index of candidates.get((buf[i - 1] << 8) | buf[i]) ?? []) {
        const p = this.patterns[index]
        const end = at + p.value.length
        if (end > n || buf.compare(p.value, 0, p.value.length, at, end) !== 0) continue
        let start = at
        let stop = end
        let name = p.name
        // Overlapping matches: mask their union, named after the leftmost (longest at a tie).
        while (ranges.length > 0 && ranges.at(-1)!.end > start) {
          const last = ranges.pop()!
          if (last.start < start || last.end > stop) name = last.name
          start = Math.min(start, last.start)
          stop = Math.max(stop, last.end)
        }
        ranges.push({start, end: stop, name})
      }
      i++
    }
    return {ranges, pending: this.pendingOf(buf, maxLen)}
  }
}

/**
 * A stream that replaces every secret value with `<secret:NAME>`, also when a value is split across
 * chunks: it holds back only the trailing bytes that could be the start of a value (none, for ordinary
 * output), so prompts and partial lines still appear at once.
 */
export class RedactStream extends Transform {
  private held: Buffer = Buffer.alloc(0)
  private readonly source: () => Matcher

  /** `matcher` may be a function, read at every chunk, so values added later (exec --watch) are masked too. */
  constructor(matcher: Matcher | (() => Matcher)) {
    super()
    this.source = typeof matcher === 'function' ? matcher : () => matcher
  }

  private get matcher(): Matcher {
    return this.source()
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const buf = this.held.length === 0 ? chunk : Buffer.concat([this.held, chunk])
    const {ranges, pending} = this.matcher.scan(buf)
    let boundary = buf.length - pending
    // Never split a masked range: hold it back whole and find it again with the next chunk.
    const crossing = ranges.find((r) => r.start < boundary && r.end > boundary)
    if (crossing) boundary = crossing.start
    this.emit_(
      buf,
      ranges.filter((r) => r.end <= boundary),
      0,
      boundary,
    )
    this.held = Buffer.from(buf.subarray(boundary))
    callback()
  }

  override _flush(callback: TransformCallback): void {
    if (this.held.length > 0) {
      const {ranges} = this.matcher.scan(this.held)
      this.emit_(this.held, ranges, 0, this.held.length)
      this.held = Buffer.alloc(0)
    }
    callback()
  }

  private emit_(
    buf: Buffer,
    ranges: Array<{start: number; end: number; name: string}>,
    from: number,
    to: number,
  ): void {
    if (from >= to) return
    if (ranges.length === 0) {
      this.push(buf.subarray(from, to))
      return
    }
    const parts: Buffer[] = []
    let at = from
    for (const r of ranges) {
      if (r.start > at) parts.push(buf.subarray(at, r.start))
      parts.push(marker(r.name))
      at = r.end
    }
    if (at < to) parts.push(buf.subarray(at, to))
    this.push(Buffer.concat(parts))
  }
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
