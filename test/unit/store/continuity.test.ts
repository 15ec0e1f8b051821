import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it} from 'node:test'

import {nonInteractive} from '../../../src/core/interaction.js'
import {SecretValue} from '../../../src/core/secret-value.js'
import {fingerprintOf, trustedKey} from '../../../src/core/store/continuity.js'
import {createStore, openStore, readStoreFile, updateStore} from '../../../src/core/store/open-store.js'
import {addRecipient, removeRecipient, trustStore} from '../../../src/core/store/recipients.js'
import {rekeyStore} from '../../../src/core/store/rekey.js'
import {forgeStore} from '../../helpers/forge-store.js'
import {keyring, newIdentity, type TestIdentity} from './helpers.js'

process.env.SECRETS_SCRYPT_LOG_N = '12'

const stateOf = () => mkdtempSync(join(tmpdir(), 'secrets-user-'))

async function teamStore(): Promise<{file: string; aliceEnv: NodeJS.ProcessEnv; bob: TestIdentity}> {
  const dir = mkdtempSync(join(tmpdir(), 'secrets-store-'))
  const alice = await newIdentity()
  const bob = await newIdentity()
  const file = join(dir, 'store.json')
  const aliceState = stateOf()
  await createStore(file, [{type: 'age', recipient: alice.recipient}], {XDG_STATE_HOME: aliceState})
  const k = keyring({SECRETS_AGE_KEY: alice.key, XDG_STATE_HOME: aliceState})
  await updateStore(file, k, (s) => s.write('API_KEY', new SecretValue('real-value'), 'alice@host'))
  await addRecipient(file, k, {type: 'age', recipient: bob.recipient, label: 'bob'})
  return {file, aliceEnv: {SECRETS_AGE_KEY: alice.key, XDG_STATE_HOME: aliceState}, bob}
}

describe('data-key continuity', () => {
  it('a forged store (new data key wrapped to the victim) is refused with KEY_CHANGED, reads and writes', async () => {
    const {file, bob} = await teamStore()
    const env = {SECRETS_AGE_KEY: bob.key, XDG_STATE_HOME: stateOf()}
    assert.equal((await openStore(file, keyring(env))).read('API_KEY').value.text(), 'real-value')
    const known = trustedKey(file, env)!
    assert.equal(known.keyId, readStoreFile(file).keyId)
    assert.doesNotMatch(readFileSync(join(env.XDG_STATE_HOME, 'secrets', 'store-keys.json'), 'utf8'), /real-value/)

    await forgeStore(file, bob.recipient, {API_KEY: 'forged', NODE_OPTIONS: '--require /tmp/evil.js'})
    const forged = readStoreFile(file).keyId
    const refusal = {
      code: 'KEY_CHANGED',
      exitCode: 8,
      message: `The data key of the store ${file} changed since you last opened it (key id ${known.keyId}, now ${forged}), and the store holds no link made with the key you knew. Someone who can write the file but not read it may have replaced it with a store of their own; it may also be an older copy, or a rotation by a version of secrets that writes no link. No value was read.`,
    }
    await assert.rejects(openStore(file, keyring(env)), refusal)
    await assert.rejects(
      updateStore(file, keyring(env), (s) => s.write('X', new SecretValue('y'), 'bob@host')),
      refusal,
    )
    assert.deepEqual(trustedKey(file, env), known)
  })

  it('a forged store that copies the real lineage is refused too', async () => {
    const {file, aliceEnv, bob} = await teamStore()
    const env = {SECRETS_AGE_KEY: bob.key, XDG_STATE_HOME: stateOf()}
    await openStore(file, keyring(env))
    await rekeyStore(file, keyring(aliceEnv), nonInteractive())
    await openStore(file, keyring(env))
    const lineage = readStoreFile(file).lineage
    assert.equal(lineage?.length, 1)
    await forgeStore(file, bob.recipient, {API_KEY: 'forged'})
    const doc = JSON.parse(readFileSync(file, 'utf8'))
    writeFileSync(file, JSON.stringify({...doc, lineage}))
    await assert.rejects(openStore(file, keyring(env)), {code: 'KEY_CHANGED'})
  })

  it("a teammate's key rotate and key remove pass silently, one or several rotations later", async () => {
    const {file, aliceEnv, bob} = await teamStore()
    const env = {SECRETS_AGE_KEY: bob.key, XDG_STATE_HOME: stateOf()}
    await openStore(file, keyring(env))
    await rekeyStore(file, keyring(aliceEnv), nonInteractive())
    const s1 = await openStore(file, keyring(env))
    assert.equal(s1.read('API_KEY').value.text(), 'real-value')
    assert.equal(trustedKey(file, env)?.keyId, readStoreFile(file).keyId)

    // Two more rotations while bob is away: the lineage links his remembered key to the newest.
    const carol = await newIdentity()
    await addRecipient(file, keyring(aliceEnv), {type: 'age', recipient: carol.recipient, label: 'carol'})
    await rekeyStore(file, keyring(aliceEnv), nonInteractive())
    await removeRecipient(file, keyring(aliceEnv), nonInteractive(), 'carol')
    assert.equal(readStoreFile(file).lineage?.length, 3)
    const s3 = await openStore(file, keyring(env))
    assert.equal(s3.read('API_KEY').value.text(), 'real-value')
    assert.equal(trustedKey(file, env)?.keyId, readStoreFile(file).keyId)
    // Alice, who rotated, remembers the newest key herself.
    assert.equal(trustedKey(file, aliceEnv)?.keyId, readStoreFile(file).keyId)
  })

  it('a link that was edited does not pass', async () => {
    const {file, aliceEnv, bob} = await teamStore()
    const env = {SECRETS_AGE_KEY: bob.key, XDG_STATE_HOME: stateOf()}
    await openStore(file, keyring(env))
    await rekeyStore(file, keyring(aliceEnv), nonInteractive())
    const doc = JSON.parse(readFileSync(file, 'utf8'))
    doc.lineage[0].link = doc.lineage[0].link.replace(/^./, (c: string) => (c === '0' ? '1' : '0'))
    writeFileSync(file, JSON.stringify(doc))
    await assert.rejects(openStore(file, keyring(env)), {code: 'KEY_CHANGED'})
  })

  it('key trust accepts the new key after review, and only after confirmation', async () => {
    const {file, bob} = await teamStore()
    const env = {SECRETS_AGE_KEY: bob.key, XDG_STATE_HOME: stateOf()}
    await openStore(file, keyring(env))
    const old = trustedKey(file, env)!
    await forgeStore(file, bob.recipient, {API_KEY: 'accepted-after-review'})
    const declined = new Error('declined')
    await assert.rejects(
      trustStore(file, keyring(env), async () => {
        throw declined
      }),
      declined,
    )
    assert.deepEqual(trustedKey(file, env), old)
    const seen: string[] = []
    const result = await trustStore(file, keyring(env), async (r) => {
      seen.push(`${r.previousKeyId} -> ${r.keyId}`)
    })
    const now = readStoreFile(file).keyId
    assert.deepEqual(seen, [`${old.keyId} -> ${now}`])
    assert.equal(result.changed, true)
    assert.equal(trustedKey(file, env)?.keyId, now)
    assert.equal((await openStore(file, keyring(env))).read('API_KEY').value.text(), 'accepted-after-review')
  })

  it('remembers a fingerprint of the key, never the key', async () => {
    const {file, bob} = await teamStore()
    const env = {SECRETS_AGE_KEY: bob.key, XDG_STATE_HOME: stateOf()}
    await openStore(file, keyring(env))
    const dataKey = await keyring(env).unwrap(readStoreFile(file), file)
    const trust = join(env.XDG_STATE_HOME, 'secrets', 'store-keys.json')
    assert.equal(statSync(trust).mode & 0o777, 0o600)
    const text = readFileSync(trust, 'utf8')
    assert.ok(text.includes(fingerprintOf(dataKey)))
    assert.ok(!text.includes(dataKey.toString('hex')) && !text.includes(dataKey.toString('base64')))
  })
})
