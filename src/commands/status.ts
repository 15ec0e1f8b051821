import * as Args from '@oclif/core/args'

import {BaseCommand} from '../cli/base-command.js'
import {rotationAges, type StatusRow} from '../core/rotation/status.js'
import {nowFrom} from '../core/rotation/targets.js'
import {table} from '../cli/style.js'

export default class Status extends BaseCommand<typeof Status> {
  static override summary = "Show each secret's age against its rotation policy."
  static override description =
    "Lists every variable that declares `rotate:` in secrets.yaml, when its current version was written (from the provider's version history), its age in days, its `every:` policy and whether `rotate --due` would pick it. Given NAMEs or references, shows only those: a NAME is the variable of the selected environment (--env, SECRETS_ENV), else the local store's secret of that name."
  static override examples = [
    '<%= config.bin %> status',
    '<%= config.bin %> status --env prod --json',
    '<%= config.bin %> status DATABASE_URL',
  ]

  // Any number of names, like `rotate`.
  static override strict = false
  static override args = {
    name: Args.string({
      ignoreStdin: true,
      description:
        'Only these: NAMEs (variable, else local secret) or references; default every variable with a policy.',
    }),
  }

  async run(): Promise<{secrets: StatusRow[]}> {
    const {argv} = await this.parse(Status)
    const inputs = (argv as string[]).filter((a) => a !== '--')
    const secrets = await rotationAges(this.session(), this.flags.env, nowFrom(process.env), inputs)
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
