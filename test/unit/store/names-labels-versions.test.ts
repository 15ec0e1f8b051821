import assert from 'node:assert/strict'
import {
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it} from 'node:test'

import {nonInteractive} from '../../../src/core/interaction.js'
import {SecretValue} from '../../../src/core/secret-value.js'
import {recipientId, serializeStore} from '../../../src/core/store/format.js'
import {openStore, readStoreFile, updateStore} from '../../../src/core/store/open-store.js'
import {addRecipient, listRecipients, removeRecipient} from '../../../src/core/store/recipients.js'
import {rekeyStore} from '../../../src/core/store/rekey.js'
import {isCodeLoadingName, isReservedName} from '../../../src/core/store/reserved-names.js'
import {keyring, newIdentity, seedStore} from './helpers.js'

process.env.SECRETS_SCRYPT_LOG_N = '12'

const CANARY = 'canary-Lb7q-plaintext-5520'

describe('reserved names', () => {
  it('set refuses SECRETS_* names and leaves the store as it was', async () => {
    const {file, alice} = await seedStore(CANARY)
    const before = readFileSync(file, 'utf8')
    await assert.rejects(
      updateStore(file, keyring({SECRETS_AGE_KEY: alice.key}), (s) =>
        s.write('SECRETS_AGE_KEY', new SecretValue('x'), 'alice@host'),
      ),
      {
        code: 'USAGE',
        message:
          'SECRETS_AGE_KEY is a reserved name: variables starting with SECRETS_ configure secrets itself, so a secret of that name would never reach a program. Nothing was changed.',
      },
    )
    assert.equal(readFileSync(file, 'utf8'), before)
  })

  it('knows the code-loading variables, by name and by family, in any case', () => {
    for (const name of ['NODE_OPTIONS', 'LD_PRELOAD', 'LD_AUDIT', 'DYLD_INSERT_LIBRARIES', 'BASH_ENV', 'ENV', 'PATH'])
      assert.equal(isCodeLoadingName(name), true, name)
    for (const name of [
      'PYTHONPATH',
      'PYTHONSTARTUP',
      'PERL5OPT',
      'RUBYOPT',
      'JAVA_TOOL_OPTIONS',
      'npm_config_script_shell',
    ])
      assert.equal(isCodeLoadingName(name), true, name)
    for (const name of ['DB_PASSWORD', 'API_KEY', 'PATHNAME', 'ENVIRONMENT', 'NODE_ENV'])
      assert.equal(isCodeLoadingName(name), false, name)
    assert.equal(isReservedName('SECRETS_IDENTITY'), true)
    assert.equal(isReservedName('MY_SECRETS_X'), false)
  })
})

describe('labels', () => {
  it('are unique, and key remove LABEL works for a labelled age key and a passphrase', async () => {
    const {file, alice} = await seedStore(CANARY)
    const carol = await newIdentity()
    const dave = await newIdentity()
    const k = keyring({SECRETS_AGE_KEY: alice.key})
    await addRecipient(file, k, {type: 'age', recipient: carol.recipient, label: 'carol'})
    await assert.rejects(addRecipient(file, k, {type: 'age', recipient: dave.recipient, label: 'carol'}), {
      code: 'CONFLICT',
      message: `The label "carol" is already used by a recipient of ${file}.`,
    })
    await addRecipient(file, k, {type: 'scrypt', passphrase: 'first break-glass passphrase 61', label: 'break-glass'})
    await assert.rejects(
      addRecipient(file, k, {type: 'scrypt', passphrase: 'second break-glass passphrase 62', label: 'break-glass'}),
      {
        code: 'CONFLICT',
      },
    )
    const env = {SECRETS_AGE_KEY: alice.key, SECRETS_PASSPHRASE: 'first break-glass passphrase 61'}
    const r1 = await removeRecipient(file, keyring(env), nonInteractive(), 'carol')
    assert.equal(r1.removed.recipient, carol.recipient)
    const r2 = await removeRecipient(file, keyring(env), nonInteractive(), 'break-glass')
    assert.equal(r2.removed.label, 'break-glass')
    assert.deepEqual(
      (await listRecipients(file, k)).map((r) => r.recipient),
      [alice.recipient],
    )
  })

  it('two passphrases that an older version gave one label are removed by the id key list shows', async () => {
    const {dir, alice} = await seedStore(CANARY)
    const file = join(dir, 'store.json')
    const k = keyring({SECRETS_AGE_KEY: alice.key})
    await addRecipient(file, k, {type: 'scrypt', passphrase: 'first break-glass passphrase 61', label: 'team'})
    await addRecipient(file, k, {type: 'scrypt', passphrase: 'second break-glass passphrase 62', label: 'other'})
    // What an older version could write: two passphrase recipients labelled alike.
    const doc = readStoreFile(file)
    doc.recipients[2].label = 'team'
    writeFileSync(file, serializeStore(doc, await k.unwrap(doc, file)))
    await assert.rejects(removeRecipient(file, k, nonInteractive(), 'team'), {
      code: 'USAGE',
      message: `team matches 2 recipients of ${file}; nothing was changed.`,
    })
    const second = recipientId(readStoreFile(file).recipients[2])
    assert.match(second, /^scrypt:[0-9a-f]{8}$/)
    const listed = await listRecipients(file, k)
    assert.deepEqual(
      listed.map((r) => r.id ?? r.recipient),
      [alice.recipient, recipientId(readStoreFile(file).recipients[1]), second],
    )
    const env = {SECRETS_AGE_KEY: alice.key, SECRETS_PASSPHRASE: 'first break-glass passphrase 61'}
    const {removed} = await removeRecipient(file, keyring(env), nonInteractive(), second)
    assert.equal(removed.id, second)
    assert.equal((await listRecipients(file, k)).length, 2)
    assert.equal(
      (await openStore(file, keyring({SECRETS_PASSPHRASE: 'first break-glass passphrase 61'})))
        .read('API_KEY', 1)
        .value.text(),
      CANARY,
    )
  })
})

describe('version numbers', () => {
  it('are never given twice, even after a discarded pending version', async () => {
    const {file, alice} = await seedStore(CANARY)
    const k = keyring({SECRETS_AGE_KEY: alice.key})
    const pending = await updateStore(file, k, (s) => s.writePending('API_KEY', new SecretValue('p'), 'alice@host', 2))
    assert.equal(pending, 3)
    await updateStore(file, k, (s) => s.discardPending('API_KEY'))
    const next = await updateStore(file, k, (s) => s.write('API_KEY', new SecretValue('n'), 'alice@host'))
    assert.equal(next, 4)
    const s = await openStore(file, k)
    assert.deepEqual(
      s.history('API_KEY').map((h) => h.version),
      [1, 2, 4],
    )
    assert.equal(s.read('API_KEY').value.text(), 'n')
  })
})

describe('version numbers of a deleted name', () => {
  it('go on after a delete, when the name is created again; the record of them is authenticated', async () => {
    const {file, alice} = await seedStore(CANARY)
    const k = keyring({SECRETS_AGE_KEY: alice.key})
    assert.equal(await updateStore(file, k, (s) => s.remove('API_KEY')), 2)
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')).retired, {API_KEY: 2})
    await rekeyStore(file, k, nonInteractive())
    assert.equal(await updateStore(file, k, (s) => s.write('API_KEY', new SecretValue('again'), 'alice@host')), 3)
    const doc = JSON.parse(readFileSync(file, 'utf8'))
    assert.equal(doc.retired, undefined)
    assert.equal(doc.secrets.API_KEY.highest, 2)
    assert.equal(await updateStore(file, k, (s) => s.write('API_KEY', new SecretValue('more'), 'alice@host')), 4)

    await updateStore(file, k, (s) => s.remove('BIN'))
    const text = readFileSync(file, 'utf8')
    writeFileSync(file, text.replace('"BIN": 1', '"BIN": 9'))
    await assert.rejects(openStore(file, k), {code: 'INTEGRITY'})
  })
})

describe('a symlinked store', () => {
  it('is written through: the link stays a link, its target is replaced atomically beside it', async () => {
    const {dir, file: real, alice} = await seedStore(CANARY)
    const linkDir = mkdtempSync(join(tmpdir(), 'secrets-link-'))
    const link = join(linkDir, 'store.json')
    symlinkSync(real, link)
    const k = keyring({SECRETS_AGE_KEY: alice.key})
    await updateStore(link, k, (s) => s.write('VIA_LINK', new SecretValue('through'), 'alice@host'))
    assert.equal(lstatSync(link).isSymbolicLink(), true)
    assert.equal(readlinkSync(link), real)
    assert.equal((await openStore(real, k)).read('VIA_LINK').value.text(), 'through')
    assert.equal(statSync(real).mode & 0o777, 0o600)
    await rekeyStore(link, k, nonInteractive())
    assert.equal(lstatSync(link).isSymbolicLink(), true)
    assert.equal((await openStore(link, k)).read('VIA_LINK').value.text(), 'through')
    // Lock and temp files live beside the target; nothing is left beside the link.
    assert.deepEqual(readdirSync(linkDir), ['store.json'])
    assert.deepEqual(readdirSync(dir), ['store.json'])
  })
})
