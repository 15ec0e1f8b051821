import assert from 'node:assert/strict'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {before, describe, it} from 'node:test'

import {nonInteractive} from '../../../src/core/interaction.js'
import {openStore} from '../../../src/core/store/open-store.js'
import {addRecipient, removeRecipient} from '../../../src/core/store/recipients.js'
import {keyring, seedStore, type TestIdentity} from './helpers.js'

process.env.SECRETS_SCRYPT_LOG_N = '12'

const CANARY = 'canary-Zq9x-plaintext-7731'

describe('recipients', () => {
  let dir: string
  let alice: TestIdentity
  let bob: TestIdentity
  let file: string

  before(async () => {
    ;({dir, alice, bob, file} = await seedStore(CANARY))
  })

  it('adds a recipient by re-wrapping only, and removing one rekeys the store', async () => {
    const copy = join(dir, 'keys.json')
    writeFileSync(copy, readFileSync(file))
    const before = JSON.parse(readFileSync(copy, 'utf8'))
    await addRecipient(copy, keyring({SECRETS_AGE_KEY: alice.key}), {
      type: 'age',
      recipient: bob.recipient,
      label: 'bob',
    })
    const added = JSON.parse(readFileSync(copy, 'utf8'))
    assert.equal(added.keyId, before.keyId)
    assert.deepEqual(added.secrets, before.secrets)
    assert.equal((await openStore(copy, keyring({SECRETS_AGE_KEY: bob.key}))).read('API_KEY', 1).value.text(), CANARY)

    const warnings: string[] = []
    await removeRecipient(copy, keyring({SECRETS_AGE_KEY: bob.key}), nonInteractive(warnings), alice.recipient)
    const after = JSON.parse(readFileSync(copy, 'utf8'))
    assert.notEqual(after.keyId, before.keyId)
    assert.notEqual(after.secrets.API_KEY.versions[0].data, before.secrets.API_KEY.versions[0].data)
    assert.equal((await openStore(copy, keyring({SECRETS_AGE_KEY: bob.key}))).read('API_KEY', 1).value.text(), CANARY)
    await assert.rejects(openStore(copy, keyring({SECRETS_AGE_KEY: alice.key})), {code: 'DECRYPT_FAILED'})
    await assert.rejects(removeRecipient(copy, keyring({SECRETS_AGE_KEY: bob.key}), nonInteractive(), bob.recipient), {
      code: 'USAGE',
      message: `Refusing to remove the last recipient of ${copy}: nobody could open the store afterwards.`,
    })
  })
})
