import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../cli/base-command.js'
import {terminalSafe} from '../cli/output.js'
import {planImport, refuseOverwrites} from '../core/import/import.js'
import {IMPORT_FORMATS, type ImportFormat} from '../core/import/parse.js'
import {
  formatTellerPlan,
  isTellerFile,
  planTellerImport,
  refuseTellerOverwrites,
  writeTellerImport,
} from '../core/import/teller-config.js'
import {SecretsError} from '../errors.js'
import {applySync, formatPlan, type SyncItem} from '../core/sync/sync.js'

export default class Import extends BaseCommand<typeof Import> {
  static override summary = 'Move secrets in from a .env, JSON or YAML file (dotenvx-encrypted files too).'
  static override description = `Reads FILE as Node's own parser (util.parseEnv) and the dotenv package read a .env (quotes, multiline values, \`export\` prefixes, comments, "=" in values), or as a flat JSON or YAML mapping of names to values (what \`doppler secrets download --format json\` writes). Values dotenvx encrypted (\`encrypted:...\`) are opened with DOTENV_PRIVATE_KEY (or DOTENV_PRIVATE_KEY_<ENV> for .env.<env>) from the environment, or the .env.keys beside the file. The format is detected from the file name and content unless --format says.

Writes each name into the default local store, or --to a provider or prefix with \`sync\`'s addressing, one audited write per secret, after showing the same diff as \`sync\` (names and references, never values). New names need no confirmation; a name that exists with another value needs --overwrite, otherwise nothing is written. --dry-run writes nothing. Names that are not variable names, names starting with SECRETS_, and binary values are refused by name; empty values are left out. The file itself is never modified.

With --format teller (detected for .teller.yml), FILE is teller's configuration: its Vault and AWS Secrets Manager providers and their key maps become \`providers:\` and \`env:\` entries in secrets.yaml, fetching no values. Credentials in its options are never copied; kinds secrets has no provider for, and maps without keys, are listed as left out with the reason. A variable secrets.yaml maps elsewhere is repointed only with --overwrite.`

  static override examples = [
    '<%= config.bin %> import .env',
    '<%= config.bin %> import .env.production --to aws://prod/ --dry-run',
    '<%= config.bin %> import secrets.json --to vault://secret/myapp --overwrite',
    '<%= config.bin %> import .teller.yml --dry-run',
  ]

  static override args = {
    file: Args.string({description: 'The file to import.', required: true}),
  }

  static override flags = {
    format: Flags.string({
      description: 'The file format (default: detected); teller: a .teller.yml to turn into secrets.yaml entries.',
      options: [...IMPORT_FORMATS, 'teller'],
    }),
    to: Flags.string({description: 'Provider alias or reference prefix to write to (as for `sync --to`).'}),
    overwrite: Flags.boolean({description: 'Write a new version of secrets that exist with another value.'}),
    'dry-run': Flags.boolean({description: 'Show the diff and write nothing.'}),
  }

  async run(): Promise<Record<string, unknown>> {
    if (this.flags.format === 'teller' || (this.flags.format === undefined && isTellerFile(this.args.file)))
      return this.teller()
    return this.values()
  }

  private async teller(): Promise<Record<string, unknown>> {
    if (this.flags.to !== undefined)
      throw new SecretsError(
        'USAGE',
        '--to has no meaning with a teller file: its references point where teller reads.',
        {
          suggestions: ['Leave out --to; run `secrets sync` afterwards to copy the values elsewhere.'],
        },
      )
    const session = this.session()
    const plan = await planTellerImport(this.args.file, session.config, session.env)
    const dryRun = Boolean(this.flags['dry-run'])
    const pending =
      plan.providers.filter((p) => p.status === 'add').length + plan.env.filter((v) => v.status !== 'same').length
    const result = (written: boolean) => ({
      file: plan.from,
      format: 'teller',
      config: plan.configFile,
      dryRun,
      providers: plan.providers,
      env: plan.env,
      skipped: plan.skipped,
      written,
    })
    for (const note of plan.notes) this.ui.warn(note)
    if (plan.templates.length > 0) this.ui.warn(`Rendered get_env() with ${plan.templates.join(', ')}.`)
    if (!this.jsonEnabled()) {
      process.stdout.write(`${terminalSafe(formatTellerPlan(plan).join('\n'))}\n`)
      process.stdout.write(`${pending} to write to ${plan.configFile}, ${plan.skipped.length} left out.\n`)
    }
    if (dryRun || pending === 0) {
      if (dryRun && pending > 0) this.logToStderr('Dry run: nothing was written.')
      return result(false)
    }
    refuseTellerOverwrites(plan, this.flags.overwrite)
    writeTellerImport(plan)
    this.success(`added teller's entries to ${plan.configFile}; no value was fetched (check with \`secrets doctor\`)`)
    return result(true)
  }

  private async values(): Promise<{
    file: string
    to: string
    format: string
    dryRun: boolean
    items: SyncItem[]
    written: number
  }> {
    const session = this.session()
    const plan = await planImport(session, {
      file: this.args.file,
      format: this.flags.format as ImportFormat | undefined,
      to: this.flags.to,
    })
    const dryRun = Boolean(this.flags['dry-run'])
    const result = (written: number) => ({
      file: plan.from,
      to: plan.to,
      format: plan.format,
      dryRun,
      items: plan.items,
      written,
    })
    const pending = plan.items.filter((i) => i.status !== 'same')
    if (plan.skipped.empty.length > 0)
      this.ui.warn(`Left out, with an empty value: ${plan.skipped.empty.join(', ')} (a store holds no empty values).`)
    if (!this.jsonEnabled()) {
      process.stdout.write(`${terminalSafe(formatPlan(plan).join('\n'))}\n`)
      process.stdout.write(`${pending.length} to write, ${plan.items.length - pending.length} unchanged.\n`)
    }
    if (dryRun) {
      if (pending.length > 0) this.logToStderr('Dry run: nothing was written.')
      return result(0)
    }
    refuseOverwrites(plan, this.flags.overwrite)
    const written = pending.length === 0 ? [] : await applySync(session, plan)
    if (written.length > 0)
      this.success(`imported ${written.length === 1 ? '1 secret' : `${written.length} secrets`} into ${plan.to}`)
    const file = this.args.file
    this.logToStderr(
      plan.decrypted === plan.items.length
        ? `${file} and the private key that opens it are no longer needed: delete them once you have checked the import (\`secrets list\`).`
        : `${file} still holds the values in plaintext: delete it once you have checked the import (\`secrets list\`), and keep it out of git (\`git rm --cached ${file}\` if it is tracked; add it to .gitignore).`,
    )
    return result(written.length)
  }
}
