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
})
