import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../../cli/base-command.js'
import {rekeyStore, type RekeyResult} from '../../core/store/rekey.js'
import {localStoreFile, pickLocalProvider} from '../../core/store/store-location.js'
import {outcomeOf} from '../../core/audit/read-events.js'
import {Keyring} from '../../core/store/keyring.js'
import {checkpoint} from '../../core/test-hooks.js'
import {SecretsError} from '../../errors.js'
import {rekeyStatus} from '../../cli/progress.js'
import {keyServiceSchemes} from '../../providers/registry.js'

export default class KeyRotate extends BaseCommand<typeof KeyRotate> {
  static override summary = "Replace the local store's data key and re-encrypt every value under it."
  static override description = `A new random data key is wrapped for every recipient (age keys, passphrases, ${keyServiceSchemes()}), every version of every secret is re-encrypted under it, and the store is replaced in one atomic rename: killed at any moment, the store still opens with every recipient's key. A passphrase recipient needs its passphrase to be wrapped again: SECRETS_PASSPHRASE, or a prompt on a terminal. Asks for confirmation on a terminal; --yes otherwise.`
  static override examples = [
    '<%= config.bin %> key rotate',
    '<%= config.bin %> key rotate --yes --json',
    'SECRETS_PASSPHRASE=... <%= config.bin %> key rotate --yes --store team',
  ]

  static override flags = {
    yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation.'}),
    store: Flags.string({description: 'Alias of the local provider (default: `local`, else the first local one).'}),
  }

  async run(): Promise<RekeyResult> {
    const project = this.session().config
    const provider = pickLocalProvider(project, this.flags.store)
    const file = localStoreFile(project, provider)
    await this.confirmOrRefuse({
      yes: this.flags.yes,
      question: `Rotate the data key of ${file} and re-encrypt every value?`,
      declined: 'Nothing was changed.',
      withoutTerminal: {refuse: 'rotate the data key', suggestion: 'Pass --yes to confirm.'},
    })
    const status = rekeyStatus(this.jsonEnabled())
    let result: RekeyResult
    try {
      result = await rekeyStore(file, new Keyring(process.env, this.ui), this.ui, {
        onProgress: status.onProgress,
      }).finally(status.done)
    } catch (error) {
      await this.session()
        .audit([
          {
            command: 'key rotate',
            action: 'rekey',
            provider: provider.alias,
            ref: file,
            outcome: outcomeOf(error),
            code: error instanceof SecretsError ? error.code : 'INTERNAL',
          },
        ])
        .catch(() => undefined)
      throw error
    }
    checkpoint('unlocked')
    await this.session().audit([
      {command: 'key rotate', action: 'rekey', provider: provider.alias, ref: file, outcome: 'ok'},
    ])
    checkpoint('audited')
    this.success(
      `rotated the data key of ${file}: wrapped for ${result.recipients.length} recipient(s), ${result.versions} version(s) of ${result.secrets} secret(s) re-encrypted`,
    )
    return result
  }
}
