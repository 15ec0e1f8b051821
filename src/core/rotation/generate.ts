import {randomBytes, randomInt, randomUUID} from 'node:crypto'

import {SecretsError} from '../../errors.js'
import {GENERATOR_TYPES, type GeneratorSpec} from '../config/types.js'
import {SecretValue} from '../secret-value.js'

const CLASSES = {
  lower: 'abcdefghijklmnopqrstuvwxyz',
  upper: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  digit: '0123456789',
  symbol: '!#%+,-.:=@^_~',
} as const

/** The default: a 32-character password of letters and digits (safe in URLs, shells and config files). */
export const DEFAULT_GENERATOR: GeneratorSpec = {type: 'password', length: 32}

/**
 * A new random value from the system CSPRNG (node:crypto). Passwords draw every character uniformly
 * (randomInt, no modulo bias) from the union of the classes, with at least one character of each
 * class, placed at a random position; hex and base64 encode `length` random bytes.
 */
export function generateValue(spec: GeneratorSpec = DEFAULT_GENERATOR): SecretValue {
  switch (spec.type) {
    case 'uuid':
      return new SecretValue(randomUUID())
    case 'hex':
      return new SecretValue(randomBytes(spec.length ?? 32).toString('hex'))
    case 'base64':
      return new SecretValue(randomBytes(spec.length ?? 32).toString('base64'))
    case 'base64url':
      return new SecretValue(randomBytes(spec.length ?? 32).toString('base64url'))
    case 'password':
      return new SecretValue(password(spec))
    default:
      throw new SecretsError('USAGE', `Unknown generator ${JSON.stringify((spec as {type: unknown}).type)}.`)
  }
}

function password(spec: GeneratorSpec): string {
  const length = spec.length ?? 32
  const pick = (set: string) => set[randomInt(set.length)]
  if (spec.charset !== undefined) return Array.from({length}, () => pick(spec.charset!)).join('')
  const classes = spec.classes ?? ['lower', 'upper', 'digit']
  const sets = classes.map((c) => (c === 'symbol' ? (spec.symbols ?? CLASSES.symbol) : CLASSES[c]))
  if (sets.length > length)
    throw new SecretsError(
      'USAGE',
      `A ${length}-character password cannot hold one character of each of ${classes.length} classes.`,
    )
  const pool = [...new Set(sets.join(''))].join('')
  const chars = Array.from({length}, () => pick(pool))
  // One character of each class, at distinct random positions (a partial Fisher-Yates over positions).
  const positions = Array.from({length}, (_, i) => i)
  for (const [i, set] of sets.entries()) {
    const j = i + randomInt(length - i)
    ;[positions[i], positions[j]] = [positions[j], positions[i]]
    chars[positions[i]] = pick(set)
  }
  return chars.join('')
}

/** The generator a command line asks for: `--generate TYPE [--length N]`. */
export function generatorFromFlags(type: string | undefined, length: number | undefined): GeneratorSpec | undefined {
  if (type === undefined && length === undefined) return undefined
  const t = (type ?? 'password') as GeneratorSpec['type']
  if (!GENERATOR_TYPES.includes(t)) {
    throw new SecretsError('USAGE', `--generate ${JSON.stringify(type)} is not a generator.`, {
      suggestions: [`Use one of ${GENERATOR_TYPES.join(', ')}.`],
    })
  }
  if (length !== undefined && (!Number.isInteger(length) || length < 8 || length > 4096)) {
    throw new SecretsError('USAGE', `--length ${length} is out of range.`, {
      suggestions: ['Give a whole number from 8 to 4096 (characters for password, random bytes for hex and base64).'],
    })
  }
  if (t === 'uuid' && length !== undefined)
    throw new SecretsError('USAGE', '--length does not apply to --generate uuid.')
  return {type: t, ...(length === undefined ? {} : {length})}
}
