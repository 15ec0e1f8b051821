import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../cli/base-command.js'
import {errorText} from '../cli/error-text.js'
import {terminalSafe} from '../cli/output.js'
import {checkEnvironments, checkLeases, runDoctor, type Check, type VariableStatus} from '../core/setup/doctor.js'

export default class Doctor extends BaseCommand<typeof Doctor> {
  static override summary =
    'Check the config, your identity, every provider, the audit log, and that every variable resolves.'

  static override description = `Runs every check even when one fails. Then resolves every variable and \`files:\` entry of the selected environment (--env / SECRETS_ENV; --all-envs: the base env: and every environment) as \`exec\` would, without printing a value, and reports each failure with the fixes \`exec\` would print. For Vault dynamic paths it first asks \`sys/capabilities-self\` whether the token may make each credential and renew and revoke its leases, and reads none it could not revoke. Exits 0 when all pass, otherwise with the exit code of the first failure.`

  static override examples = [
    '<%= config.bin %> doctor',
    '<%= config.bin %> doctor --env staging',
    '<%= config.bin %> doctor --all-envs --json',
  ]

  static override flags = {
    'all-envs': Flags.boolean({
      description: 'Resolve the base env: and every environment under environments: (instead of --env).',
    }),
  }

  async run(): Promise<{ok: boolean; checks: Check[]; variables: VariableStatus[]}> {
    const session = this.session()
    const checks = await runDoctor(session)
    const config = checks.find((c) => c.name === 'config')
    const environments = this.flags['all-envs']
      ? [undefined, ...(config?.status === 'ok' ? session.config.environments.keys() : [])]
      : [this.flags.env === '' ? undefined : this.flags.env]
    const leases = config?.status === 'ok' ? await checkLeases(session, environments, checks) : undefined
    if (leases) checks.push(...leases.checks)
    const reports = config?.status === 'ok' ? await checkEnvironments(session, environments, leases?.unread) : []
    for (const r of reports) if (r.failure) checks.push(r.failure)
    const variables = reports.flatMap((r) => r.variables)
    const c = this.chalk
    const rows: Array<[Check['status'], string, string, string | undefined]> = checks.map((x) => [
      x.status,
      x.name,
      x.detail,
      x.code,
    ])
    for (const v of variables) {
      const where = this.flags['all-envs'] ? ` (${v.environment ?? 'base env:'})` : ''
      const target = v.ref === undefined ? `template ${v.template}` : `${v.ref} (provider ${v.provider})`
      rows.push([
        v.status,
        `variable ${v.name}${where}`,
        v.status === 'ok' ? target : `${target}: ${v.message}`,
        v.code,
      ])
    }
    const width = Math.max(16, ...rows.map((r) => r[1].length))
    for (const [status, name, detail, code] of rows) {
      const mark = status === 'ok' ? c.green('ok  ') : status === 'warn' ? c.yellow('warn') : c.red('FAIL')
      this.log(`${mark}  ${terminalSafe(name.padEnd(width))} ${terminalSafe(detail)}${code ? c.dim(` [${code}]`) : ''}`)
    }
    for (const r of reports) {
      if (r.errors.length === 0) continue
      const flag = r.environment === null ? '' : ` --env ${r.environment}`
      this.log(`\n\`secrets exec${flag}\` would refuse to start with:`)
      for (const error of r.errors) this.log(errorText(error, c).trimEnd())
    }
    const failed = checks.find((x) => x.status === 'fail') ?? variables.find((v) => v.status === 'fail')
    if (failed) process.exitCode = failed.exitCode ?? 1
    return {ok: failed === undefined, checks, variables}
  }
}
