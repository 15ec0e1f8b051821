import {SecretsError} from '../../errors.js'

/** The line of a field, by its path of keys (`['env', 'DB_URL', 'ref']`); undefined if the file has no such node. */
export type LineOf = (path: string[]) => number | undefined

/** A mapping, as YAML gives it (not null, not a list). */
export function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x)
}

/**
 * What every check of `secrets.yaml` reports through: a CONFIG_INVALID naming the file, line and field.
 * Line numbers cost a full YAML parse, so `lineOf` is called only for a message or when a caller reads
 * an entry's `line`.
 */
export class Validator {
  constructor(
    protected readonly lineOf: LineOf,
    protected readonly file: string,
  ) {}

  /** `line` as a lazy property: computed (loading `yaml`) only if someone reads it. */
  withLine<T extends object>(entry: T, path: string[]): T & {line?: number} {
    let line: number | undefined
    let known = false
    return Object.defineProperty(entry, 'line', {
      enumerable: true,
      get: () => {
        if (!known) {
          line = this.lineOf(path)
          known = true
        }
        return line
      },
    }) as T & {line?: number}
  }

  fail(path: string[], message: string): never {
    const line = this.lineOf(path)
    const where = `${this.file}${line === undefined ? '' : `:${line}`}`
    const field = path.length > 0 ? `\`${path.join('.')}\` ` : ''
    throw new SecretsError('CONFIG_INVALID', `${where}: ${field}${message}.`, {
      suggestions: [
        `Edit ${this.file}${line === undefined ? '' : ` at line ${line}`}; the README documents every field.`,
      ],
    })
  }

  onlyKeys(path: string[], obj: Record<string, unknown>, allowed: readonly string[]): void {
    for (const key of Object.keys(obj)) {
      if (!allowed.includes(key))
        this.fail([...path, key], `is not a known field here (expected ${allowed.join(', ')})`)
    }
  }
}
