import {BaseCommand} from '../../cli/base-command.js'
import {table} from '../../cli/style.js'
import {listLeases, type LeaseView} from '../../core/lease/manage.js'

export default class LeaseList extends BaseCommand<typeof LeaseList> {
  static override summary = 'List the leases of dynamic credentials: active, kept, orphaned and expired.'
  static override description = `Reads the lease ledger (in the state directory, or SECRETS_LEASE_LEDGER), where every lease a command obtained is recorded before its credential is used: lease fingerprints, paths, variables and times, never a credential. A lease is active while the exec run that holds it lives; kept when get, export or render handed its credential out (it ends with its TTL or \`secrets lease revoke\`); orphaned when the run that held it is gone without revoking it (killed); expired once its TTL passed.`

  static override examples = ['<%= config.bin %> lease list', '<%= config.bin %> lease list --json']

  async run(): Promise<{leases: Array<Omit<LeaseView, 'id'>>}> {
    const leases = listLeases(process.env)
    if (leases.length === 0) this.logToStderr('No leases in the ledger.')
    else
      this.log(
        table(
          ['LEASE', 'STATUS', 'PROVIDER', 'PATH', 'VARIABLES', 'EXPIRES', 'PID'],
          leases.map((l) => [
            l.tag,
            l.status,
            l.provider,
            l.path,
            l.variables.join(','),
            l.expires,
            String(l.owner.pid),
          ]),
        ),
      )
    // The lease id itself can renew or revoke the lease with a token: --json names it by fingerprint too.
    return {leases: leases.map(({id: _id, ...rest}) => rest)}
  }
}
