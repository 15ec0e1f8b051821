import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../cli/base-command.js'

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
    const r = await this.session().purge(this.args.ref, (ref) =>
      this.confirmOrRefuse({
        yes: this.flags.yes,
        question: `Purge ${ref.raw} and all its versions for good? It cannot be recovered afterwards.`,
        declined: `Did not purge ${ref.raw}.`,
        withoutTerminal: {
          refuse: `purge ${ref.raw}`,
          suggestion: 'Pass --yes to confirm; a purged secret cannot be recovered.',
        },
      }),
    )
    this.success(`purged ${r.ref.raw}`)
    return {ref: r.ref.raw, purged: true}
  }
}
