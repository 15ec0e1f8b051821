import assert from 'node:assert/strict'
import {join} from 'node:path'
import {before, describe, it} from 'node:test'

import {createStore, openStore, updateStore} from '../../../src/core/store/open-store.js'
import {SecretValue} from '../../../src/core/secret-value.js'
import {SecretsError} from '../../../src/errors.js'
import {keyring, seedStore, type TestIdentity} from './helpers.js'

process.env.SECRETS_SCRYPT_LOG_N = '12'

const CANARY = 'canary-Zq9x-plaintext-7731'

describe('keyring: unwrapping the data key', () => {
  let dir: string
  let alice: TestIdentity
  let bob: TestIdentity
  let file: string

  before(async () => {
    ;({dir, alice, bob, file} = await seedStore(CANARY))
  })

  it('refuses a wrong identity, naming both keys', async () => {
    await assert.rejects(openStore(file, keyring({SECRETS_AGE_KEY: bob.key})), (e: unknown) => {
      assert.ok(e instanceof SecretsError)
      assert.equal(e.code, 'DECRYPT_FAILED')
      assert.equal(e.exitCode, 7)
      assert.equal(
        e.message,
        `Your identity cannot open the store ${file}: you have ${bob.recipient} (from SECRETS_AGE_KEY), but the store is encrypted to: ${alice.recipient}.`,
      )
      return true
    })
  })

  it('refuses to open with no identity at all', async () => {
    await assert.rejects(openStore(file, keyring({HOME: dir})), {code: 'IDENTITY_MISSING'})
  })

  it('opens with a passphrase recipient, and refuses a wrong passphrase', async () => {
    const copy = join(dir, 'pass.json')
    await createStore(copy, [
      {type: 'age', recipient: alice.recipient},
      {type: 'scrypt', passphrase: 'correct horse battery', label: 'team'},
    ])
    await updateStore(copy, keyring({SECRETS_AGE_KEY: alice.key}), (s) => s.write('X', new SecretValue('xvalue'), 'a'))
    assert.equal(
      (await openStore(copy, keyring({SECRETS_PASSPHRASE: 'correct horse battery', HOME: dir}))).read('X').value.text(),
      'xvalue',
    )
    await assert.rejects(openStore(copy, keyring({SECRETS_PASSPHRASE: 'wrong', HOME: dir})), {
      code: 'DECRYPT_FAILED',
      message: `The passphrase does not open the store ${copy}.`,
    })
  })
})
