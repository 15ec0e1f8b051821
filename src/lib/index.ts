// The package's library entry (`import {load, config} from 'secrets-cli'`): exec's resolution, in the
// calling program's own process. Its public types are src/lib/api.d.ts.
import {basename} from 'node:path'

import {childEnvironment} from '../core/exec/child-env.js'
import {firstResolution} from '../core/exec/resolve.js'
import {nonInteractive, type Interaction} from '../core/interaction.js'
import {parseDuration} from '../core/lib/time.js'
import {scrub} from '../core/redact.js'
import {Session} from '../core/session.js'
import {chooseFallback} from '../core/sync/fallback-choice.js'
import {SecretsError} from '../errors.js'
import type {LoadOptions} from './api.js'
import {assignToProcess, warnOnStderr} from './assign.js'

export {EXIT_CODES, SecretsError} from '../errors.js'
export type {ErrorCode, LoadOptions, SecretsErrorOptions} from './api.js'

/** The option names and the type each must have, checked before anything is read. */
const OPTION_TYPES: Record<keyof LoadOptions, 'string' | 'boolean' | 'string[]' | 'function'> = {
  cwd: 'string',
  env: 'string',
  config: 'string',
  only: 'string[]',
  allowMissing: 'boolean',
  fallback: 'boolean',
  maxAge: 'string',
  offline: 'boolean',
  program: 'string',
  onWarning: 'function',
}

function optionError(what: string, fix: string): SecretsError {
  return new SecretsError('USAGE', what, {suggestions: [fix, 'See docs/library.md for the options.']})
}

/** Bad options are USAGE errors naming the option (never INTERNAL), found before any secret is read. */
function checkOptions(options: unknown): LoadOptions {
  if (options === undefined) return {}
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw optionError('The options of load()/config() must be an object.', 'Call load() or load({env: "staging"}).')
  const known = Object.keys(OPTION_TYPES)
  for (const [key, value] of Object.entries(options)) {
    const type = OPTION_TYPES[key as keyof LoadOptions]
    if (type === undefined)
      throw optionError(`load()/config() has no option ${JSON.stringify(key)}.`, `Known options: ${known.join(', ')}.`)
    if (value === undefined) continue
    const ok =
      type === 'string[]'
        ? Array.isArray(value) && value.every((v) => typeof v === 'string')
        : typeof value === type && (type !== 'string' || value !== '')
    if (!ok)
      throw optionError(
        `The option ${key} of load()/config() must be ${type === 'string[]' ? 'an array of strings' : `a${type === 'string' ? ' non-empty' : ''} ${type}`}.`,
        `Pass ${key} as ${type === 'string[]' ? "['NAME', ...]" : `a ${type}`}, or leave it out.`,
      )
  }
  return options as LoadOptions
}

function maxAgeMs(text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  const ms = parseDuration(text)
  if (ms === undefined || ms <= 0)
    throw optionError(
      `The option maxAge ${JSON.stringify(text)} is not a duration.`,
      "Write it as a number with a unit: maxAge: '90s', '30m', '24h' or '7d'.",
    )
  return ms
}

/** The library's Interaction: never prompts (the program owns its terminal), warnings as exec prints them. */
function libraryInteraction(onWarning: LoadOptions['onWarning']): Interaction {
  return {...nonInteractive(), warn: onWarning ?? warnOnStderr}
}

/** The program the access log names: the script Node runs (`app.js`), else Node itself. */
function hostProgram(): string {
  const script = process.argv[1]
  return basename(script === undefined || script === '' ? process.execPath : script)
}

/** Anything unexpected still reaches the caller as a SecretsError (INTERNAL), its message scrubbed of values. */
function asSecretsError(error: unknown): SecretsError {
  if (error instanceof SecretsError) return error
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
  return new SecretsError('INTERNAL', `Unexpected error in secrets-cli: ${scrub(message)}`, {
    cause: error,
    suggestions: ['This is a bug in secrets-cli; please report it with the steps that led to it.'],
  })
}

/**
 * exec's resolution for this process: the same session (command `library`, the program as its child),
 * the same fail-closed first resolution with its held read records, the same offline cache choice.
 * `files:` entries are left out with a warning: they need a private directory that outlives no program.
 */
async function resolveForProgram(options: LoadOptions, ui: Interaction): Promise<Record<string, string>> {
  const env = process.env
  const session = new Session({
    cwd: options.cwd ?? process.cwd(),
    env,
    ui,
    command: 'library',
    configFlag: options.config ?? (env.SECRETS_CONFIG || undefined),
    environment: options.env ?? (env.SECRETS_ENV || undefined),
  })
  session.child = options.program ?? hostProgram()
  try {
    const fallback = {fallback: options.fallback, maxAgeMs: maxAgeMs(options.maxAge), offline: options.offline}
    chooseFallback(session, fallback)
    const skipped = [...session.files(session.environment).keys()]
    if (skipped.length > 0)
      ui.warn(
        `${skipped.join(', ')} ${skipped.length === 1 ? 'is' : 'are'} declared under files: in ${session.config.file}, which load() does not write (a secret file needs a private directory removed when the program ends); run the program under \`secrets exec\` for ${skipped.length === 1 ? 'it' : 'them'}.`,
      )
    const o = {environment: session.environment, only: options.only, allowMissing: options.allowMissing, ui}
    const {snapshot} = await firstResolution(session, {...o, files: false}, async () => undefined)
    let values: Record<string, string>
    try {
      values = childEnvironment({}, snapshot.resolved).env
    } catch (error) {
      // A value that cannot be a variable: the program gets none of them, as with exec.
      await session.releaseReads(error)
      throw error
    }
    await session.releaseReads()
    if (session.leases.size > 0) {
      // Dynamic credentials are handed to the program, as `get` and `export` hand them out: kept, recorded.
      await (await import('../core/lease/manage.js')).keepSessionLeases(session, (m) => ui.warn(m))
    }
    // A plain object (a secret may be called `__proto__`: fromEntries defines it as an own key).
    return Object.fromEntries(Object.entries(values))
  } finally {
    await session.close().catch(() => undefined)
  }
}

/** Resolve the environment as `secrets exec` does (fail closed) and return it as {NAME: value}. */
export async function load(options?: LoadOptions): Promise<Record<string, string>> {
  try {
    const o = checkOptions(options)
    return await resolveForProgram(o, libraryInteraction(o.onWarning))
  } catch (error) {
    throw asSecretsError(error)
  }
}

/** load(), then assign each variable to process.env (a secret wins over a variable already set, with a warning). */
export async function config(options?: LoadOptions): Promise<Record<string, string>> {
  const values = await load(options)
  assignToProcess(values, options?.onWarning ?? warnOnStderr)
  return values
}
