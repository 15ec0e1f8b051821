import type {Command} from '@oclif/core/command'
import * as Errors from '@oclif/core/errors'
import {CommandHelp, Help} from '@oclif/core/help'
import type * as Interfaces from '@oclif/core/interfaces'

import {EXIT_CODE_TABLE, SecretsError} from '../errors.js'
import {closest} from '../core/suggest.js'
import {renderAndExit, spaced} from './render-error.js'

/** The exit-code table, as printed at the end of the root help (and in the README). */
export function exitCodesSection(): string {
  const rows = EXIT_CODE_TABLE.map(
    (r) => `  ${String(r.exit).padStart(5)}  ${r.codes ? `${r.codes}: ` : ''}${r.meaning}`,
  )
  return `EXIT CODES\n${rows.join('\n')}`
}

/** A positional argument as USAGE shows it: `NAME`, `[NAME]`, `NAME...` when more may follow. */
function argUsage(name: string, arg: Command.Arg.Cached, variadic: boolean): string {
  const text = `${name.toUpperCase()}${variadic ? '...' : ''}`
  return arg.required ? text : `[${text}]`
}

/**
 * A command's page: USAGE is `secrets ID [FLAGS] ARGS` (oclif's docopts line lists every flag and leaves
 * `[--length <value> | ]` artifacts behind exclusive flags), and DESCRIPTION does not repeat the summary.
 */
export class SecretsCommandHelp extends CommandHelp {
  protected override defaultUsage(): string {
    const args = Object.entries(this.command.args ?? {}).filter(([, a]) => !a.hidden)
    const variadic = this.command.strict === false
    const hasFlags = Object.values(this.command.flags ?? {}).some((f) => !f.hidden)
    return [
      this.command.id,
      ...(hasFlags ? ['[FLAGS]'] : []),
      ...args.map(([name, a], i) => argUsage(name, a, variadic && i === args.length - 1)),
    ].join(' ')
  }

  protected override description(): string | undefined {
    const {summary, description} = this.command
    if (!description) return undefined
    // oclif shows the summary (or else the description's first line) at the top already.
    const body = summary ? description : description.split('\n').slice(1).join('\n').trim()
    return body ? this.wrap(body) : undefined
  }
}

/** oclif's help with our command page, the exit-code table on the root help, and our unknown-command error. */
export default class SecretsHelp extends Help {
  constructor(config: Interfaces.Config, options: Partial<Interfaces.HelpOptions> = {}) {
    // Without a terminal oclif wraps at 80 columns; COLUMNS (set by shells, or by hand) says otherwise.
    const columns = Number(process.env.COLUMNS)
    const maxWidth = options.maxWidth ?? (!process.stdout.isTTY && columns >= 40 ? columns : undefined)
    super(config, {...options, ...(maxWidth ? {maxWidth} : {})})
    this.CommandHelpClass = SecretsCommandHelp
  }

  override async showHelp(argv: string[]): Promise<void> {
    try {
      await super.showHelp(argv)
    } catch (error) {
      const subject = error instanceof Errors.CLIError && /^Command (\S+) not found\.$/.exec(error.message)?.[1]
      if (!subject) throw error
      const visible = this.config.commands.filter((c) => !c.hidden)
      const near = closest(subject, [...visible.map((c) => c.id), ...this.config.topics.map((t) => t.name)])
      renderAndExit(
        new SecretsError('USAGE', `"${spaced(subject)}" is not a ${this.config.bin} command.`, {
          suggestions: [
            ...(near ? [`Did you mean \`${this.config.bin} help ${spaced(near)}\`?`] : []),
            `Run \`${this.config.bin} help\` for the list of commands.`,
          ],
        }),
        false,
      )
    }
  }

  protected override async showRootHelp(): Promise<void> {
    await super.showRootHelp()
    this.log(exitCodesSection())
  }
}
