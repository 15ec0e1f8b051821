import {basename, dirname} from 'node:path'

import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../../cli/base-command.js'
import type {RecipientInfo} from '../../core/store/format.js'
import {Keyring} from '../../core/store/keyring.js'
import {newPassphrase} from '../../core/store/new-passphrase.js'
import {addRecipient} from '../../core/store/recipients.js'
import {localStoreFile, pickLocalProvider} from '../../core/store/store-location.js'
import type {AuditEvent, AuditOutcome} from '../../core/audit/record.js'
import {outcomeOf} from '../../core/audit/read-events.js'
import {SecretsError} from '../../errors.js'
import {keyServiceExamples, keyServiceForms} from '../../providers/registry.js'

export default class KeyAdd extends BaseCommand<typeof KeyAdd> {
  static override summary = 'Let another age key, a passphrase or a KMS key open the local store.'
  static override description = `Wraps the store's data key for the new recipient; no value is re-encrypted. A new passphrase comes from SECRETS_NEW_PASSPHRASE, or is typed twice on a terminal; one that zxcvbn scores below 4 of 4 is refused (USAGE), with the reason. A key-service recipient wraps it with that service: ${keyServiceForms()}. You need an identity that can already open the store.`
  static override examples = [
    '<%= config.bin %> key add age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p --label alice',
    '<%= config.bin %> key add --passphrase --label break-glass',
    '<%= config.bin %> key add awskms://arn:aws:kms:eu-west-1:111122223333:alias/secrets --label ci',
    '<%= config.bin %> key add azurekv://acme-kv/secrets-store --label ci',
  ]

  static override args = {
    recipient: Args.string({
      ignoreStdin: true,
      description: `An age public key (age1...), or a key-service key (${keyServiceExamples()}).`,
      required: false,
    }),
  }

  static override flags = {
    passphrase: Flags.boolean({
      description: 'Add a passphrase recipient instead of an age key.',
      exclusive: ['recipient'],
    }),
    label: Flags.string({description: 'A name to remember this recipient by.'}),
    store: Flags.string({description: 'Alias of the local provider (default: `local`, else the first local one).'}),
  }

  async run(): Promise<{store: string; added: RecipientInfo}> {
    const project = this.session().config
    const provider = pickLocalProvider(project, this.flags.store)
    const file = localStoreFile(project, provider)
    // Every recipient type leaves a record, made together with the change (as key remove and rotate do).
    const audited = (add: () => Promise<RecipientInfo>) =>
      this.session().recordChange(
        {events: (error) => [keyAddEvent(provider.alias, file, outcomeOf(error), error)]},
        add,
        () => [keyAddEvent(provider.alias, file, 'ok')],
      )
    const keyring = new Keyring(process.env, this.ui)
    let added: RecipientInfo
    if (this.flags.passphrase) {
      if (this.args.recipient)
        throw new SecretsError('USAGE', 'Give either an age recipient or --passphrase, not both.')
      const passphrase = await newPassphrase({
        env: process.env,
        ui: this.ui,
        unchanged: 'Nothing was changed.',
        userInputs: [basename(dirname(project.file)), this.flags.label ?? ''],
      })
      added = await this.ui.progress('Wrapping the key with the passphrase', () =>
        audited(() => addRecipient(file, keyring, {type: 'scrypt', passphrase, label: this.flags.label})),
      )
    } else {
      if (!this.args.recipient)
        throw new SecretsError(
          'USAGE',
          `Give the age public key to add (age1...), a key-service key (${keyServiceExamples()}), or --passphrase.`,
        )
      const recipient = this.args.recipient
      added = recipient.includes('://')
        ? await this.ui.progress(`Wrapping the key with ${recipient}`, () =>
            audited(() => addRecipient(file, keyring, {type: 'service', recipient, label: this.flags.label})),
          )
        : await audited(() => addRecipient(file, keyring, {type: 'age', recipient, label: this.flags.label}))
    }
    this.success(`added ${added.recipient ?? `passphrase "${added.label}"`} to ${file}`)
    return {store: file, added}
  }
}

function keyAddEvent(alias: string, file: string, outcome: AuditOutcome, error?: unknown): AuditEvent {
  return {
    command: 'key add',
    action: 'add-recipient',
    provider: alias,
    ref: file,
    outcome,
    ...(outcome === 'ok' ? {} : {code: error instanceof SecretsError ? error.code : 'INTERNAL'}),
  }
}
