import {BaseCommand} from '../cli/base-command.js'
import {rotationAges, type StatusRow} from '../core/rotation/status.js'
import {nowFrom} from '../core/rotation/targets.js'
import {table} from '../cli/style.js'

export default class Status extends BaseCommand<typeof Status> {
  static override summary = "Show each secret's age against its rotation policy."
  static override description =
    "Lists every variable that declares `rotate:` in secrets.yaml, when its current version was written (from the provider's version history), its age in days, its `every:` policy and whether `rotate --due` would pick it."
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status --env prod --json']

  async run(): Promise<{secrets: StatusRow[]}> {
    const secrets = await rotationAges(this.session(), this.flags.env, nowFrom(process.env))
    if (secrets.length === 0) {
      this.logToStderr('No variable declares a rotation policy (`rotate:` under env: in secrets.yaml).')
    } else {
      const c = this.chalk
      this.log(
        table(
          ['VARIABLE', 'REFERENCE', 'LAST ROTATED', 'AGE', 'EVERY', 'DUE'],
          secrets.map((s) => [
            s.name,
            s.ref,
            s.lastRotated ?? (s.error ? `[${s.error.code}]` : 'unknown'),
            s.ageDays === undefined ? '' : `${s.ageDays}d`,
            s.every ?? '',
            s.due ? 'due' : s.error ? 'error' : 'ok',
          ]),
          (text, row, column) =>
            column !== 5 ? text : secrets[row].due ? c.yellow(text) : secrets[row].error ? c.red(text) : text,
        ),
      )
    }
    return {secrets}
  }
}
