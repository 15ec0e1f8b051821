import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../cli/base-command.js'
import {terminalSafe} from '../cli/output.js'
import {applySync, formatPlan, planSync, type SyncItem} from '../core/sync/sync.js'

export default class Sync extends BaseCommand<typeof Sync> {
  static override summary = 'Copy secrets between providers, writing only what changed.'
  static override description = `Copies every variable whose reference uses the --from provider (or starts with the --from reference prefix) to the --to provider, under the variable's name: \`secrets sync --from aws --to local\` makes an encrypted offline copy of exactly what the app uses.

First shows a diff of names, references and versions (never values; values are compared in memory by HMAC-SHA256 under a key made for the run): + new, ~ changed, = unchanged. Then writes only what differs, each write recorded in the access log. Asks for confirmation on a terminal; without one, --yes is required. --dry-run only shows the diff.

--to ALIAS stores NAME as ALIAS://NAME; --to ALIAS://PREFIX/ stores it as ALIAS://PREFIX/NAME; --to ALIAS://PATH stores it as field NAME of the secret PATH (the usual shape for Vault: --to vault://secret/myapp).`

  static override examples = [
    '<%= config.bin %> sync --from aws --to local',
    '<%= config.bin %> sync --from vault://secret/myapp --to local --only DB_PASSWORD --dry-run',
    '<%= config.bin %> sync --from local --to vault://secret/myapp --yes',
    '<%= config.bin %> sync --from local --to aws://prod/ --yes',
  ]

  static override flags = {
    from: Flags.string({description: 'Provider alias or reference prefix to copy from.', required: true}),
    to: Flags.string({
      description: 'Provider alias or reference prefix to copy to (see the description).',
      required: true,
    }),
    only: Flags.string({description: 'Only this variable (repeatable).', multiple: true}),
    'dry-run': Flags.boolean({description: 'Show the diff and write nothing.'}),
    yes: Flags.boolean({char: 'y', description: 'Write without asking for confirmation.'}),
  }

  async run(): Promise<{from: string; to: string; dryRun: boolean; items: SyncItem[]; written: number}> {
    const session = this.session()
    const plan = await planSync(session, {
      from: this.flags.from,
      to: this.flags.to,
      only: this.flags.only,
      environment: this.flags.env,
    })
    const pending = plan.items.filter((i) => i.status !== 'same')
    const result = (written: number) => ({
      from: plan.from,
      to: plan.to,
      dryRun: Boolean(this.flags['dry-run']),
      items: plan.items,
      written,
    })
    if (!this.jsonEnabled()) {
      process.stdout.write(`${terminalSafe(formatPlan(plan).join('\n'))}\n`)
      process.stdout.write(`${pending.length} to write, ${plan.items.length - pending.length} unchanged.\n`)
    }
    if (pending.length === 0 || this.flags['dry-run']) {
      if (this.flags['dry-run'] && pending.length > 0) this.logToStderr('Dry run: nothing was written.')
      return result(0)
    }
    await this.confirmOrRefuse({
      yes: this.flags.yes,
      question: `Write ${pending.length} secret(s) to ${plan.to}?`,
      declined: `Nothing was written to ${plan.to}.`,
      withoutTerminal: {
        refuse: `write ${pending.length} secret(s) to ${plan.to}`,
        suggestion: 'Pass --yes to write them, or --dry-run to only see the diff.',
      },
    })
    const written = await applySync(session, plan)
    this.success(`wrote ${written.map((w) => `${w.to} (v${w.written})`).join(', ')}`)
    return result(written.length)
  }
}
