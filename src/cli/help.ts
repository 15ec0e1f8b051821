import type {Command} from '@oclif/core/command'
import {Help} from '@oclif/core/help'

import {EXIT_CODE_TABLE} from '../errors.js'

/** The exit-code table, as printed at the end of every `--help`. */
export function exitCodesSection(): string {
  const rows = EXIT_CODE_TABLE.map(
    (r) => `  ${String(r.exit).padStart(5)}  ${r.codes ? `${r.codes}: ` : ''}${r.meaning}`,
  )
  return `EXIT CODES\n${rows.join('\n')}`
}

/** oclif's help, with the one exit-code table appended to the root help and every command's help. */
export default class SecretsHelp extends Help {
  protected override async showRootHelp(): Promise<void> {
    await super.showRootHelp()
    this.log(`\n${exitCodesSection()}`)
  }

  protected override formatCommand(command: Command.Loadable): string {
    return `${super.formatCommand(command).trimEnd()}\n\n${exitCodesSection()}`
  }
}
