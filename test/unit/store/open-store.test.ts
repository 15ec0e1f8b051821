import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {before, describe, it} from 'node:test'

import {openStore} from '../../../src/core/store/open-store.js'
import {keyring, seedStore, type TestIdentity} from './helpers.js'

process.env.SECRETS_SCRYPT_LOG_N = '12'

const CANARY = 'canary-Zq9x-plaintext-7731'

describe('open store: read', () => {
  let alice: TestIdentity
  let file: string

  before(async () => {
    ;({alice, file} = await seedStore(CANARY))
  })

  it('keeps names in clear and values encrypted', () => {
    const text = readFileSync(file, 'utf8')
    assert.ok(text.includes('"API_KEY"'))
    assert.ok(!text.includes(CANARY))
    assert.ok(!text.includes(Buffer.from(CANARY).toString('base64').slice(0, 12)))
  })

  it('reads back every version exactly, binary included', async () => {
    const s = await openStore(file, keyring({SECRETS_AGE_KEY: alice.key}))
    assert.equal(s.read('API_KEY').value.text(), `${CANARY}-v2\nsecond line`)
    assert.equal(s.read('API_KEY').version, 2)
    assert.equal(s.read('API_KEY', 1).value.text(), CANARY)
    assert.deepEqual([...s.read('BIN').value.reveal()], [0, 1, 2, 255, 10, 13])
    assert.deepEqual(
      s.history('API_KEY').map((h) => [h.version, h.actor, h.current]),
      [
        [1, 'alice@host', false],
        [2, 'alice@host', true],
      ],
    )
    assert.throws(() => s.read('API_KEY', 3), {
      code: 'NOT_FOUND',
      message: `Version 3 of API_KEY does not exist in ${file} (versions: 1, 2).`,
    })
  })
})
