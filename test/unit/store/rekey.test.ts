import assert from 'node:assert/strict'
import {existsSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {before, describe, it} from 'node:test'

import {nonInteractive, type Interaction} from '../../../src/core/interaction.js'
import {newDataKey, parseStore, type StoreDoc} from '../../../src/core/store/format.js'
import {Keyring} from '../../../src/core/store/keyring.js'
import {createStore, OpenStore, openStore, updateStore} from '../../../src/core/store/open-store.js'
import {addRecipient, removeRecipient} from '../../../src/core/store/recipients.js'
import {checkRekeyed, rekeyStore, type RekeyProgress} from '../../../src/core/store/rekey.js'
import {SecretValue} from '../../../src/core/secret-value.js'
import {SecretsError} from '../../../src/errors.js'
import {keyring, newIdentity, type TestIdentity, typingTerminal} from './helpers.js'

process.env.SECRETS_SCRYPT_LOG_N = '12'

const CANARY = 'canary-rekey-4b1e-plaintext'
const PASS = 'team passphrase 314'

/**
 * An interactive UI whose password prompt answers with `answer` (the next of them each time, the last one
 * from then on; after running `onPrompt`), and which collects its warnings.
 */
function terminal(
  answer: string | string[],
  onPrompt?: () => Promise<void>,
): Interaction & {prompts: string[]; warnings: string[]} {
  return typingTerminal(typeof answer === 'string' ? [answer] : answer, {repeatLast: true, onPrompt})
}

/** Everything in a store document except the ciphertexts and wrapped keys, which a rekey must change. */
function shape(doc: StoreDoc): unknown {
  return {
    recipients: doc.recipients.map(({wrapped: _w, ...r}) => r),
    secrets: Object.fromEntries(
      Object.entries(doc.secrets).map(([n, e]) => [
        n,
        {current: e.current, versions: e.versions.map(({nonce: _n, data: _d, ...v}) => v)},
      ]),
    ),
  }
}

const EXPECTED: Array<[string, number, string | Buffer]> = [
  ['API_KEY', 1, CANARY],
  ['API_KEY', 2, `${CANARY}-v2\nsecond line`],
  ['API_KEY', 3, `${CANARY}-pending`],
  ['BIN', 1, Buffer.from([0, 1, 2, 255, 10, 13])],
]

function assertValues(store: OpenStore): void {
  for (const [name, version, value] of EXPECTED) {
    assert.deepEqual(store.read(name, version).value.reveal(), Buffer.from(value), `${name} v${version}`)
  }
  assert.equal(store.read('API_KEY').version, 2)
}

describe('rekey (core)', () => {
  let dir: string
  let alice: TestIdentity
  let bob: TestIdentity
  let original: string
  let n = 0
  /** A fresh copy of the three-recipient store with four versions (one pending, one binary). */
  const copy = () => {
    const file = join(dir, `store-${++n}.json`)
    writeFileSync(file, original, {mode: 0o600})
    return file
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'secrets-rekey-'))
    alice = await newIdentity()
    bob = await newIdentity()
    const file = join(dir, 'store.json')
    await createStore(file, [
      {type: 'age', recipient: alice.recipient},
      {type: 'scrypt', passphrase: PASS, label: 'team'},
    ])
    const k = keyring({SECRETS_AGE_KEY: alice.key})
    await addRecipient(file, k, {type: 'age', recipient: bob.recipient, label: 'bob'})
    await updateStore(file, k, (s) => {
      s.write('API_KEY', new SecretValue(CANARY), 'alice@host')
      s.write('BIN', new SecretValue(Buffer.from([0, 1, 2, 255, 10, 13])), 'alice@host')
      s.write('API_KEY', new SecretValue(`${CANARY}-v2\nsecond line`), 'alice@host')
      s.write('API_KEY', new SecretValue(`${CANARY}-pending`), 'bob@host', {pending: true})
    })
    original = readFileSync(file, 'utf8')
  })

  it('re-wraps for every recipient and re-encrypts every version; each recipient still opens it, the old key opens nothing', async () => {
    const file = copy()
    const progress: RekeyProgress[] = []
    const result = await rekeyStore(
      file,
      keyring({SECRETS_AGE_KEY: alice.key, SECRETS_PASSPHRASE: PASS}),
      nonInteractive(),
      {onProgress: (p) => progress.push(p)},
    )
    const before = parseStore(original, file)
    const after = parseStore(readFileSync(file, 'utf8'), file)
    assert.deepEqual(
      [result.oldKeyId, result.keyId, result.secrets, result.versions],
      [before.keyId, after.keyId, 2, 4],
    )
    assert.notEqual(after.keyId, before.keyId)
    assert.deepEqual(
      result.recipients.map((r) => [r.type, r.label]),
      [
        ['age', undefined],
        ['scrypt', 'team'],
        ['age', 'bob'],
      ],
    )
    assert.deepEqual(shape(after), shape(before), 'names, versions, states, times, actors and recipients are kept')
    for (const [i, r] of after.recipients.entries()) assert.notEqual(r.wrapped, before.recipients[i].wrapped)
    for (const [name, e] of Object.entries(after.secrets)) {
      for (const [i, v] of e.versions.entries()) assert.notEqual(v.data, before.secrets[name].versions[i].data)
    }
    assert.ok(!readFileSync(file, 'utf8').includes(CANARY))
    assert.deepEqual(progress, [
      {phase: 'wrap', done: 0, total: 3, recipient: alice.recipient},
      {phase: 'wrap', done: 1, total: 3, recipient: 'scrypt "team"'},
      {phase: 'wrap', done: 2, total: 3, recipient: bob.recipient},
      {phase: 'reencrypt', done: 3, total: 4},
      {phase: 'reencrypt', done: 4, total: 4},
      {phase: 'write'},
    ])

    assertValues(await openStore(file, keyring({SECRETS_AGE_KEY: alice.key})))
    assertValues(await openStore(file, keyring({SECRETS_AGE_KEY: bob.key})))
    assertValues(await openStore(file, keyring({SECRETS_PASSPHRASE: PASS, HOME: dir})))

    const oldKey = await keyring({SECRETS_AGE_KEY: alice.key}).unwrap(before, file)
    const withOldKey = new OpenStore(file, after, oldKey)
    for (const [name, version] of EXPECTED) {
      assert.throws(() => withOldKey.read(name, version), {
        code: 'INTEGRITY',
        message: new RegExp(`version ${version} of ${name} does not authenticate`),
      })
    }
    // The MAC does not match under the old key either: serialising under it gives another MAC.
    assert.notEqual(JSON.parse(withOldKey.serialize()).mac, after.mac)
  })

  it('asks on a terminal for the passphrase of a passphrase recipient, and checks it', async () => {
    const file = copy()
    const ui = terminal(PASS)
    await rekeyStore(file, new Keyring({SECRETS_AGE_KEY: alice.key}, ui), ui)
    assert.deepEqual(ui.prompts, ['Passphrase of recipient "team" (to wrap the new data key for it)'])
    assertValues(await openStore(file, keyring({SECRETS_PASSPHRASE: PASS, HOME: dir})))

    const file2 = copy()
    const wrong = terminal('not the passphrase')
    await assert.rejects(rekeyStore(file2, new Keyring({SECRETS_AGE_KEY: alice.key}, wrong), wrong), {
      code: 'DECRYPT_FAILED',
      message: `That is not the passphrase of recipient "team" of ${file2} (3 tries). Nothing was changed.`,
    })
    assert.equal(wrong.prompts.length, 3)
    assert.deepEqual(wrong.warnings, [
      'That is not the passphrase of "team". Try again (2 tries left).',
      'That is not the passphrase of "team". Try again (1 try left).',
    ])
    assert.equal(readFileSync(file2, 'utf8'), original)
  })

  it('asks again when the passphrase typed is wrong, and goes ahead with a right one', async () => {
    const file = copy()
    const ui = terminal(['not the passphrase', PASS])
    await rekeyStore(file, new Keyring({SECRETS_AGE_KEY: alice.key}, ui), ui)
    assert.equal(ui.prompts.length, 2)
    assert.deepEqual(ui.warnings, ['That is not the passphrase of "team". Try again (2 tries left).'])
    assertValues(await openStore(file, keyring({SECRETS_PASSPHRASE: PASS, HOME: dir})))
  })

  it('refuses, changing nothing, when a passphrase recipient cannot be re-wrapped', async () => {
    const file = copy()
    await assert.rejects(rekeyStore(file, keyring({SECRETS_AGE_KEY: alice.key}), nonInteractive()), (e: unknown) => {
      assert.ok(e instanceof SecretsError)
      assert.deepEqual([e.code, e.exitCode], ['USAGE', 2])
      assert.equal(
        e.message,
        `The store ${file} has a passphrase recipient "team": wrapping the new data key for it needs its passphrase, and there is no terminal to ask on (or CI is set). Nothing was changed.`,
      )
      assert.deepEqual(e.suggestions, [
        'Set SECRETS_PASSPHRASE to the passphrase of "team".',
        'Or remove that recipient first (`secrets key remove team`) and add a passphrase again afterwards (`secrets key add --passphrase`).',
      ])
      return true
    })
    // A wrong SECRETS_PASSPHRASE is caught even though the store was opened with an age key, so the new
    // key is never wrapped under a passphrase nobody knows.
    await assert.rejects(
      rekeyStore(file, keyring({SECRETS_AGE_KEY: alice.key, SECRETS_PASSPHRASE: 'wrong'}), nonInteractive()),
      {
        code: 'DECRYPT_FAILED',
        message: `SECRETS_PASSPHRASE does not open the passphrase recipient "team" of ${file}, so the new data key cannot be wrapped for it. Nothing was changed.`,
      },
    )
    assert.equal(readFileSync(file, 'utf8'), original)
  })

  it('key remove checks the passphrase of a remaining passphrase recipient too', async () => {
    const file = copy()
    await assert.rejects(
      removeRecipient(
        file,
        keyring({SECRETS_AGE_KEY: alice.key, SECRETS_PASSPHRASE: 'wrong'}),
        nonInteractive(),
        bob.recipient,
      ),
      {code: 'DECRYPT_FAILED'},
    )
    assert.equal(readFileSync(file, 'utf8'), original)
    const {removed, remaining} = await removeRecipient(
      file,
      keyring({SECRETS_AGE_KEY: alice.key, SECRETS_PASSPHRASE: PASS}),
      nonInteractive(),
      bob.recipient,
    )
    assert.equal(removed.recipient, bob.recipient)
    assert.deepEqual(
      remaining.map((r) => r.type),
      ['age', 'scrypt'],
    )
    assertValues(await openStore(file, keyring({SECRETS_PASSPHRASE: PASS, HOME: dir})))
    await assert.rejects(openStore(file, keyring({SECRETS_AGE_KEY: bob.key})), {code: 'DECRYPT_FAILED'})
  })

  it('refuses a recipient type it cannot wrap for, naming it, before asking or changing anything', async () => {
    const file = copy()
    const k = keyring({SECRETS_AGE_KEY: alice.key})
    const doc = parseStore(original, file)
    doc.recipients.push({
      type: 'gcpkms',
      recipient: 'gcpkms://projects/p/keys/k',
      added: '2026-01-01T00:00:00.000Z',
      wrapped: 'opaque',
    })
    writeFileSync(file, new OpenStore(file, doc, await k.unwrap(doc, file)).serialize())
    const withUnknown = readFileSync(file, 'utf8')
    const ui = terminal(PASS)
    await assert.rejects(rekeyStore(file, k, ui), {
      code: 'UNSUPPORTED',
      message: `The store ${file} has a recipient of type "gcpkms" (gcpkms://projects/p/keys/k), and this version of secrets cannot wrap a new data key for it. Nothing was changed.`,
    })
    assert.deepEqual(ui.prompts, [])
    assert.equal(readFileSync(file, 'utf8'), withUnknown)
  })

  it('is a CONFLICT, changing nothing, when the recipients change before the lock is taken', async () => {
    const file = copy()
    const carol = await newIdentity()
    const ui = terminal(PASS, () =>
      addRecipient(file, keyring({SECRETS_AGE_KEY: alice.key}), {type: 'age', recipient: carol.recipient}).then(
        () => undefined,
      ),
    )
    await assert.rejects(rekeyStore(file, new Keyring({SECRETS_AGE_KEY: alice.key}, ui), ui), {code: 'CONFLICT'})
    const doc = parseStore(readFileSync(file, 'utf8'), file)
    assert.equal(doc.keyId, parseStore(original, file).keyId)
    assert.equal(doc.recipients.at(-1)?.recipient, carol.recipient)
    assertValues(await openStore(file, keyring({SECRETS_AGE_KEY: carol.key})))
  })

  it('the check before writing refuses a new text that does not hold every old value under the new key', async () => {
    const file = copy()
    const store = await openStore(file, keyring({SECRETS_AGE_KEY: alice.key}))
    const {key} = newDataKey()
    const check = store.rekey(key, store.recipients())
    const text = store.serialize()
    checkRekeyed(text, file, key, check)
    const bug = (detail: string) => ({
      code: 'INTERNAL',
      message: `Re-encrypting ${file} went wrong (${detail}); the store was not replaced and still opens as before.`,
    })
    assert.throws(() => checkRekeyed(text, file, newDataKey().key, check), {
      code: 'INTERNAL',
      message: /integrity check \(MAC\) does not match/,
    })
    const doc = JSON.parse(text) as StoreDoc
    doc.secrets.API_KEY.versions.pop()
    assert.throws(
      () => checkRekeyed(new OpenStore(file, doc, key).serialize(), file, key, check),
      bug('4 versions became 3'),
    )
    check.digests.set('BIN\u00001', '0'.repeat(64))
    assert.throws(() => checkRekeyed(text, file, key, check), bug('version 1 of BIN changed'))
    assert.equal(readFileSync(file, 'utf8'), original)
  })

  it('sweeps temp files that a killed writer left next to the store', async () => {
    const file = copy()
    const leftover = join(dir, `.store-${n}.json.tmp-99999-abcdef`)
    writeFileSync(leftover, original.slice(0, 100), {mode: 0o600})
    const unrelated = join(dir, `.other.json.tmp-99999-abcdef`)
    writeFileSync(unrelated, 'x')
    await rekeyStore(file, keyring({SECRETS_AGE_KEY: alice.key, SECRETS_PASSPHRASE: PASS}), nonInteractive())
    assert.equal(existsSync(leftover), false)
    assert.equal(existsSync(unrelated), true)
  })
})
