import * as Errors from '@oclif/core/errors'

import {scrub} from '../core/redact.js'
import {SecretsError} from '../errors.js'
import {errorReport} from './error-text.js'
import {makeChalk} from './style.js'

/** A command id as the user types it: `audit:verify` → `audit verify`. */
export function spaced(id: string): string {
  return id.replaceAll(':', ' ')
}

/** Map anything thrown to the error tree. */
export function toSecretsError(err: unknown, commandId?: string): SecretsError {
  if (err instanceof SecretsError) return err
  if (err instanceof Errors.CLIError) {
    const isParse = 'parse' in err || /flag|argument|expects|Missing|Unexpected|Nonexistent/i.test(err.message)
    if (isParse || (err as {oclif?: {exit?: number}}).oclif?.exit === 2) {
      const help = commandId ? `secrets ${spaced(commandId)} --help` : 'secrets <command> --help'
      return new SecretsError('USAGE', err.message.replace(/\n?See more help with --help\s*$/, '').trim(), {
        cause: err,
        suggestions: [`See \`${help}\` for the flags and arguments.`],
      })
    }
    return new SecretsError('INTERNAL', err.message, {cause: err})
  }
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
  return new SecretsError('INTERNAL', `Unexpected error: ${message}`, {cause: err})
}

/**
 * The one error renderer: `{"error": ...}` on stdout with --json, else `Error [CODE]: message` and the
 * suggestions on stderr; a stack only for a bug, and only under DEBUG. Sets the exit code.
 */
export function renderError(err: unknown, options: {json: boolean; commandId?: string}): SecretsError {
  const error = toSecretsError(err, options.commandId)
  process.exitCode = error.exitCode
  if (options.json) {
    const json = error.toJSON()
    process.stdout.write(`${JSON.stringify({error: {...json, message: scrub(json.message)}}, null, 2)}\n`)
    return error
  }
  process.stderr.write(errorReport(error, err, makeChalk(process.stderr)))
  return error
}

/**
 * Render an error raised outside a command (the not-found hook, help for an unknown topic) and end
 * with its exit code; oclif's handler prints nothing for an ExitError.
 */
export function renderAndExit(err: unknown, json: boolean): never {
  const error = renderError(err, {json})
  throw new Errors.ExitError(error.exitCode)
}
