/**
 * How hard a new passphrase is to guess, estimated by zxcvbn-ts with its common and English dictionaries.
 *
 * The estimator and its dictionaries (several MB) are imported only here, and only when a passphrase is
 * being set: opening a store (`exec`, `get`) never loads them. The build leaves them external
 * (scripts/build.mjs), so a trace of `exec` can show they are not loaded.
 */
import type {ZxcvbnFactory} from '@zxcvbn-ts/core'

/**
 * The lowest zxcvbn score (0..4) a new passphrase may have. The store is meant to be committed, so anyone
 * with a copy can guess offline for as long as they like: 4 means at least 10^10 guesses, about 12 days at
 * the 10^4 guesses a second that zxcvbn assumes for a slow hash such as age's scrypt.
 */
export const MIN_PASSPHRASE_SCORE = 4

/** zxcvbn's verdict on one passphrase; nothing in it repeats the passphrase. */
export interface PassphraseStrength {
  score: 0 | 1 | 2 | 3 | 4
  /** The time to guess it offline against a slow hash, as zxcvbn words it ("2 minutes", "centuries"). */
  crackTime: string
  /** What makes it guessable ("This is a frequently used password."), when zxcvbn can say. */
  warning?: string
  /** How to make a better one, in zxcvbn's words. */
  suggestions: string[]
}

let estimator: Promise<ZxcvbnFactory> | undefined

/** The estimator, built once per process (building its ranked dictionaries takes a few hundred ms). */
function loadEstimator(): Promise<ZxcvbnFactory> {
  estimator ??= (async () => {
    const [{ZxcvbnFactory}, common, en] = await Promise.all([
      import('@zxcvbn-ts/core'),
      import('@zxcvbn-ts/language-common'),
      import('@zxcvbn-ts/language-en'),
    ])
    const translations = {
      ...en.translations,
      // zxcvbn's default speaks of web pages; here the user inputs are the tool, project and label names.
      warnings: {
        ...en.translations.warnings,
        userInputs: 'It leans on the name of this tool, the project or the recipient label.',
      },
    }
    return new ZxcvbnFactory({
      translations,
      graphs: common.adjacencyGraphs,
      dictionary: {...common.dictionary, ...en.dictionary},
    })
  })()
  return estimator
}

/**
 * Estimate a passphrase's strength. `userInputs` are words an attacker would try first (the project's
 * directory name, the recipient's label); a passphrase built on them scores lower.
 */
export async function passphraseStrength(passphrase: string, userInputs: string[] = []): Promise<PassphraseStrength> {
  const zxcvbn = await loadEstimator()
  const inputs = ['secrets', 'passphrase', ...userInputs.filter((w) => w.length > 0)]
  const result = zxcvbn.check(passphrase, inputs)
  return {
    score: result.score,
    crackTime: result.crackTimes.offlineSlowHashingXPerSecond.display,
    ...(result.feedback.warning ? {warning: result.feedback.warning} : {}),
    suggestions: result.feedback.suggestions,
  }
}

/**
 * Why a passphrase of this strength is refused, as the middle of a sentence ("guessable in 2 minutes
 * offline ..."), or undefined when it is strong enough.
 */
export function weakness(s: PassphraseStrength): string | undefined {
  if (s.score >= MIN_PASSPHRASE_SCORE) return undefined
  return `guessable in ${s.crackTime} offline (strength ${s.score} of 4; at least ${MIN_PASSPHRASE_SCORE} is required): the store is meant to be committed, so anyone with a copy can keep guessing`
}

/** zxcvbn's warning and suggestions, then ours: what to do instead, one sentence each. */
export function strengthAdvice(s: PassphraseStrength): string[] {
  return [
    ...(s.warning ? [s.warning] : []),
    ...s.suggestions,
    'Four or more uncommon words, or a long one from a password manager, is strong enough.',
  ]
}
