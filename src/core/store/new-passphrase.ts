/**
 * Where every command that sets a passphrase (`init --passphrase`, `key add --passphrase`) gets it. One
 * rule for the names: SECRETS_PASSPHRASE is only ever a passphrase that opens an existing store, and
 * SECRETS_NEW_PASSPHRASE only ever one being set.
 */
import {SecretsError} from '../../errors.js'
import type {Interaction} from '../interaction.js'
import {PASSPHRASE_TRIES, triesLeft} from './keyring.js'
import {passphraseStrength, strengthAdvice, weakness} from './passphrase-strength.js'

/** The variable a passphrase being set is read from. */
export const NEW_PASSPHRASE_VARIABLE = 'SECRETS_NEW_PASSPHRASE'

export interface NewPassphraseOptions {
  env: NodeJS.ProcessEnv
  ui: Interaction
  /** The end of every refusal: `Nothing was created.` or `Nothing was changed.` */
  unchanged: string
  /** Words the passphrase should not lean on: the project's directory name, the recipient's label. */
  userInputs?: string[]
}

/**
 * A new passphrase that zxcvbn scores at least MIN_PASSPHRASE_SCORE: from SECRETS_NEW_PASSPHRASE, else
 * typed twice on a terminal (asked again, up to three times, when too weak or when the two differ), else
 * USAGE naming the variable. A weak one is USAGE with zxcvbn's reason, never the passphrase itself.
 */
export async function newPassphrase(o: NewPassphraseOptions): Promise<string> {
  const check = (p: string) =>
    o.ui.progress('Checking the strength of the passphrase', () => passphraseStrength(p, o.userInputs))
  const given = o.env[NEW_PASSPHRASE_VARIABLE]
  if (given) {
    const strength = await check(given)
    const why = weakness(strength)
    if (why === undefined) return given
    throw new SecretsError('USAGE', `${NEW_PASSPHRASE_VARIABLE} is too weak: ${why}. ${o.unchanged}`, {
      suggestions: strengthAdvice(strength),
    })
  }
  if (!o.ui.interactive) throw noNewPassphrase(o)
  let again: string | undefined
  for (let attempt = 1; ; attempt++) {
    const left = PASSPHRASE_TRIES - attempt
    const tries = triesLeft(left)
    const typed = await o.ui.password('New store passphrase', again)
    const strength = await check(typed)
    const why = weakness(strength)
    if (why !== undefined) {
      if (left === 0) {
        throw new SecretsError('USAGE', `The passphrase typed is too weak: ${why}. ${o.unchanged}`, {
          suggestions: strengthAdvice(strength),
        })
      }
      again = `That passphrase is too weak: ${why}. ${strengthAdvice(strength).join(' ')} Type another (${tries}).`
      continue
    }
    if ((await o.ui.password('Repeat the passphrase')) === typed) return typed
    if (left === 0) {
      throw new SecretsError('USAGE', `The two passphrases differ, ${PASSPHRASE_TRIES} times running. ${o.unchanged}`, {
        suggestions: ['Run the command again and type the same passphrase twice.'],
      })
    }
    again = `The two passphrases differ. Type the new one again (${tries}).`
  }
}

function noNewPassphrase(o: NewPassphraseOptions): SecretsError {
  const suggestions = [`Set ${NEW_PASSPHRASE_VARIABLE} to the new passphrase, or run on a terminal to be asked.`]
  if (o.env.SECRETS_PASSPHRASE) {
    suggestions.push(
      `SECRETS_PASSPHRASE is set, but it is only ever the passphrase that opens an existing store; a passphrase being set is read from ${NEW_PASSPHRASE_VARIABLE}.`,
    )
  }
  return new SecretsError(
    'USAGE',
    `A new passphrase is needed: ${NEW_PASSPHRASE_VARIABLE} is not set, and there is no terminal to ask on (or CI is set). ${o.unchanged}`,
    {suggestions},
  )
}
