import * as Errors from '@oclif/core/errors'
import * as Flags from '@oclif/core/flags'
import type * as Interfaces from '@oclif/core/interfaces'
import {Command} from '@oclif/core/command'

import type {Interaction} from '../core/interaction.js'
import {Session} from '../core/session.js'
import {chooseFallback} from '../core/sync/fallback-choice.js'
import {EXIT_CODES, SecretsError} from '../errors.js'
import {confirmOrRefuse, type ConfirmPolicy} from './confirm.js'
import {successLine} from './output.js'
import {makeChalk} from './style.js'
import {renderError, spaced} from './render-error.js'
import {cancelled, terminalInteraction} from './ui.js'

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<
  (typeof BaseCommand)['baseFlags'] & T['flags']
>
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

/**
 * Shared flags (--config, --env, --json) and the one error renderer. Commands parse, make one call into
 * core, format, and return a typed result that `--json` prints.
 */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true

  static override baseFlags = {
    config: Flags.string({
      description: 'Path to secrets.yaml (default: found by walking up from the current directory).',
      env: 'SECRETS_CONFIG',
      helpGroup: 'GLOBAL',
    }),
    env: Flags.string({
      description: 'Named environment from `environments:` in secrets.yaml.',
      env: 'SECRETS_ENV',
      helpGroup: 'GLOBAL',
    }),
  }

  protected flags!: BaseFlags<T>
  protected args!: BaseArgs<T>
  private sessionInstance?: Session
  private uiInstance?: Interaction

  protected get ui(): Interaction {
    this.uiInstance ??= terminalInteraction({quiet: this.jsonEnabled()})
    return this.uiInstance
  }

  /** The session for this command (config is loaded lazily, on first use). */
  protected session(): Session {
    this.sessionInstance ??= new Session({
      cwd: process.cwd(),
      env: process.env,
      ui: this.ui,
      // `run` is exec's alias: one command, one name in the access log and the lease rules.
      command: this.id === 'run' ? 'exec' : (this.id ?? 'unknown'),
      configFlag: this.flags?.config,
      environment: this.flags?.env,
    })
    return this.sessionInstance
  }

  protected get chalk() {
    return makeChalk(process.stdout)
  }

  /** The closing line of a command that did what it was asked (`✓ ...`), on stderr unless told; quiet with --json. */
  protected success(message: string, stream: 'stderr' | 'stdout' = 'stderr'): void {
    const line = successLine(message, this.chalk)
    if (stream === 'stdout') this.log(line)
    else this.logToStderr(line)
  }

  /** Ask before a change on a terminal; without one, refuse or go ahead as the command's policy says. */
  protected confirmOrRefuse(policy: ConfirmPolicy): Promise<void> {
    return confirmOrRefuse(this.ui, policy)
  }

  override async init(): Promise<void> {
    await super.init()
    const ctor = this.ctor as typeof BaseCommand
    const {args, flags} = await this.parse({
      args: ctor.args,
      baseFlags: ctor.baseFlags,
      enableJsonFlag: ctor.enableJsonFlag,
      flags: ctor.flags,
      strict: ctor.strict,
    })
    this.flags = flags as BaseFlags<T>
    this.args = args as BaseArgs<T>
    this.cancelOnInterrupt()
  }

  /**
   * Ctrl-C outside a prompt (waiting for a lock, a long operation) ends the command as CANCELLED, exit 130.
   * Every file with key material is written to a temporary file and renamed, and a lock whose owner is
   * gone is taken over, so exiting here leaves nothing half-written. `exec` forwards signals to its
   * child instead, and a prompt turns Ctrl-C into its own rejection (raw mode: no SIGINT is sent).
   */
  private cancelOnInterrupt(): void {
    if (this.id === 'exec' || this.id === 'run') return
    process.once('SIGINT', () => {
      if (this.jsonEnabled()) this.logJson({error: cancelled().toJSON()})
      else process.stderr.write('\nCancelled.\n')
      process.exit(EXIT_CODES.CANCELLED) // a signal handler has no caller to return to
    })
  }

  override async finally(err: Error | undefined): Promise<void> {
    // Dynamic credentials: exec revokes its own; a command that handed one out keeps it, recorded.
    const session = this.sessionInstance
    if (session !== undefined && session.leases.size > 0 && session.command !== 'exec') {
      const manage = await import('../core/lease/manage.js')
      const warn = (m: string) => this.ui.warn(m)
      const handedOut = err === undefined && ['get', 'export', 'render'].includes(session.command)
      await (handedOut ? manage.keepSessionLeases(session, warn) : manage.revokeSessionLeases(session, warn)).catch(
        (error: unknown) => this.ui.warn(`Could not record or revoke the leases of this command: ${String(error)}`),
      )
    }
    await this.sessionInstance?.close().catch(() => undefined)
    return super.finally(err)
  }

  override logJson(json: unknown): void {
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`)
  }

  /** Render any error: SecretsErrors as message + suggestions; parse errors as USAGE; the rest as a bug. */
  override async catch(err: Error & {exitCode?: number}): Promise<void> {
    if (err instanceof Errors.ExitError) throw err
    const {closest} = await import('../core/suggest.js')
    renderError(unknownFlag(err, this.ctor as typeof BaseCommand, this.id, closest) ?? err, {
      json: this.jsonEnabled(),
      commandId: this.id,
    })
  }
}

/** oclif's "Nonexistent flag" error, as USAGE naming the closest flag the command has. */
function unknownFlag(
  err: Error,
  ctor: typeof BaseCommand,
  id: string | undefined,
  closest: (word: string, candidates: readonly string[]) => string | undefined,
): SecretsError | undefined {
  const typed = (err as {flags?: unknown}).flags
  if (!(err instanceof Errors.CLIError) || !Array.isArray(typed) || !/^Nonexistent flag/.test(err.message)) return
  const defined = Object.entries({...ctor.baseFlags, ...ctor.flags})
  const names = [
    ...(ctor.enableJsonFlag ? ['--json'] : []),
    ...defined.flatMap(([name, f]) => [
      `--${name}`,
      ...((f as {allowNo?: boolean}).allowNo ? [`--no-${name}`] : []),
      ...(f.char ? [`-${f.char}`] : []),
    ]),
  ]
  const unknown = typed.map((f) => String(f).replace(/=.*$/s, ''))
  const help = `See \`secrets ${id ? spaced(id) : '<command>'} --help\` for the flags.`
  const hints = unknown.flatMap((f) => {
    const near = closest(f, names)
    return near ? [`Did you mean ${near}?`] : []
  })
  const what = unknown.length === 1 ? `Unknown flag ${unknown[0]}` : `Unknown flags ${unknown.join(', ')}`
  return new SecretsError('USAGE', `${what}${id ? ` for \`secrets ${spaced(id)}\`` : ''}.`, {
    cause: err,
    suggestions: [...hints, help],
  })
}

/** The offline flags as the session's fallback settings (see chooseFallback). */
export function useFallback(
  session: Session,
  flags: {fallback?: boolean; 'max-age'?: number; offline?: boolean},
): void {
  chooseFallback(session, {fallback: flags.fallback, maxAgeMs: flags['max-age'], offline: flags.offline})
}
