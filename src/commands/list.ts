import * as Args from '@oclif/core/args'

import {BaseCommand} from '../cli/base-command.js'
import {table} from '../cli/style.js'
import {environmentInventory, type Inventory} from '../core/setup/inventory.js'
import type {SecretMeta} from '../providers/types.js'

export default class List extends BaseCommand<typeof List> {
  static override summary = 'Show what the app gets (variable, reference, provider, source, version), never values.'
  static override description = `Without an argument: the variables of the selected environment (--env / SECRETS_ENV) exactly as \`exec\` builds them, each with its reference, provider, where it comes from (env:, files:, environments.<name>, or implicit: a local store's secret under its own name), and its version and last change where the provider reports them from metadata alone. A mapping that hides a local secret of the same name says so.

With a provider alias: the secrets that provider holds, with version, last change and author.`

  static override examples = [
    '<%= config.bin %> list',
    '<%= config.bin %> list --env staging --json',
    '<%= config.bin %> list local',
  ]

  static override args = {
    provider: Args.string({
      ignoreStdin: true,
      description: "List this provider's secrets instead of the environment.",
      required: false,
    }),
  }

  async run(): Promise<Inventory | {secrets: Array<SecretMeta & {provider: string}>}> {
    if (this.args.provider !== undefined) return this.listProvider(this.args.provider)
    const inventory = await environmentInventory(this.session(), this.flags.env)
    if (inventory.variables.length === 0) {
      this.logToStderr(
        `No variables in ${inventory.environment === null ? 'this project' : `environment ${inventory.environment}`} yet. Add one with: printf %s "$VALUE" | secrets set NAME`,
      )
      return inventory
    }
    this.log(
      table(
        ['VARIABLE', 'REFERENCE', 'PROVIDER', 'TYPE', 'FROM', 'VERSION', 'UPDATED'],
        inventory.variables.map((v) => [
          v.name,
          v.ref ?? `template ${v.template ?? ''}`,
          v.provider ?? '-',
          v.kind ?? '-',
          v.from,
          v.error === undefined ? (v.version ?? '-') : `(${v.error.code})`,
          v.updated ?? '-',
        ]),
      ),
    )
    for (const v of inventory.variables) {
      if (v.shadows !== undefined)
        this.logToStderr(
          `Note: ${v.name} is ${v.ref} (${v.from}); the local secret ${v.shadows} is not what the app gets.`,
        )
      if (v.error !== undefined) this.logToStderr(`Note: ${v.name} (${v.ref}): [${v.error.code}] ${v.error.message}`)
    }
    return inventory
  }

  private async listProvider(alias: string): Promise<{secrets: Array<SecretMeta & {provider: string}>}> {
    const secrets = await this.session().list(alias)
    if (secrets.length === 0) {
      this.logToStderr('No secrets yet. Add one with: printf %s "$VALUE" | secrets set NAME')
    } else {
      this.log(
        table(
          ['NAME', 'PROVIDER', 'VERSION', 'UPDATED', 'BY'],
          secrets.map((s) => [s.name, s.provider, s.version ?? '', s.updated ?? '', s.actor ?? '']),
        ),
      )
    }
    return {secrets}
  }
}
