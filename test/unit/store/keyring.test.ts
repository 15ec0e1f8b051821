import assert from 'node:assert/strict'
import {join} from 'node:path'
import {before, describe, it} from 'node:test'

import {createStore, openStore, updateStore} from '../../../src/core/store/open-store.js'
import {SecretValue} from '../../../src/core/secret-value.js'
import {nonInteractive, type Interaction} from '../../../src/core/interaction.js'
import {Keyring} from '../../../src/core/store/keyring.js'
import {SecretsError} from '../../../src/errors.js'
import {keyring, seedStore, STATE_HOME, type TestIdentity, typingTerminal} from './helpers.js'

process.env.SECRETS_SCRYPT_LOG_N = '12'

const CANARY = 'canary-Zq9x-plaintext-7731'
const PASS = 'typed team passphrase 5150'

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

  describe('a passphrase typed on a terminal', () => {
    let copy: string
    before(async () => {
      copy = join(dir, 'typed.json')
      await createStore(copy, [{type: 'scrypt', passphrase: PASS, label: 'team'}])
    })
    /** A terminal that types `answers` in turn at the passphrase prompt and collects the warnings. */
    const typing = (answers: string[]) => {
      const ui = typingTerminal(answers)
      return {
        prompts: ui.prompts,
        warnings: ui.warnings,
        keyring: new Keyring({XDG_STATE_HOME: STATE_HOME, HOME: dir}, ui),
      }
    }

    it('is asked again when wrong, and a right one on the second try opens the store', async () => {
      const t = typing(['wrong', PASS])
      assert.deepEqual((await openStore(copy, t.keyring)).names(), [])
      assert.deepEqual(t.prompts, [`Passphrase for ${copy}`, `Passphrase for ${copy}`])
      assert.deepEqual(t.warnings, [`That passphrase does not open ${copy}. Try again (2 tries left).`])
    })

    it('wrong three times is DECRYPT_FAILED after the third', async () => {
      const t = typing(['wrong', 'wrong again', 'still wrong'])
      await assert.rejects(openStore(copy, t.keyring), {
        code: 'DECRYPT_FAILED',
        message: `The passphrase does not open the store ${copy} (3 tries).`,
      })
      assert.equal(t.prompts.length, 3)
      // Opened again in the same run (a command may open a store twice), it fails without asking again.
      await assert.rejects(openStore(copy, t.keyring), {code: 'DECRYPT_FAILED'})
      assert.equal(t.prompts.length, 3)
      assert.deepEqual(t.warnings, [
        `That passphrase does not open ${copy}. Try again (2 tries left).`,
        `That passphrase does not open ${copy}. Try again (1 try left).`,
      ])
    })

    it('a wrong SECRETS_PASSPHRASE is not retried, even on a terminal', async () => {
      const warnings: string[] = []
      const ui: Interaction = {
        ...nonInteractive(warnings),
        interactive: true,
        password: () => assert.fail('asked although SECRETS_PASSPHRASE is set'),
      }
      const k = new Keyring({XDG_STATE_HOME: STATE_HOME, HOME: dir, SECRETS_PASSPHRASE: 'wrong'}, ui)
      await assert.rejects(openStore(copy, k), {
        code: 'DECRYPT_FAILED',
        message: `The passphrase does not open the store ${copy}.`,
      })
      assert.deepEqual(warnings, [])
    })
  })
})
