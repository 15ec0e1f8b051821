import {BaseCommand} from '../cli/base-command.js'
import {terminalSafe} from '../cli/output.js'
import {runDoctor, type Check} from '../core/setup/doctor.js'

export default class Doctor extends BaseCommand<typeof Doctor> {
  static override summary = 'Check the config, your identity, every provider and the audit log.'
  static override description =
    'Runs every check even when one fails. Exits 0 when all pass, otherwise with the exit code of the first failure.'
  static override examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor --json']

  async run(): Promise<{ok: boolean; checks: Check[]}> {
    const checks = await runDoctor(this.session())
    const c = this.chalk
    for (const check of checks) {
      const mark = check.status === 'ok' ? c.green('ok  ') : check.status === 'warn' ? c.yellow('warn') : c.red('FAIL')
      this.log(
        `${mark}  ${check.name.padEnd(16)} ${terminalSafe(check.detail)}${check.code ? c.dim(` [${check.code}]`) : ''}`,
      )
    }
    const failed = checks.find((x) => x.status === 'fail')
    if (failed) process.exitCode = failed.exitCode ?? 1
    return {ok: failed === undefined, checks}
  }
}
