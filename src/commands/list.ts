import * as Args from '@oclif/core/args'

import {BaseCommand} from '../cli/base-command.js'
import {table} from '../cli/style.js'
import type {SecretMeta} from '../providers/types.js'

export default class List extends BaseCommand<typeof List> {
  static override summary = 'List secret names, provider, version and last change (never values).'
  static override examples = ['<%= config.bin %> list', '<%= config.bin %> list local --json']

  static override args = {
    provider: Args.string({ignoreStdin: true, description: 'Only this provider alias.', required: false}),
  }

  async run(): Promise<{secrets: Array<SecretMeta & {provider: string}>}> {
    const secrets = await this.session().list(this.args.provider)
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
