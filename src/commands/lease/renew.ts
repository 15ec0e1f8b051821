import * as Args from '@oclif/core/args'

import {BaseCommand} from '../../cli/base-command.js'
import {actOnLeases, listLeases, pick, type LeaseResult} from '../../core/lease/manage.js'
import {SecretsError} from '../../errors.js'

export default class LeaseRenew extends BaseCommand<typeof LeaseRenew> {
  static override summary = 'Renew one lease of a dynamic credential by its first TTL (up to the role’s max TTL).'
  static override examples = ['<%= config.bin %> lease renew 3f9a0c2b7d1e4a56']

  static override args = {
    lease: Args.string({description: 'The lease (its fingerprint from `secrets lease list`).', required: true}),
  }

  async run(): Promise<{renewed: LeaseResult}> {
    const lease = pick(listLeases(process.env), this.args.lease)
    const [r] = await actOnLeases(this.session(), [lease], 'renew')
    if (!r.ok) throw new SecretsError('UNAVAILABLE', `Could not renew ${r.tag} (${r.provider}://${r.path}): ${r.error}`)
    const after = pick(listLeases(process.env), lease.tag)
    this.success(`renewed ${r.tag} (${r.provider}://${r.path}) until ${after.expires}`)
    return {renewed: r}
  }
}
