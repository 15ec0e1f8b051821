import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {generateValue, generatorFromFlags} from '../../../src/core/rotation/generate.js'

describe('value generators', () => {
  it('makes a 32-character letters-and-digits password by default, with every class present', () => {
    for (let i = 0; i < 200; i++) {
      const v = generateValue().text()
      assert.match(v, /^[A-Za-z0-9]{32}$/)
      assert.match(v, /[a-z]/)
      assert.match(v, /[A-Z]/)
      assert.match(v, /\d/)
    }
  })

  it('honours classes, symbols and charset, each class at least once even at the minimum length', () => {
    for (let i = 0; i < 300; i++) {
      const v = generateValue({
        type: 'password',
        length: 8,
        classes: ['lower', 'upper', 'digit', 'symbol'],
        symbols: '-_',
      }).text()
      assert.equal(v.length, 8)
      assert.match(v, /^[A-Za-z0-9_-]+$/)
      for (const re of [/[a-z]/, /[A-Z]/, /\d/, /[-_]/]) assert.match(v, re)
    }
    assert.match(generateValue({type: 'password', length: 20, classes: ['digit']}).text(), /^\d{20}$/)
    assert.match(generateValue({type: 'password', length: 64, charset: 'abcdef0123'}).text(), /^[a-f0-3]{64}$/)
  })

  it('uses every character of the pool (no missing or biased tail)', () => {
    const seen = new Map<string, number>()
    for (let i = 0; i < 400; i++)
      for (const ch of generateValue({type: 'password', length: 64}).text()) seen.set(ch, (seen.get(ch) ?? 0) + 1)
    assert.equal(seen.size, 62)
  })

  it('encodes random bytes as hex, base64, base64url; makes UUIDs; never repeats', () => {
    assert.match(generateValue({type: 'hex'}).text(), /^[0-9a-f]{64}$/)
    assert.match(generateValue({type: 'hex', length: 16}).text(), /^[0-9a-f]{32}$/)
    assert.equal(Buffer.from(generateValue({type: 'base64'}).text(), 'base64').length, 32)
    assert.match(generateValue({type: 'base64url', length: 48}).text(), /^[\w-]{64}$/)
    assert.match(
      generateValue({type: 'uuid'}).text(),
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    )
    const many = new Set(Array.from({length: 1000}, () => generateValue().text()))
    assert.equal(many.size, 1000)
  })

  it('turns flags into a spec and refuses bad ones', () => {
    assert.equal(generatorFromFlags(undefined, undefined), undefined)
    assert.deepEqual(generatorFromFlags('hex', 16), {type: 'hex', length: 16})
    assert.deepEqual(generatorFromFlags(undefined, 40), {type: 'password', length: 40})
    assert.throws(() => generatorFromFlags('pin', undefined), {
      code: 'USAGE',
      message: '--generate "pin" is not a generator.',
    })
    assert.throws(() => generatorFromFlags('hex', 4), {code: 'USAGE', message: '--length 4 is out of range.'})
    assert.throws(() => generatorFromFlags('uuid', 16), {code: 'USAGE'})
  })
})
