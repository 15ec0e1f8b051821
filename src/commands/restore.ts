import * as Args from '@oclif/core/args'

import {BaseCommand} from '../cli/base-command.js'

export default class Restore extends BaseCommand<typeof Restore> {
  static override summary =
    "Cancel a scheduled deletion, or recover a soft-deleted secret, within the provider's recovery window."
  static override description =
    'For providers that keep deleted secrets for a while (AWS Secrets Manager, Azure Key Vault soft delete): the secret and all its versions come back as they were.'
  static override examples = [
    '<%= config.bin %> restore aws://prod/old-api-key',
    '<%= config.bin %> restore azure://old-api-key',
  ]

  static override args = {
    ref: Args.string({ignoreStdin: true, description: 'Reference of the deleted secret.', required: true}),
  }

  async run(): Promise<{ref: string; restored: boolean}> {
    const r = await this.session().restore(this.args.ref)
    this.success(`restored ${r.ref.raw}`)
    return {ref: r.ref.raw, restored: true}
  }
}
