import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../../cli/base-command.js'
import type {RecipientInfo} from '../../core/store/format.js'
import {Keyring} from '../../core/store/keyring.js'
import {removeRecipient} from '../../core/store/recipients.js'
import {localStoreFile, pickLocalProvider} from '../../core/store/store-location.js'
import {rekeyStatus} from '../../cli/progress.js'

export default class KeyRemove extends BaseCommand<typeof KeyRemove> {
  static override summary = "Remove a recipient and rotate the store's data key."
  static override description =
    'Every value (all versions) is re-encrypted under a new data key wrapped only for the remaining recipients, so the removed key cannot read anything written afterwards. Values it could read before should be rotated. Asks on a terminal; --yes otherwise. A remaining passphrase recipient needs SECRETS_PASSPHRASE (or a prompt).'
  static override examples = [
    '<%= config.bin %> key remove age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p --yes',
    '<%= config.bin %> key remove break-glass',
  ]

  static override args = {
    recipient: Args.string({
      ignoreStdin: true,
      description: 'The age public key, or the label of a passphrase recipient.',
      required: true,
    }),
  }

  static override flags = {
    yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation.'}),
    store: Flags.string({description: 'Alias of the local provider (default: `local`, else the first local one).'}),
  }

  async run(): Promise<{store: string; removed: RecipientInfo; remaining: RecipientInfo[]}> {
    const project = this.session().config
    const file = localStoreFile(project, pickLocalProvider(project, this.flags.store))
    await this.confirmOrRefuse({
      yes: this.flags.yes,
      question: `Remove ${this.args.recipient} from ${file} and re-encrypt everything?`,
      declined: 'Nothing was changed.',
      withoutTerminal: {refuse: 'remove a recipient', suggestion: 'Pass --yes to confirm.'},
    })
    const keyring = new Keyring(process.env, this.ui)
    const status = rekeyStatus(this.jsonEnabled())
    const result = await removeRecipient(file, keyring, this.ui, this.args.recipient, status.onProgress).finally(
      status.done,
    )
    await this.session().audit([
      {
        command: 'key remove',
        action: 'rekey',
        provider: pickLocalProvider(project, this.flags.store).alias,
        ref: file,
        outcome: 'ok',
      },
    ])
    this.success(`removed ${this.args.recipient}; data key rotated, ${result.remaining.length} recipient(s) remain`)
    return {store: file, ...result}
  }
}
