import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../cli/base-command.js'
import {describeName, isMapping, lookupName, mappingOrigin, shadowedLocal, withNamed} from '../core/names.js'

export default class Delete extends BaseCommand<typeof Delete> {
  static override summary = 'Delete a secret and its version history.'
  static override description =
    'Asks for confirmation on a terminal; without one, --yes is required. A provider with a recovery window (AWS Secrets Manager, Azure Key Vault soft delete) schedules the deletion, and `secrets restore` undoes it; --force deletes at once (Azure: deletes, then purges). A NAME that secrets.yaml maps to a reference deletes the secret at that reference (the question names it); secrets.yaml itself is never edited.'
  static override examples = [
    '<%= config.bin %> delete OLD_TOKEN',
    '<%= config.bin %> delete local://OLD_TOKEN --yes',
    '<%= config.bin %> delete aws://old/api-key --force',
  ]

  static override args = {
    ref: Args.string({
      ignoreStdin: true,
      description: 'A NAME (variable, else local secret) or a reference to delete.',
      required: true,
    }),
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
    const named = await lookupName(session, this.args.ref)
    const {ref} = named
    const hidden = await shadowedLocal(session, named)
    if (hidden !== undefined)
      this.ui.warn(
        `${named.input} is mapped to ${ref.raw} (${mappingOrigin(named, session.config.file)}), so this deletes that; the local secret ${hidden.raw} of the same name is kept.`,
      )
    await this.confirmOrRefuse({
      yes: this.flags.yes,
      question: this.flags.force
        ? `Delete ${describeName(named)} and all its versions now, with no recovery window?`
        : `Delete ${describeName(named)} and all its versions?`,
      declined: `Did not delete ${ref.raw}.`,
      withoutTerminal: {refuse: `delete ${describeName(named)}`, suggestion: 'Pass --yes to confirm.'},
    })
    const r = await withNamed(session, named, () => session.delete(ref.raw, {force: this.flags.force}))
    this.success(
      r.recoverableUntil === undefined
        ? `deleted ${describeName(named)} (${r.versions} version(s))`
        : `scheduled ${describeName(named)} for deletion (${r.versions} version(s)); recoverable until ${r.recoverableUntil}`,
    )
    if (isMapping(named))
      this.ui.warn(
        `${named.variable} is still mapped to ${ref.raw} (${mappingOrigin(named, session.config.file)}); secrets.yaml was not changed.`,
      )
    return {
      ref: r.ref.raw,
      deleted: true,
      versions: r.versions,
      ...(r.recoverableUntil === undefined ? {} : {recoverableUntil: r.recoverableUntil}),
    }
  }
}
