import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../../cli/base-command.js'
import type {RecipientInfo} from '../../core/store/format.js'
import {Keyring} from '../../core/store/keyring.js'
import {listRecipients} from '../../core/store/recipients.js'
import {localStoreFile, pickLocalProvider} from '../../core/store/store-location.js'
import {table} from '../../cli/style.js'

export default class KeyList extends BaseCommand<typeof KeyList> {
  static override summary = 'List who can decrypt the local store (age public keys and passphrases).'
  static override examples = ['<%= config.bin %> key list', '<%= config.bin %> key list --store team --json']

  static override flags = {
    store: Flags.string({description: 'Alias of the local provider (default: `local`, else the first local one).'}),
  }

  async run(): Promise<{store: string; recipients: RecipientInfo[]}> {
    const project = this.session().config
    const file = localStoreFile(project, pickLocalProvider(project, this.flags.store))
    const recipients = await listRecipients(file, new Keyring(process.env, this.ui))
    this.log(
      table(
        ['TYPE', 'RECIPIENT', 'LABEL', 'ADDED'],
        recipients.map((r) => [r.type, r.recipient ?? r.id ?? '-', r.label ?? '', r.added]),
      ),
    )
    return {store: file, recipients}
  }
}
