import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {before, describe, it} from 'node:test'
import * as age from 'age-encryption'

import {nonInteractive} from '../../../src/core/interaction.js'
import {addRecipient, removeRecipient} from '../../../src/core/store/keys.js'
import {SecretValue} from '../../../src/core/secret-value.js'
import {createStore, Keyring, openStore, updateStore} from '../../../src/core/store/store.js'
import {SecretsError} from '../../../src/errors.js'

process.env.SECRETS_SCRYPT_LOG_N = '12'

const CANARY = 'canary-Zq9x-plaintext-7731'

async function newIdentity(): Promise<{key: string; recipient: string}> {
  const key = await age.generateIdentity()
  return {key, recipient: await age.identityToRecipient(key)}
}

const keyring = (env: NodeJS.ProcessEnv) => new Keyring(env, nonInteractive())

describe('local store', () => {
  let dir: string
  let alice: {key: string; recipient: string}
  let bob: {key: string; recipient: string}
  let file: string

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'secrets-store-'))
    alice = await newIdentity()
    bob = await newIdentity()
    file = join(dir, 'store.json')
    await createStore(file, [{type: 'age', recipient: alice.recipient}])
    const k = keyring({SECRETS_AGE_KEY: alice.key})
    await updateStore(file, k, (s) => s.write('API_KEY', new SecretValue(CANARY), 'alice@host'))
    await updateStore(file, k, (s) =>
      s.write('BIN', new SecretValue(Buffer.from([0, 1, 2, 255, 10, 13])), 'alice@host'),
    )
    await updateStore(file, k, (s) => s.write('API_KEY', new SecretValue(`${CANARY}-v2\nsecond line`), 'alice@host'))
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

  it('adds a recipient by re-wrapping only, and removing one rotates the data key', async () => {
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
