import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../cli/base-command.js'
import {SecretsError} from '../errors.js'

export default class Purge extends BaseCommand<typeof Purge> {
  static override summary = 'Permanently erase a soft-deleted secret (no recovery afterwards).'
  static override description =
    'For providers that keep deleted secrets recoverable (Azure Key Vault soft delete): ends the recovery window at once, so the name can be reused. Asks for confirmation on a terminal; without one, --yes is required. `secrets restore` recovers instead.'
  static override examples = [
    '<%= config.bin %> purge azure://old-api-key',
    '<%= config.bin %> purge azure://old-api-key --yes',
  ]

  static override args = {
    ref: Args.string({ignoreStdin: true, description: 'Reference of the deleted secret.', required: true}),
  }

  static override flags = {
    yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation.'}),
  }

  async run(): Promise<{ref: string; purged: boolean}> {
    const r = await this.session().purge(this.args.ref, async (ref) => {
      if (this.flags.yes) return
      if (!this.ui.interactive) {
        throw new SecretsError(
          'USAGE',
          `Refusing to purge ${ref.raw} without confirmation: there is no terminal to ask on (or CI is set).`,
          {suggestions: ['Pass --yes to confirm; a purged secret cannot be recovered.']},
        )
      }
      if (
        !(await this.ui.confirm(
          `Purge ${ref.raw} and all its versions for good? It cannot be recovered afterwards.`,
          false,
        ))
      ) {
        throw new SecretsError('ABORTED', `Did not purge ${ref.raw}.`)
      }
    })
    this.logToStderr(`${this.chalk.green('✓')} purged ${r.ref.raw}`)
    return {ref: r.ref.raw, purged: true}
  }
}
