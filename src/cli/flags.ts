import * as Flags from '@oclif/core/flags'

import {parseDuration} from '../core/lib/time.js'
import {SecretsError} from '../errors.js'

/**
 * oclif rewrites the message of an error thrown from a flag's parse ("Parsing --flag ... See more help
 * with --help"); ours already names the flag and says what to write, so its message is pinned.
 */
function pinned(error: unknown): unknown {
  if (error instanceof SecretsError) {
    const {message} = error
    Object.defineProperty(error, 'message', {get: () => message, set() {}, enumerable: false, configurable: true})
  }
  return error
}

/**
 * A duration such as 90s, 30m, 24h or 7d, parsed to milliseconds (the config file's own parser).
 * `hint` is the suggestion when the value is not one; `positive` refuses zero.
 */
export const durationFlag = Flags.custom<number, {hint: string; positive?: boolean}>({
  async parse(input, _context, options) {
    const ms = parseDuration(input)
    if (ms === undefined || (options.positive && ms <= 0)) {
      throw pinned(
        new SecretsError('USAGE', `--${options.name} ${JSON.stringify(input)} is not a duration.`, {
          suggestions: [options.hint],
        }),
      )
    }
    return ms
  },
})

/** A polling interval (ms, s, m or h; at least 1s), parsed to milliseconds by exec's own parser. */
export const intervalFlag = Flags.custom<number>({
  async parse(input, _context, options) {
    const {parseInterval} = await import('../core/exec/exec.js')
    try {
      return parseInterval(input, `--${options.name}`)
    } catch (error) {
      throw pinned(error)
    }
  },
})

/** The offline fallback flags of the commands that resolve secrets (exec, export, get, render). */
export const fallbackFlags = {
  fallback: Flags.boolean({
    description:
      'Cache every value read from a remote provider (encrypted to your identity) and use a cached value when the provider cannot be reached, within --max-age.',
    helpGroup: 'OFFLINE',
  }),
  'max-age': durationFlag({
    description:
      'How old a cached value may be to be used (e.g. 1h, 7d); implies --fallback. Without it, cached values are never used silently.',
    helpGroup: 'OFFLINE',
    hint: 'Write it as a number with a unit: --max-age 90s, 30m, 24h or 7d.',
    positive: true,
  }),
  offline: Flags.boolean({
    description: 'Contact no remote provider: their values come only from the cache (within --max-age when given).',
    helpGroup: 'OFFLINE',
  }),
}

/** The confirmation flag of the commands that change or delete. */
export function yesFlag(description = 'Do not ask for confirmation.') {
  return Flags.boolean({char: 'y', description})
}
