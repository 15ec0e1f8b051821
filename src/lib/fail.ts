import {errorReport} from '../cli/error-text.js'
import {makeChalk} from '../cli/style.js'
import {SecretsError} from '../errors.js'

/**
 * What the register entries do when the environment cannot be resolved: print the report exec prints
 * (errorReport: a bug also says so, its stack only under DEBUG) and exit with the error's code, before
 * any of the program runs.
 */
export function failAndExit(error: unknown): never {
  const e =
    error instanceof SecretsError
      ? error
      : new SecretsError('INTERNAL', `Unexpected error: ${error instanceof Error ? error.message : String(error)}`)
  process.stderr.write(errorReport(e, error, makeChalk(process.stderr)))
  process.exit(e.exitCode)
}
