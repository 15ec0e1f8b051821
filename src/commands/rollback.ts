import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../cli/base-command.js'
import {yesFlag} from '../cli/flags.js'
import {rollback} from '../core/rotation/rollback.js'

export default class Rollback extends BaseCommand<typeof Rollback> {
  static override summary = 'Make an earlier version of a secret current again.'
  static override description =
    'Default: the version before the current one. Local store: moves its current mark; AWS: moves AWSCURRENT (AWSPREVIOUS keeps the version you leave); Vault KV v2 and Azure: write the earlier value as a new version (check-and-set on Vault). Fails with CONFLICT if the secret changes meanwhile. Asks for confirmation on a terminal; without one, --yes is required.'
  static override examples = [
    '<%= config.bin %> rollback DB_PASSWORD',
    '<%= config.bin %> rollback aws://prod/db --to 5b1c2d3e-...',
    '<%= config.bin %> rollback vault://secret/app/db --to 3 --yes',
  ]

  static override args = {
    ref: Args.string({
      ignoreStdin: true,
      description: 'Local name or reference (the whole secret, no #field).',
      required: true,
    }),
  }

  static override flags = {
    to: Flags.string({description: 'The version to make current (see `secrets versions`).'}),
    yes: yesFlag(),
  }

  async run(): Promise<{ref: string; from: string; to: string; version: string}> {
    const session = this.session()
    await this.confirmOrRefuse({
      yes: this.flags.yes,
      question: `Roll ${this.args.ref} back${this.flags.to ? ` to version ${this.flags.to}` : ' to its previous version'}?`,
      declined: `Did not roll back ${this.args.ref}.`,
      withoutTerminal: {refuse: `roll ${this.args.ref} back`},
    })
    const r = await rollback(session, this.args.ref, this.flags.to)
    this.success(
      `${r.ref}: version ${r.to} is current again${r.version === r.to ? '' : ` (as new version ${r.version})`}; it was ${r.from}`,
    )
    return r
  }
}
