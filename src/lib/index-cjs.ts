// The CommonJS entry (`require('secrets-cli')`, built as dist/lib/index.cjs): load() and config() load
// the ES module on first call and return its promises. SecretsError and EXIT_CODES are a bundled copy;
// `instanceof SecretsError` holds for the errors the ES module throws (see BRAND in src/errors.ts).
import type {LoadOptions} from './api.js'

export {EXIT_CODES, SecretsError} from '../errors.js'

/** Resolve the environment as `secrets exec` does (fail closed) and return it as {NAME: value}. */
export async function load(options?: LoadOptions): Promise<Record<string, string>> {
  return (await import('./index.js')).load(options)
}

/** load(), then assign each variable to process.env (a secret wins over a variable already set, with a warning). */
export async function config(options?: LoadOptions): Promise<Record<string, string>> {
  return (await import('./index.js')).config(options)
}
