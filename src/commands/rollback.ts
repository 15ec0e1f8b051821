import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../cli/base-command.js'
import {describeName, isMapping, lookupName} from '../core/names.js'
import {yesFlag} from '../cli/flags.js'
import {rollback} from '../core/rotation/rollback.js'

export default class Rollback extends BaseCommand<typeof Rollback> {
  static override summary = 'Make an earlier version of a secret current again.'
  static override description =
    'Default: the version before the current one. Local store: moves its current mark; AWS: moves AWSCURRENT (AWSPREVIOUS keeps the version you leave); Vault KV v2 and Azure: write the earlier value as a new version (check-and-set on Vault). Fails with CONFLICT if the secret changes meanwhile. Asks for confirmation on a terminal; without one, --yes is required. A NAME that secrets.yaml maps to a reference rolls back the secret at that reference.'
  static override examples = [
    '<%= config.bin %> rollback DB_PASSWORD',
    '<%= config.bin %> rollback aws://prod/db --to 5b1c2d3e-...',
    '<%= config.bin %> rollback vault://secret/app/db --to 3 --yes',
  ]

  static override args = {
    ref: Args.string({
      ignoreStdin: true,
      description: 'A NAME (variable, else local secret) or a reference (the whole secret, no #field).',
      required: true,
    }),
  }

  static override flags = {
    to: Flags.string({description: 'The version to make current (see `secrets versions`).'}),
    yes: yesFlag(),
  }

  async run(): Promise<{ref: string; from: string; to: string; version: string}> {
    const session = this.session()
    const named = await lookupName(session, this.args.ref)
    await this.confirmOrRefuse({
      yes: this.flags.yes,
      question: `Roll ${describeName(named)} back${this.flags.to ? ` to version ${this.flags.to}` : ' to its previous version'}?`,
      declined: `Did not roll back ${describeName(named)}.`,
      withoutTerminal: {refuse: `roll ${describeName(named)} back`},
    })
    const r = await rollback(session, named, this.flags.to)
    this.success(
      `${isMapping(named) ? `${named.variable} -> ${r.ref}` : r.ref}: version ${r.to} is current again${r.version === r.to ? '' : ` (as new version ${r.version})`}; it was ${r.from}`,
    )
    return r
  }
}
