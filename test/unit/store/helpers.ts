import assert from 'node:assert/strict'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import * as age from 'age-encryption'

import {nonInteractive, type Interaction} from '../../../src/core/interaction.js'
import {Keyring} from '../../../src/core/store/keyring.js'
import {createStore, updateStore} from '../../../src/core/store/open-store.js'
import {SecretValue} from '../../../src/core/secret-value.js'

/** An age identity made for one test run. */
export interface TestIdentity {
  key: string
  recipient: string
}

export async function newIdentity(): Promise<TestIdentity> {
  const key = await age.generateIdentity()
  return {key, recipient: await age.identityToRecipient(key)}
}

/** A per-run state directory, so remembered data keys (continuity.ts) never land in the real home. */
export const STATE_HOME = mkdtempSync(join(tmpdir(), 'secrets-state-'))

/** A keyring that never prompts, with its own state directory unless `env` names one. */
export const keyring = (env: NodeJS.ProcessEnv) => new Keyring({XDG_STATE_HOME: STATE_HOME, ...env}, nonInteractive())

/** A store seeded by alice (API_KEY v1 and v2, BIN), plus bob, who is not a recipient. */
export interface SeededStore {
  dir: string
  file: string
  alice: TestIdentity
  bob: TestIdentity
}

/**
 * A temp directory with `store.json`: one age recipient (alice), API_KEY = `canary` then
 * `${canary}-v2\nsecond line`, and BIN holding bytes that are not text.
 */
export async function seedStore(canary: string): Promise<SeededStore> {
  const dir = mkdtempSync(join(tmpdir(), 'secrets-store-'))
  const alice = await newIdentity()
  const bob = await newIdentity()
  const file = join(dir, 'store.json')
  await createStore(file, [{type: 'age', recipient: alice.recipient}], {XDG_STATE_HOME: STATE_HOME})
  const k = keyring({SECRETS_AGE_KEY: alice.key})
  await updateStore(file, k, (s) => s.write('API_KEY', new SecretValue(canary), 'alice@host'))
  await updateStore(file, k, (s) => s.write('BIN', new SecretValue(Buffer.from([0, 1, 2, 255, 10, 13])), 'alice@host'))
  await updateStore(file, k, (s) => s.write('API_KEY', new SecretValue(`${canary}-v2\nsecond line`), 'alice@host'))
  return {dir, file, alice, bob}
}

/**
 * A terminal whose password prompt types `answers` in turn, recording the prompts and the warnings (the
 * reasons given before a prompt asks again among them). Asked once more than it has answers, it fails the
 * test, unless `repeatLast` (then the last answer is typed from then on); `onPrompt` runs before each answer.
 */
export function typingTerminal(
  answers: string[],
  o: {repeatLast?: boolean; onPrompt?: () => Promise<void>} = {},
): Interaction & {prompts: string[]; warnings: string[]} {
  const prompts: string[] = []
  const warnings: string[] = []
  return {
    ...nonInteractive(warnings),
    interactive: true,
    prompts,
    warnings,
    async password(message, why) {
      if (why !== undefined) warnings.push(why)
      prompts.push(message)
      await o.onPrompt?.()
      const i = o.repeatLast ? Math.min(prompts.length, answers.length) - 1 : prompts.length - 1
      return answers[i] ?? assert.fail(`asked more often than expected: ${message}`)
    },
  }
}
