import assert from 'node:assert/strict'
import {Readable} from 'node:stream'
import {buffer} from 'node:stream/consumers'
import {describe, it} from 'node:test'

import {ANCHOR, LongValues} from '../../../src/core/exec/long-values.js'
import {type Match} from '../../../src/core/exec/match-types.js'
import {mergeMatches} from '../../../src/core/exec/matcher.js'
import {Matcher, patternsFor, RedactStream, redactBuffer} from '../../../src/core/exec/redact-stream.js'

/** A fixed-seed generator (mulberry32), so a failing round can be run again. */
function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

const rnd = random(17)
const text = (n: number, alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') =>
  Array.from({length: n}, () => alphabet[Math.floor(rnd() * alphabet.length)]).join('')
/** A PEM-like value: 64-character lines, so its lines are long values too. */
const pem = (bytes: number) =>
  `-----BEGIN CERTIFICATE-----\n${text(bytes)
    .match(/.{1,64}/g)!
    .join('\n')}\n-----END CERTIFICATE-----\n`

async function through(matcher: Matcher, chunks: Buffer[]): Promise<Buffer> {
  return buffer(Readable.from(chunks).pipe(new RedactStream(matcher)))
}

function chunksOf(input: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = []
  for (let at = 0; at < input.length; at += size) chunks.push(input.subarray(at, at + size))
  return chunks
}

function cut(input: Buffer, at: number[]): Buffer[] {
  const points = [0, ...at, input.length]
  return points.slice(1).map((end, i) => input.subarray(points[i], end))
}

/** The simplest correct masking: every occurrence of every pattern, overlapping ones merged, named after the leftmost (longest at a tie). */
function reference(patterns: Array<{name: string; value: Buffer}>, input: Buffer): Buffer {
  const found: Array<{start: number; end: number; name: string}> = []
  for (const p of patterns)
    for (let i = input.indexOf(p.value); i !== -1; i = input.indexOf(p.value, i + 1))
      found.push({start: i, end: i + p.value.length, name: p.name})
  found.sort((a, b) => a.start - b.start || b.end - a.end)
  const merged: typeof found = []
  for (const r of found) {
    const last = merged.at(-1)
    if (last !== undefined && r.start < last.end) last.end = Math.max(last.end, r.end)
    else merged.push({...r})
  }
  const parts: Buffer[] = []
  let at = 0
  for (const r of merged) {
    parts.push(input.subarray(at, r.start), Buffer.from(`<secret:${r.name}>`))
    at = r.end
  }
  parts.push(input.subarray(at))
  return Buffer.concat(parts)
}

describe('long values', () => {
  const bundle = Buffer.from(pem(1500))
  const {patterns} = patternsFor([
    {name: 'BUNDLE', value: bundle},
    {name: 'TOKEN', value: Buffer.from('tok_1234567890')},
  ])
  const matcher = new Matcher(patterns)

  it('masks a long value split at every position, in two and in three chunks', async () => {
    const input = Buffer.concat([Buffer.from('cert: '), bundle, Buffer.from('done tok_1234567890\n')])
    const expected = 'cert: <secret:BUNDLE>done <secret:TOKEN>\n'
    assert.equal(redactBuffer(matcher, input).toString(), expected)
    for (let i = 1; i < input.length; i++)
      assert.equal((await through(matcher, cut(input, [i]))).toString(), expected, `split at ${i}`)
    for (let i = 1; i < input.length; i += 37)
      for (const j of [i + 1, i + ANCHOR - 1, i + ANCHOR, i + 500])
        if (j < input.length)
          assert.equal((await through(matcher, cut(input, [i, j]))).toString(), expected, `split at ${i}, ${j}`)
    assert.equal(
      (
        await through(
          matcher,
          cut(
            input,
            Array.from({length: input.length - 1}, (_, k) => k + 1),
          ),
        )
      ).toString(),
      expected,
    )
  })

  it('outputs a near miss byte for byte: diverging at the last byte, at the end of the anchor, or just after it', async () => {
    const line = Buffer.from(text(400))
    const one = new Matcher(patternsFor([{name: 'LINE', value: line}]).patterns)
    for (const at of [line.length - 1, ANCHOR - 1, ANCHOR, 200]) {
      const near = Buffer.from(line)
      near[at] = near[at] === 0x41 ? 0x42 : 0x41
      const input = Buffer.concat([Buffer.from('x '), near, Buffer.from(' y')])
      assert.equal(redactBuffer(one, input).compare(input), 0, `diverging at ${at}`)
      for (const size of [1, 7, 31, 32, 64, 399, 1000])
        assert.equal(
          (await through(one, chunksOf(input, size))).compare(input),
          0,
          `diverging at ${at}, chunks of ${size}`,
        )
      // The value right after the near miss (overlapping its end) is still masked.
      const both = Buffer.concat([near, line])
      assert.equal((await through(one, chunksOf(both, 64))).toString(), `${near.toString()}<secret:LINE>`)
    }
    // In a bundle, the lines left whole are masked on their own, and the rest is output as it was.
    const near = Buffer.from(bundle)
    near[700] = near[700] === 0x41 ? 0x42 : 0x41
    const expected = reference(patterns, near)
    const broken = near.subarray(near.lastIndexOf(0x0a, 700) + 1, near.indexOf(0x0a, 700))
    assert.ok(expected.includes(broken) && expected.includes('<secret:BUNDLE>\n<secret:BUNDLE>'))
    assert.notEqual(expected.toString(), '<secret:BUNDLE>')
    assert.equal((await through(matcher, chunksOf(near, 100))).compare(expected), 0)
  })

  it('masks overlapping and prefix-sharing long values as their union, named after the leftmost', async () => {
    const base = text(300)
    const values = [
      {name: 'A', value: Buffer.from(base)},
      // Shares A's whole length as a prefix, then goes on.
      {name: 'LONGER', value: Buffer.from(`${base}-and-more-bytes`)},
      // Shares A's anchor (and more), then differs.
      {name: 'SAME_START', value: Buffer.from(`${base.slice(0, 100)}${text(200)}`)},
      // Starts with A's last 50 bytes.
      {name: 'TAIL', value: Buffer.from(`${base.slice(-50)}${text(250)}`)},
      {name: 'SHORT', value: Buffer.from('pw-1234')},
    ]
    const m = new Matcher(patternsFor(values).patterns)
    const [a, longer, same, tail] = values.map((v) => v.value.toString())
    const input = Buffer.from(
      `1 ${longer} 2 ${same} 3 ${a}${tail.slice(50)} 4 ${same.slice(0, 150)} 5 ${a.slice(0, 250)}pw-1234${a.slice(250)} 6`,
    )
    const expected = `1 <secret:LONGER> 2 <secret:SAME_START> 3 <secret:A> 4 ${same.slice(0, 150)} 5 ${a.slice(0, 250)}<secret:SHORT>${a.slice(250)} 6`
    assert.equal(reference(patternsFor(values).patterns, input).toString(), expected)
    assert.equal(redactBuffer(m, input).toString(), expected)
    for (let i = 1; i < input.length; i += 3)
      assert.equal(
        (await through(m, cut(input, [i, Math.min(input.length - 1, i + 41)]))).toString(),
        expected,
        `split at ${i}`,
      )
  })

  it('masks a long value stored with a final newline when printed without it, with CRLF, or one line of it', async () => {
    const input = Buffer.from(
      `a ${bundle.toString().trimEnd()} b ${bundle.toString().replaceAll('\n', '\r\n')}c ${bundle.toString().split('\n')[5]} d`,
    )
    const expected = 'a <secret:BUNDLE> b <secret:BUNDLE>c <secret:BUNDLE> d'
    assert.equal(redactBuffer(matcher, input).toString(), expected)
    assert.equal((await through(matcher, cut(input, [5, 900, 1700, input.length - 30]))).toString(), expected)
  })

  it('holds back only what could start a value, and all of a long value while it may be occurring', () => {
    assert.equal(matcher.scan(Buffer.from('Password: ')).pending, 0)
    assert.equal(matcher.scan(Buffer.from('cert: -----BEGIN')).pending, 10)
    assert.equal(matcher.scan(Buffer.concat([Buffer.from('cert: '), bundle.subarray(0, 900)])).pending, 900)
    const near = Buffer.concat([bundle.subarray(0, 900), Buffer.from('#')])
    assert.equal(matcher.scan(near).pending, 0)
  })

  it('reads the held output again when the matcher changes mid-stream (exec --watch)', async () => {
    const added = Buffer.from(text(300))
    const later = new Matcher(
      patternsFor([
        {name: 'BUNDLE', value: bundle},
        {name: 'ADDED', value: added},
      ]).patterns,
    )
    let current = matcher
    const stream = new RedactStream(() => current)
    const out = buffer(stream)
    stream.write(Buffer.concat([Buffer.from('a '), bundle.subarray(0, 500)]))
    current = later
    stream.write(Buffer.concat([bundle.subarray(500), Buffer.from(' b '), added.subarray(0, 100)]))
    stream.end(Buffer.concat([added.subarray(100), Buffer.from(' c')]))
    assert.equal((await out).toString(), 'a <secret:BUNDLE> b <secret:ADDED> c')
  })

  it('agrees with a naive reference on random values, near misses and chunking (fixed seed)', async () => {
    for (let round = 0; round < 200; round++) {
      const alphabet = round % 2 === 0 ? 'ab\n' : 'abcd\r\n'
      const values = Array.from({length: 1 + Math.floor(rnd() * 5)}, (_, i) => ({
        name: `V${i}`,
        value: Buffer.from(text(4 + Math.floor(rnd() * (round % 3 === 0 ? 600 : 120)), alphabet)),
      }))
      // Over 256 values or one over 256 bytes: the long values leave the skip loop.
      if (round % 4 !== 3) values.push({name: 'BIG', value: Buffer.from(text(257 + Math.floor(rnd() * 300), alphabet))})
      if (round % 5 === 1) for (let i = 0; i < 260; i++) values.push({name: `F${i}`, value: Buffer.from(`xyz${i}zyx`)})
      const {patterns} = patternsFor(values)
      const pieces = [text(50 + Math.floor(rnd() * 300), alphabet)]
      for (const p of patterns.slice(0, 12)) {
        const v = p.value.toString()
        const kind = Math.floor(rnd() * 4)
        if (kind === 0) pieces.push(v)
        else if (kind === 1) pieces.push(v.slice(0, -1) + (v.endsWith('a') ? 'b' : 'a'))
        else if (kind === 2) pieces.push(v.slice(0, Math.floor(rnd() * v.length)))
        else pieces.push(v.slice(Math.floor(rnd() * v.length)) + v)
        pieces.push(text(Math.floor(rnd() * 40), alphabet))
      }
      const input = Buffer.from(pieces.join(''))
      const expected = reference(patterns, input)
      const m = new Matcher(patterns)
      assert.equal(redactBuffer(m, input).toString(), expected.toString(), `round ${round}`)
      const at: number[] = []
      for (let k = 1 + Math.floor(rnd() * 50); k < input.length; k += 1 + Math.floor(rnd() * (round % 2 ? 5 : 90)))
        at.push(k)
      assert.equal((await through(m, cut(input, at))).toString(), expected.toString(), `round ${round}, chunked`)
    }
  })

  it('costs a small multiple of a multi-megabyte value, not a trie node per byte', async () => {
    const big = Buffer.from(pem(4 * 1024 * 1024))
    const before = process.memoryUsage().arrayBuffers
    const m = new Matcher(patternsFor([{name: 'BUNDLE', value: big}]).patterns)
    // The value with CRLF (a copy) and about 20 bytes a line; the sparse trie took about 30 bytes a byte.
    const used = process.memoryUsage().arrayBuffers - before
    assert.ok(used < 2 * big.length, `${used} bytes for a value of ${big.length}`)
    const input = Buffer.concat([
      Buffer.from('head '),
      big,
      Buffer.from(' mid '),
      big.subarray(0, 1000),
      Buffer.from(' end'),
    ])
    const out = await through(m, chunksOf(input, 65_536))
    const {patterns: lines} = patternsFor([{name: 'BUNDLE', value: big.subarray(0, 2000)}])
    assert.equal(
      out.toString(),
      `head <secret:BUNDLE> mid ${reference(lines.slice(2), big.subarray(0, 1000)).toString()} end`,
    )
  })
})

describe('long values that contain their own anchor again', () => {
  /** Values that overlap themselves: runs, periods, a period broken near the end, a prefix repeated. */
  const selfSimilar = (): string => {
    const kind = Math.floor(rnd() * 7)
    const n = 33 + Math.floor(rnd() * 120)
    // Runs of about ANCHOR between other bytes: borders just over and just under the anchor's length.
    if (kind === 6)
      return Array.from({length: 2 + Math.floor(rnd() * 2)}, () => 'a'.repeat(ANCHOR - 3 + Math.floor(rnd() * 6)))
        .map((run) => run + 'bc'[Math.floor(rnd() * 2)])
        .join('')
    if (kind === 0) return 'a'.repeat(n)
    if (kind === 1) return `${'a'.repeat(n)}b`
    if (kind === 2) return 'ab'.repeat(Math.ceil(n / 2))
    const block = text(1 + Math.floor(rnd() * (kind === 5 ? 40 : 5)), 'ab')
    const periodic = block.repeat(Math.ceil((n + 40) / block.length)).slice(0, n + Math.floor(rnd() * 40))
    if (kind === 3) return periodic
    const k = periodic.length - 1 - Math.floor(rnd() * 3)
    return periodic.slice(0, k) + (periodic[k] === 'a' ? 'b' : 'a') + periodic.slice(k + 1)
  }

  it('agrees with a naive reference on values of a two-letter alphabet that overlap themselves (fixed seed)', async () => {
    for (let round = 0; round < 120; round++) {
      const values = Array.from({length: 1 + Math.floor(rnd() * 3)}, (_, i) => ({name: `V${i}`, value: selfSimilar()}))
      // One value over 256 bytes takes the long values out of the skip loop.
      values.push({name: 'RUN', value: round % 3 === 0 ? 'a'.repeat(300) : `${'ab'.repeat(130)}${selfSimilar()}`})
      if (round % 4 === 1) values.push({name: 'SHORT', value: 'a'.repeat(5 + Math.floor(rnd() * 20))})
      const {patterns} = patternsFor(values.map((v) => ({name: v.name, value: Buffer.from(v.value)})))
      const pieces: string[] = []
      // Shorter inputs for the rounds split at every offset.
      for (let k = 0; k < (round % 15 === 0 ? 3 : 8); k++) {
        const v = values[Math.floor(rnd() * values.length)].value
        const kind = Math.floor(rnd() * 6)
        if (kind === 0) pieces.push(v, v.slice(Math.floor(rnd() * v.length)))
        else if (kind === 1) pieces.push(v.slice(0, -1 - Math.floor(rnd() * 3)))
        else if (kind === 2)
          pieces.push(v.slice(Math.floor(rnd() * v.length)) + v + v.slice(0, Math.floor(rnd() * v.length)))
        else if (kind === 3) pieces.push(v[0].repeat(Math.floor(rnd() * 400)))
        else if (kind === 4) pieces.push(v.slice(0, Math.floor(rnd() * v.length)) + (v.at(-1) === 'a' ? 'b' : 'a') + v)
        else pieces.push(v.slice(0, Math.floor(rnd() * v.length)) + v.slice(0, Math.floor(rnd() * v.length)) + v)
        pieces.push(text(Math.floor(rnd() * 6), 'ab\n'))
      }
      const input = Buffer.from(pieces.join(''))
      const expected = reference(patterns, input).toString()
      const m = new Matcher(patterns)
      assert.equal(redactBuffer(m, input).toString(), expected, `round ${round}`)
      const at: number[] = []
      for (let k = 1 + Math.floor(rnd() * 40); k < input.length; k += 1 + Math.floor(rnd() * (round % 2 ? 3 : 70)))
        at.push(k)
      assert.equal((await through(m, cut(input, at))).toString(), expected, `round ${round}, chunked`)
      if (round % 15 !== 0) continue
      // Split in two at every offset, and one byte a chunk.
      for (let i = 1; i < input.length; i++)
        assert.equal((await through(m, cut(input, [i]))).toString(), expected, `round ${round}, split at ${i}`)
      assert.equal((await through(m, chunksOf(input, 1))).toString(), expected, `round ${round}, bytes`)
    }
  })

  it('finds a start whose anchor ends on the byte where the candidate before it fell below the anchor', async () => {
    // After a*32 x a*32 the next 'a' leaves only a border of 31 that it extends: the candidate is done,
    // and the start 31 bytes back, whose window that 'a' completes, is the hash's to find.
    const value = `${'a'.repeat(32)}x${'a'.repeat(32)}y`
    const m = new Matcher(
      patternsFor([
        {name: 'V', value: Buffer.from(value)},
        {name: 'RUN', value: Buffer.from('b'.repeat(300))},
      ]).patterns,
    )
    const input = Buffer.from(`${'a'.repeat(32)}x${'a'.repeat(33)}x${'a'.repeat(32)}y!`)
    const expected = `${'a'.repeat(32)}x${'a'.repeat(1)}<secret:V>!`
    assert.equal(redactBuffer(m, input).toString(), expected)
    for (let i = 1; i < input.length; i++)
      assert.equal((await through(m, cut(input, [i]))).toString(), expected, `split at ${i}`)
    // A value that ends with the first 31 of its bytes: after a whole match the candidate is done, and
    // the next start, whose window the byte after the match completes, is found by the hash.
    const ends = `${'a'.repeat(32)}x${'a'.repeat(32)}y${'a'.repeat(31)}`
    const m2 = new Matcher(
      patternsFor([
        {name: 'E', value: Buffer.from(ends)},
        {name: 'RUN', value: Buffer.from('b'.repeat(300))},
      ]).patterns,
    )
    const twice = Buffer.from(`${ends}${ends.slice(31)}!`)
    assert.equal(redactBuffer(m2, twice).toString(), '<secret:E>!')
    for (let i = 1; i < twice.length; i++)
      assert.equal((await through(m2, cut(twice, [i]))).toString(), '<secret:E>!', `split at ${i}`)
  })

  it('masks the overlapping values of a tiny alphabet exactly, split at every offset', async () => {
    const values = [
      {name: 'A40B', value: Buffer.from(`${'a'.repeat(40)}b`)},
      {name: 'AB20', value: Buffer.from('ab'.repeat(20))},
      {name: 'A300', value: Buffer.from('a'.repeat(300))},
    ]
    const m = new Matcher(patternsFor(values).patterns)
    const input = Buffer.from(
      `x${'a'.repeat(45)}b ${'ab'.repeat(25)}a ${'a'.repeat(299)}b${'a'.repeat(350)}bab${'ab'.repeat(19)}a${'a'.repeat(39)}b.`,
    )
    // The run of 300 takes in the 'a'*40+'b' at its end and the ('ab')*20 overlapping that 'b'.
    const expected = `xaaaaa<secret:A40B> <secret:AB20>a ${'a'.repeat(259)}<secret:A40B><secret:A300><secret:A40B>.`
    assert.equal(reference(patternsFor(values).patterns, input).toString(), expected)
    assert.equal(redactBuffer(m, input).toString(), expected)
    for (let i = 1; i < input.length; i++)
      assert.equal((await through(m, cut(input, [i]))).toString(), expected, `split at ${i}`)
    assert.equal((await through(m, chunksOf(input, 1))).toString(), expected)
  })

  it('masks 1 MB of one character with a 300-character run of it at a few comparisons a byte, not one per byte of the value', () => {
    const run = Buffer.alloc(300, 'a')
    const values = new LongValues([{name: 'RUN', value: run}])
    const cursor = values.cursor()
    const output = Buffer.alloc(1024 * 1024, 'a')
    const matches: Match[] = []
    let undecided = 0
    for (const chunk of chunksOf(output, 65_536)) {
      const fed = cursor.feed(chunk)
      matches.push(...fed.matches)
      undecided = fed.undecided
    }
    // Every occurrence is found (they overlap: one masked range), as the first of each chunk and the
    // union of the rest, and the last 299 bytes are held.
    assert.equal(matches.length, 2 * 16)
    assert.deepEqual(mergeMatches(matches), [{start: 0, end: output.length, name: 'RUN'}])
    assert.equal(undecided, output.length - (run.length - 1))
    assert.ok(cursor.compared <= 4 * output.length, `${cursor.compared} bytes compared for ${output.length} of output`)
  })
})
