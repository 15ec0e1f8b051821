import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../../cli/base-command.js'
import {actOnLeases, listLeases, pick, type LeaseResult} from '../../core/lease/manage.js'
import {SecretsError} from '../../errors.js'

export default class LeaseRevoke extends BaseCommand<typeof LeaseRevoke> {
  static override summary = 'Revoke leases of dynamic credentials: one, the orphaned ones, or all.'
  static override description =
    'Ends each credential at once (Vault `sys/leases/revoke`) through the provider of the project that obtained it, and drops it from the ledger; expired leases are dropped without a request. A lease is named by the fingerprint `secrets lease list` shows.'

  static override examples = [
    '<%= config.bin %> lease revoke 3f9a0c2b7d1e4a56',
    '<%= config.bin %> lease revoke --orphaned',
    '<%= config.bin %> lease revoke --all',
  ]

  static override args = {
    lease: Args.string({description: 'The lease (its fingerprint from `secrets lease list`).'}),
  }

  static override flags = {
    all: Flags.boolean({description: 'Every lease in the ledger.', exclusive: ['orphaned']}),
    orphaned: Flags.boolean({description: 'The leases whose run is gone (killed before it could revoke).'}),
  }

  async run(): Promise<{revoked: LeaseResult[]}> {
    const chosen = [this.args.lease !== undefined, this.flags.all, this.flags.orphaned].filter(Boolean).length
    if (chosen !== 1)
      throw new SecretsError('USAGE', 'Name one lease, or pass --orphaned or --all.', {
        suggestions: ['See the leases with `secrets lease list`.'],
      })
    const leases = listLeases(process.env)
    const targets =
      this.args.lease === undefined
        ? leases.filter((l) => this.flags.all || l.status === 'orphaned' || l.status === 'expired')
        : [pick(leases, this.args.lease)]
    const results = await actOnLeases(this.session(), targets, 'revoke')
    for (const r of results)
      if (r.ok) this.success(`revoked ${r.tag} (${r.provider}://${r.path})`)
      else this.ui.warn(`Could not revoke ${r.tag} (${r.provider}://${r.path}): ${r.error}`)
    if (results.length === 0) this.logToStderr('No lease to revoke.')
    const failed = results.find((r) => !r.ok)
    if (failed)
      throw new SecretsError(
        'UNAVAILABLE',
        `${results.filter((r) => !r.ok).length} of ${results.length} leases could not be revoked; they stay in the ledger.`,
      )
    return {revoked: results}
  }
}
