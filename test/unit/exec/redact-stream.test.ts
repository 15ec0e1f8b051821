import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {Readable} from 'node:stream'
import {buffer} from 'node:stream/consumers'
import {describe, it} from 'node:test'

import {Matcher, patternsFor, RedactStream, redactBuffer} from '../../../src/core/exec/redact-stream.js'

const secrets = [
  {name: 'DB_PASSWORD', value: Buffer.from('hunter2-correct-horse')},
  {name: 'API_TOKEN', value: Buffer.from('tok_1234567890')},
  {name: 'PEM', value: Buffer.from('-----BEGIN KEY-----\nMIIBsecretline1\nMIIBsecretline2\n-----END KEY-----\n')},
  {name: 'PIN', value: Buffer.from('123')},
  {name: 'OVERLAP_A', value: Buffer.from('abcdefgh')},
  {name: 'OVERLAP_B', value: Buffer.from('efghijkl')},
]

async function through(chunks: Buffer[]): Promise<string> {
  const {patterns} = patternsFor(secrets)
  return (await buffer(Readable.from(chunks).pipe(new RedactStream(new Matcher(patterns))))).toString('utf8')
}

describe('redaction', () => {
  it('replaces each value with a marker naming its variable', async () => {
    assert.equal(
      await through([Buffer.from('pw=hunter2-correct-horse token=tok_1234567890 pin=123\n')]),
      'pw=<secret:DB_PASSWORD> token=<secret:API_TOKEN> pin=123\n',
    )
  })

  it('skips values shorter than 4 bytes, and says which', () => {
    assert.deepEqual(patternsFor(secrets).tooShort, ['PIN'])
  })

  it('masks a value split across chunks, at every split point', async () => {
    const text = 'before hunter2-correct-horse after'
    for (let i = 1; i < text.length; i++) {
      assert.equal(
        await through([Buffer.from(text.slice(0, i)), Buffer.from(text.slice(i))]),
        'before <secret:DB_PASSWORD> after',
        `split at ${i}`,
      )
    }
    const bytes = [...Buffer.from(text)].map((b) => Buffer.from([b]))
    assert.equal(await through(bytes), 'before <secret:DB_PASSWORD> after')
  })

  it('masks multiline values as printed raw, through a terminal (CRLF), and line by line', async () => {
    const pem = secrets[2].value.toString()
    assert.equal(await through([Buffer.from(`key:\n${pem}done`)]), 'key:\n<secret:PEM>done')
    assert.equal(
      await through([Buffer.from(`key:\r\n${pem.replaceAll('\n', '\r\n')}done`)]),
      'key:\r\n<secret:PEM>done',
    )
    assert.equal(await through([Buffer.from('only MIIBsecretline2 here')]), 'only <secret:PEM> here')
  })

  it('masks the union of overlapping values', () => {
    const m = new Matcher(patternsFor(secrets).patterns)
    assert.equal(redactBuffer(m, Buffer.from('x abcdefghijkl y')).toString(), 'x <secret:OVERLAP_A> y')
  })

  it('holds back only what could start a value, so prompts appear at once', () => {
    const m = new Matcher(patternsFor(secrets).patterns)
    assert.equal(m.scan(Buffer.from('Password: ')).pending, 0)
    assert.equal(m.scan(Buffer.from('Password: hunt')).pending, 4)
  })

  it('never lets a value through on random chunking of random text', async () => {
    const {patterns} = patternsFor(secrets)
    for (let round = 0; round < 50; round++) {
      const pieces: Buffer[] = []
      for (let i = 0; i < 20; i++) pieces.push(randomBytes(30 + (i % 7)), secrets[i % 2].value)
      const all = Buffer.concat(pieces)
      const chunks: Buffer[] = []
      for (let at = 0; at < all.length;) {
        const len = 1 + Math.floor(Math.random() * 40)
        chunks.push(all.subarray(at, at + len))
        at += len
      }

      const out = await buffer(Readable.from(chunks).pipe(new RedactStream(new Matcher(patterns))))
      assert.equal(out.indexOf(secrets[0].value), -1)
      assert.equal(out.indexOf(secrets[1].value), -1)
      assert.equal(out.toString('latin1').split('<secret:').length - 1 >= 20, true)
    }
  })

  it('masks a short value stored with a final newline when it is printed without it', async () => {
    const m = new Matcher(patternsFor([{name: 'PIN4', value: Buffer.from('4821\n')}]).patterns)
    assert.equal(redactBuffer(m, Buffer.from('pin=4821 and 4821\n')).toString(), 'pin=<secret:PIN4> and <secret:PIN4>')
    assert.deepEqual(patternsFor([{name: 'SHORT', value: Buffer.from('abc\n')}]).tooShort, ['SHORT'])
  })

  it('agrees with a naive reference on random text, patterns and chunking', async () => {
    const alphabet = 'ab\nc'
    const pick = (n: number) =>
      Array.from({length: n}, () => alphabet[Math.floor(Math.random() * alphabet.length)]).join('')
    for (let round = 0; round < 300; round++) {
      const values = Array.from({length: 1 + Math.floor(Math.random() * 6)}, (_, i) => ({
        name: `V${i}`,
        value: Buffer.from(pick(4 + Math.floor(Math.random() * (round % 3 === 0 ? 40 : 8)))),
      }))
      // Every fourth round has over 256 values, so the automaton scans instead of the skip loop.
      if (round % 4 === 1) for (let i = 0; i < 300; i++) values.push({name: `F${i}`, value: Buffer.from(`xyz${i}xyz`)})
      const {patterns} = patternsFor(values)
      let text = pick(200 + Math.floor(Math.random() * 400))
      // Plant whole values too, so long ones occur at all.
      for (const v of values.slice(0, 8)) {
        const at = Math.floor(Math.random() * text.length)
        text = text.slice(0, at) + v.value.toString() + text.slice(at)
      }
      const input = Buffer.from(text)
      const expected = reference(patterns, input)
      assert.equal(redactBuffer(new Matcher(patterns), input).toString(), expected, `round ${round}`)
      const chunks: Buffer[] = []
      for (let at = 0; at < input.length;) {
        const len = 1 + Math.floor(Math.random() * (round % 2 === 0 ? 5 : 60))
        chunks.push(input.subarray(at, at + len))
        at += len
      }
      const out = await buffer(Readable.from(chunks).pipe(new RedactStream(new Matcher(patterns))))
      assert.equal(out.toString(), expected, `round ${round}, chunked`)
    }
  })

  it('masks a multi-megabyte value streamed in small chunks, with memory linear in its size', async () => {
    const big = Buffer.from(randomBytes(3 * 1024 * 1024).toString('base64'))
    const before = process.memoryUsage().arrayBuffers
    const m = new Matcher(patternsFor([{name: 'BUNDLE', value: big}]).patterns)
    // About 17 bytes per byte of value; the old 256-wide table needed about 5 KB per byte and threw.
    assert.ok(process.memoryUsage().arrayBuffers - before < 40 * big.length)
    const input = Buffer.concat([
      Buffer.from('head '),
      big,
      Buffer.from(' mid '),
      big.subarray(0, 1000),
      Buffer.from(' end'),
    ])
    const chunks: Buffer[] = []
    for (let at = 0; at < input.length; at += 65_536) chunks.push(input.subarray(at, at + 65_536))
    const out = await buffer(Readable.from(chunks).pipe(new RedactStream(m)))
    assert.equal(out.toString(), `head <secret:BUNDLE> mid ${big.subarray(0, 1000).toString()} end`)
  })
  it('builds the same patterns from bytes as the text-based construction it replaced, for UTF-8 values', () => {
    let seed = 7
    const rnd = () => (seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) / 4_294_967_296
    const alphabet = ['a', 'b', ' ', '\t', '\n', '\r', '\r\n', 'é', '\u00a0', 'x']
    for (let round = 0; round < 500; round++) {
      const values = Array.from({length: 1 + Math.floor(rnd() * 3)}, (_, i) => ({
        name: `V${i}`,
        value: Buffer.from(
          Array.from({length: Math.floor(rnd() * 40)}, () => alphabet[Math.floor(rnd() * alphabet.length)]).join(''),
        ),
      }))
      assert.deepEqual(patternsFor(values), patternsFromText(values), `round ${round}`)
    }
  })
})

/** How patternsFor built the patterns before, through decoded text (valid UTF-8 values give the same bytes). */
function patternsFromText(secrets: Array<{name: string; value: Buffer}>) {
  const patterns: Array<{name: string; value: Buffer}> = []
  const tooShort: string[] = []
  const seen = new Set<string>()
  const add = (name: string, value: Buffer) => {
    const key = value.toString('latin1')
    if (value.length < 4 || seen.has(key)) return
    seen.add(key)
    patterns.push({name, value})
  }
  for (const {name, value} of secrets) {
    const trimmed = value.at(-1) === 0x0a ? value.subarray(0, value.at(-2) === 0x0d ? -2 : -1) : value
    if (trimmed.length < 4) {
      if (value.length > 0) tooShort.push(name)
      if (value.length < 4) continue
    }
    add(name, value)
    add(name, trimmed)
    const text = value.toString('utf8')
    if (text.includes('\n')) {
      add(name, Buffer.from(text.replaceAll('\r\n', '\n').replaceAll('\n', '\r\n'), 'utf8'))
      for (const line of text.split(/\r?\n/)) if (line.trim().length >= 8) add(name, Buffer.from(line, 'utf8'))
    }
  }
  return {patterns, tooShort}
}

/** The simplest correct masking: every occurrence of every pattern, overlapping ones merged, named after the leftmost (longest at a tie). */
function reference(patterns: Array<{name: string; value: Buffer}>, input: Buffer): string {
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
  let out = ''
  let at = 0
  for (const r of merged) {
    out += input.subarray(at, r.start).toString() + `<secret:${r.name}>`
    at = r.end
  }
  return out + input.subarray(at).toString()
}
