import {createHmac, randomBytes, randomFillSync} from 'node:crypto'

import type {SecretValue} from '../secret-value.js'

/** Values shorter than this are not looked for: they would match all over ordinary text. */
export const MIN_SCAN_VALUE_LENGTH = 8

/** Window of the rolling hash: the first MIN_SCAN_VALUE_LENGTH bytes of every value. */
const Q = MIN_SCAN_VALUE_LENGTH
/** 2^24-bit filter of rolling hashes (2 MiB). */
const FILTER_BYTES = 1 << 21

function rotl(x: number, n: number): number {
  return (x << n) | (x >>> (32 - n))
}

/** A place where a configured value occurs in a buffer. */
export interface ValueHit {
  offset: number
  length: number
  /** The variables whose value this is (several when they share a value). */
  names: string[]
}

/**
 * Finds the exact bytes of configured secret values in buffers without keeping the values: the index
 * holds, per value length, HMAC-SHA256 digests under a random per-process key, and a bit filter of a
 * keyed rolling hash (buzhash with a random table) of each value's first 8 bytes. A scan rolls that
 * hash over the buffer in one pass and computes an HMAC only where the filter says a value may start,
 * so the cost is one table lookup per byte whatever the number of values.
 */
export class ValueIndex {
  readonly #key = randomBytes(32)
  readonly #table = new Int32Array(256)
  /** #table rotated by Q: the contribution of the byte that leaves the window. */
  readonly #out = new Int32Array(256)
  readonly #filter = new Uint8Array(FILTER_BYTES)
  /** length -> digest -> variable names */
  readonly #byLength = new Map<number, Map<string, string[]>>()
  #lengths: number[] = []
  /** Variables whose value was too short to look for. */
  readonly tooShort: string[] = []
  size = 0

  constructor() {
    randomFillSync(this.#table)
    for (let i = 0; i < 256; i++) this.#out[i] = rotl(this.#table[i], Q % 32)
  }

  #digest(bytes: Uint8Array): string {
    return createHmac('sha256', this.#key).update(bytes).digest('base64')
  }

  #hashWindow(bytes: Uint8Array, at: number): number {
    let h = 0
    for (let i = 0; i < Q; i++) h = rotl(h, 1) ^ this.#table[bytes[at + i]]
    return h
  }

  /** Add one variable's value (the bytes are hashed at once and not kept). */
  add(name: string, value: SecretValue): void {
    const bytes = value.reveal()
    const variants = [bytes]
    // A value read from a file often ends with one newline that the text it is pasted into lacks.
    if (bytes.length > 1 && bytes[bytes.length - 1] === 0x0a)
      variants.push(bytes.subarray(0, bytes[bytes.length - 2] === 0x0d ? -2 : -1))
    let added = false
    for (const v of variants) {
      if (v.length < Q) continue
      let bucket = this.#byLength.get(v.length)
      if (bucket === undefined) {
        bucket = new Map()
        this.#byLength.set(v.length, bucket)
      }
      const d = this.#digest(v)
      const names = bucket.get(d) ?? []
      if (!names.includes(name)) names.push(name)
      bucket.set(d, names)
      const h = this.#hashWindow(v, 0)
      this.#filter[h >>> 11] |= 1 << ((h >>> 8) & 7)
      added = true
    }
    bytes.fill(0)
    if (added) this.size++
    else this.tooShort.push(name)
    this.#lengths = [...this.#byLength.keys()].sort((a, b) => a - b)
  }

  /** Every occurrence of an indexed value in buf[0, end). */
  scan(buf: Buffer, end = buf.length): ValueHit[] {
    const hits: ValueHit[] = []
    if (this.size === 0 || end < Q) return hits
    const table = this.#table
    const out = this.#out
    const filter = this.#filter
    let h = this.#hashWindow(buf, 0)
    const last = end - Q
    for (let i = 0; ; i++) {
      if ((filter[h >>> 11] & (1 << ((h >>> 8) & 7))) !== 0) this.#confirm(buf, i, end, hits)
      if (i === last) break
      h = ((h << 1) | (h >>> 31)) ^ out[buf[i]] ^ table[buf[i + Q]]
    }
    return hits
  }

  #confirm(buf: Buffer, at: number, end: number, hits: ValueHit[]): void {
    for (const length of this.#lengths) {
      if (at + length > end) break
      const names = this.#byLength.get(length)?.get(this.#digest(buf.subarray(at, at + length)))
      if (names !== undefined) hits.push({offset: at, length, names: [...names]})
    }
  }
}
