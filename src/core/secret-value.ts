/** The marker printed wherever a SecretValue is turned into text by accident. */
export const REDACTED = '<redacted>'

import {registerSecretText} from './redact.js'

const inspectSymbol = Symbol.for('nodejs.util.inspect.custom')

/**
 * A secret's bytes. `toString`, `toJSON` and `util.inspect` print a redaction marker, so a value that
 * reaches a log line, an error message or JSON output by accident reveals nothing. Code that really
 * means to use the value calls `reveal()` or `text()`.
 */
export class SecretValue {
  readonly #bytes: Buffer

  constructor(bytes: Buffer | Uint8Array | string) {
    this.#bytes = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : Buffer.from(bytes)
    registerSecretText(this.#bytes.toString('utf8'))
  }

  /** The raw bytes (a copy). */
  reveal(): Buffer {
    return Buffer.from(this.#bytes)
  }

  /** The value as UTF-8 text. */
  text(): string {
    return this.#bytes.toString('utf8')
  }

  get length(): number {
    return this.#bytes.length
  }

  /** Whether the bytes are valid UTF-8 without NUL, so the value can live in an environment variable. */
  isEnvSafe(): boolean {
    if (this.#bytes.includes(0)) return false
    return Buffer.from(this.#bytes.toString('utf8'), 'utf8').equals(this.#bytes)
  }

  equals(other: SecretValue): boolean {
    return other.#bytes.equals(this.#bytes)
  }

  toString(): string {
    return REDACTED
  }

  toJSON(): string {
    return REDACTED
  }

  [inspectSymbol](): string {
    return `SecretValue(${REDACTED})`
  }
}
