import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../../cli/base-command.js'
import {Keyring} from '../../core/store/keyring.js'
import {trustStore, type TrustResult} from '../../core/store/recipients.js'
import {localStoreFile, pickLocalProvider} from '../../core/store/store-location.js'

export default class KeyTrust extends BaseCommand<typeof KeyTrust> {
  static override summary = "Accept the local store's current data key after reviewing a KEY_CHANGED refusal."
  static override description =
    'Each user remembers the data key of every store they open (a fingerprint, never the key). A store whose data key changed without a link from the remembered key (`key rotate` and `key remove` write one) is refused with KEY_CHANGED: it may be a store forged by someone who can write the file but not read it. After reviewing how the file changed, this command makes its current key the trusted one. It shows the old and new key ids and the recipients, and asks on a terminal; --yes otherwise.'
  static override examples = ['<%= config.bin %> key trust', '<%= config.bin %> key trust --store team --yes --json']

  static override flags = {
    yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation.'}),
    store: Flags.string({description: 'Alias of the local provider (default: `local`, else the first local one).'}),
  }

  async run(): Promise<TrustResult> {
    const project = this.session().config
    const file = localStoreFile(project, pickLocalProvider(project, this.flags.store))
    const result = await trustStore(file, new Keyring(process.env, this.ui), async (r) => {
      const who = r.recipients.map((x) => x.recipient ?? `${x.type} "${x.label ?? x.id}"`).join(', ')
      this.ui.warn(
        `${file}: data key ${r.previousKeyId ?? 'none'} is remembered, the store is now under ${r.keyId} (recipients: ${who}).`,
      )
      await this.confirmOrRefuse({
        yes: this.flags.yes,
        question: `Trust data key ${r.keyId} for ${file}?`,
        declined: 'Nothing was changed.',
        withoutTerminal: {refuse: 'trust a new data key', suggestion: 'Review the change, then pass --yes.'},
      })
    })
    this.success(
      result.changed
        ? `trusted data key ${result.keyId} for ${file} (was ${result.previousKeyId ?? 'none'})`
        : `${file} is already under the trusted data key ${result.keyId}`,
    )
    return result
  }
}
