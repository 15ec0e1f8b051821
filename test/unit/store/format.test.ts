import assert from 'node:assert/strict'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {before, describe, it} from 'node:test'

import {openStore} from '../../../src/core/store/open-store.js'
import {SecretsError} from '../../../src/errors.js'
import {keyring, seedStore, type TestIdentity} from './helpers.js'

process.env.SECRETS_SCRYPT_LOG_N = '12'

const CANARY = 'canary-Zq9x-plaintext-7731'

describe('store format: parse and MAC', () => {
  let dir: string
  let alice: TestIdentity
  let file: string

  before(async () => {
    ;({dir, alice, file} = await seedStore(CANARY))
  })

  it('detects a flip of any byte, and never returns plaintext', async () => {
    const original = readFileSync(file)
    const tampered = join(dir, 'tampered.json')
    const codes = new Set<string>()
    for (let i = 0; i < original.length; i++) {
      const copy = Buffer.from(original)
      copy[i] ^= 0x01
      writeFileSync(tampered, copy)
      let opened: unknown
      try {
        const s = await openStore(tampered, keyring({SECRETS_AGE_KEY: alice.key}))
        opened = s.read('API_KEY').value.text()
      } catch (error) {
        assert.ok(error instanceof SecretsError, `byte ${i}: ${String(error)}`)
        assert.ok(!error.message.includes(CANARY))
        codes.add(error.code)
        continue
      }
      assert.fail(
        `flipping byte ${i} (${JSON.stringify(String.fromCharCode(original[i]))}) went unnoticed and returned ${opened === undefined ? 'nothing' : 'a value'}`,
      )
    }
    assert.ok(codes.has('INTEGRITY'))
    assert.deepEqual(
      [...codes].filter((c) => !['INTEGRITY', 'DECRYPT_FAILED'].includes(c)),
      [],
    )
  })

  it('detects a truncated file and swapped entries', async () => {
    const original = readFileSync(file, 'utf8')
    const other = join(dir, 'other.json')
    writeFileSync(other, original.slice(0, Math.floor(original.length / 2)))
    await assert.rejects(openStore(other, keyring({SECRETS_AGE_KEY: alice.key})), {code: 'INTEGRITY'})
    const doc = JSON.parse(original)
    ;[doc.secrets.API_KEY, doc.secrets.BIN] = [doc.secrets.BIN, doc.secrets.API_KEY]
    writeFileSync(other, JSON.stringify(doc))
    await assert.rejects(openStore(other, keyring({SECRETS_AGE_KEY: alice.key})), {
      code: 'INTEGRITY',
      message: `The store ${other} is corrupt or has been tampered with: its integrity check (MAC) does not match, so an entry was changed, removed, reordered or swapped. Nothing was decrypted.`,
    })
    delete doc.secrets.BIN
    writeFileSync(other, JSON.stringify(doc))
    await assert.rejects(openStore(other, keyring({SECRETS_AGE_KEY: alice.key})), {code: 'INTEGRITY'})
  })
})
