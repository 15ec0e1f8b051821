import {readSync} from 'node:fs'

import {hashLine} from './record.js'

export {isBlank} from './record.js'
import type {SegmentSnapshot} from './read.js'

// Reading record lines for the chain check and the seals: only what the chain needs (sequence number,
// link, the link to the line itself), by fixed offsets where the line allows it.

/** One record line, as the chain sees it. */
export interface Line {
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

export function readLine(
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
