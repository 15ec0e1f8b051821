import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../cli/base-command.js'
import {plural} from '../cli/output.js'
import {initProject, type InitResult} from '../core/setup/init.js'

export default class Init extends BaseCommand<typeof Init> {
  static override summary = 'Create secrets.yaml, the encrypted local store and (if missing) your identity.'
  static override description = `Creates, in the current directory, whatever is missing of: your age identity (in $XDG_CONFIG_HOME/secrets/identity.txt, mode 0600, unless SECRETS_AGE_KEY or SECRETS_IDENTITY is set), the encrypted store (.secrets/store.json, safe to commit) and secrets.yaml. Existing files are checked, never overwritten. Asks questions on a terminal; with --yes or without a terminal it takes the defaults.`

  static override examples = [
    '<%= config.bin %> init',
    '<%= config.bin %> init --yes',
    'SECRETS_NEW_PASSPHRASE=... <%= config.bin %> init --yes --passphrase',
  ]

  static override flags = {
    yes: Flags.boolean({char: 'y', description: 'Take every default without asking.'}),
    'store-path': Flags.string({
      description: 'Where to create the store, relative to secrets.yaml (default .secrets/store.json).',
    }),
    passphrase: Flags.boolean({
      description:
        'Also let a passphrase open the new store (SECRETS_NEW_PASSPHRASE, or typed twice on a terminal; refused below zxcvbn score 4 of 4).',
      allowNo: true,
    }),
  }

  async run(): Promise<InitResult> {
    const result = await initProject({
      cwd: process.cwd(),
      env: process.env,
      ui: this.ui,
      yes: this.flags.yes,
      configFlag: this.flags.config,
      storePath: this.flags['store-path'],
      passphrase: this.flags.passphrase,
    })
    const c = this.chalk
    const mark = (created: boolean) => (created ? c.green('created') : c.dim('kept   '))
    this.log(`${mark(result.identity.created)}  identity  ${result.identity.source}`)
    this.log(
      `${mark(result.store.created)}  store     ${result.store.path} (${plural(result.store.recipients, 'recipient')})`,
    )
    this.log(`${mark(result.config.created)}  config    ${result.config.path}`)
    this.log(`\nYour public key: ${result.identity.recipient}`)
    this.log(`Next: printf %s "$VALUE" | ${this.config.bin} set NAME   then   ${this.config.bin} exec -- your-command`)
    return result
  }
}
