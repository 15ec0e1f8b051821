import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../cli/base-command.js'

export default class Delete extends BaseCommand<typeof Delete> {
  static override summary = 'Delete a secret and its version history.'
  static override description =
    'Asks for confirmation on a terminal; without one, --yes is required. A provider with a recovery window (AWS Secrets Manager, Azure Key Vault soft delete) schedules the deletion, and `secrets restore` undoes it; --force deletes at once (Azure: deletes, then purges).'
  static override examples = [
    '<%= config.bin %> delete OLD_TOKEN',
    '<%= config.bin %> delete local://OLD_TOKEN --yes',
    '<%= config.bin %> delete aws://old/api-key --force',
  ]

  static override args = {
    ref: Args.string({ignoreStdin: true, description: 'Local name or reference to delete.', required: true}),
  }

  static override flags = {
    yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation.'}),
    force: Flags.boolean({
      description:
        "Skip the provider's recovery window (AWS Secrets Manager; Azure Key Vault purges): the secret cannot be restored.",
    }),
  }

  async run(): Promise<{ref: string; deleted: boolean; versions: number; recoverableUntil?: string}> {
    const session = this.session()
    const ref = session.toReference(this.args.ref)
    await this.confirmOrRefuse({
      yes: this.flags.yes,
      question: this.flags.force
        ? `Delete ${ref.raw} and all its versions now, with no recovery window?`
        : `Delete ${ref.raw} and all its versions?`,
      declined: `Did not delete ${ref.raw}.`,
      withoutTerminal: {refuse: `delete ${ref.raw}`, suggestion: 'Pass --yes to confirm.'},
    })
    const r = await session.delete(ref.raw, {force: this.flags.force})
    this.success(
      r.recoverableUntil === undefined
        ? `deleted ${r.ref.raw} (${r.versions} version(s))`
        : `scheduled ${r.ref.raw} for deletion (${r.versions} version(s)); recoverable until ${r.recoverableUntil}`,
    )
    return {
      ref: r.ref.raw,
      deleted: true,
      versions: r.versions,
      ...(r.recoverableUntil === undefined ? {} : {recoverableUntil: r.recoverableUntil}),
    }
  }
}
