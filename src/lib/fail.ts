import {errorText} from '../cli/error-text.js'
import {makeChalk} from '../cli/style.js'
import {scrub} from '../core/redact.js'
import {SecretsError} from '../errors.js'

/**
 * What the register entries do when the environment cannot be resolved: print exec's one-paragraph
 * error (a bug also says so; its stack only under DEBUG) and exit with the error's code, before any of
 * the program runs.
 */
export function failAndExit(error: unknown): never {
  const e =
    error instanceof SecretsError
      ? error
      : new SecretsError('INTERNAL', `Unexpected error: ${error instanceof Error ? error.message : String(error)}`)
  const chalk = makeChalk(process.stderr)
  let text = errorText(e, chalk)
  if (e.code === 'INTERNAL') {
    const stack = error instanceof Error ? error.stack : undefined
    text += process.env.DEBUG
      ? `${scrub(String(stack ?? error))}\n`
      : `  ${chalk.dim('→')} This is a bug in secrets. Run again with DEBUG=1 for the stack trace and report it.\n`
  }
  process.stderr.write(text)
  process.exit(e.exitCode)
}
