import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../base-command.js'
import {SecretsError} from '../errors.js'

export default class Delete extends BaseCommand<typeof Delete> {
  static override summary = 'Delete a secret and its version history.'
  static override description = 'Asks for confirmation on a terminal; without one, --yes is required.'
  static override examples = ['<%= config.bin %> delete OLD_TOKEN', '<%= config.bin %> delete local://OLD_TOKEN --yes']

  static override args = {
    ref: Args.string({ignoreStdin: true, description: 'Local name or reference to delete.', required: true}),
  }

  static override flags = {
    yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation.'}),
  }

  async run(): Promise<{ref: string; deleted: boolean; versions: number}> {
    const session = this.session()
    const ref = session.toReference(this.args.ref)
    if (!this.flags.yes) {
      if (!this.ui.interactive) {
        throw new SecretsError('USAGE', `Refusing to delete ${ref.raw} without confirmation: there is no terminal to ask on (or CI is set).`, {suggestions: ['Pass --yes to confirm.']})
      }
      if (!(await this.ui.confirm(`Delete ${ref.raw} and all its versions?`, false))) {
        throw new SecretsError('ABORTED', `Did not delete ${ref.raw}.`)
      }
    }
    const r = await session.delete(ref.raw)
    this.logToStderr(`${this.chalk.green('✓')} deleted ${r.ref.raw} (${r.versions} version(s))`)
    return {ref: r.ref.raw, deleted: true, versions: r.versions}
  }
}
