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
