import {scrub} from '../core/redact.js'
import type {SecretsError} from '../errors.js'
import {terminalSafe} from './output.js'
import type {makeChalk} from './style.js'

/**
 * A SecretsError as the CLI prints it: `Error [CODE]: message`, then one `→` line per suggestion. Its own
 * module, so the library's register prints exec's error without loading oclif's error classes.
 */
export function errorText(error: SecretsError, chalk: ReturnType<typeof makeChalk>): string {
  let text = `${chalk.red(`Error [${error.code}]:`)} ${terminalSafe(scrub(error.message))}\n`
  for (const s of error.suggestions) text += `  ${chalk.dim('→')} ${terminalSafe(scrub(s))}\n`
  return text
}

/**
 * The whole human report of an error on stderr, for a command and for the library's register alike:
 * `Cancelled.` for a cancel; otherwise errorText, and for a bug (INTERNAL) the stack of `original` under
 * DEBUG, or else where to find it.
 */
export function errorReport(error: SecretsError, original: unknown, chalk: ReturnType<typeof makeChalk>): string {
  if (error.code === 'CANCELLED') return 'Cancelled.\n'
  let text = errorText(error, chalk)
  if (error.code === 'INTERNAL') {
    const stack = original instanceof Error ? original.stack : undefined
    text += process.env.DEBUG
      ? `${terminalSafe(scrub(String(stack ?? original)))}\n`
      : `  ${chalk.dim('→')} This is a bug in secrets. Run again with DEBUG=1 for the stack trace and report it.\n`
  }
  return text
}
