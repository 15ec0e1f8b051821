import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {resolveEnvironment} from '../core/environment.js'
import {childEnvironment, runChild} from '../core/exec.js'
import {SecretsError} from '../errors.js'

export default class Exec extends BaseCommand<typeof Exec> {
  static override summary = 'Run a command with the secrets in its environment.'
  static override description = `Resolves every variable of the environment first (fail closed: if any cannot be resolved, the command is not started), then runs the command with the parent's environment plus the secrets. A secret wins over a parent variable of the same name (with a warning). Variables that configure secrets (SECRETS_*) are never passed on. Signals are forwarded; the exit status is exactly the child's, or 128+N if it dies from signal N.

Everything after -- belongs to the command.`
  static override examples = ['<%= config.bin %> exec -- npm start', '<%= config.bin %> exec --env staging --only DATABASE_URL -- ./migrate.sh', '<%= config.bin %> exec --pristine -- env']

  static override strict = false

  static override flags = {
    only: Flags.string({description: 'Only pass this variable (repeatable).', multiple: true}),
    pristine: Flags.boolean({description: 'Start from a minimal environment (PATH, HOME, USER, LANG, TERM, TZ) instead of the parent\'s.'}),
    'allow-missing': Flags.boolean({description: 'Start even if some secrets do not exist (each is warned about).'}),
    'kill-timeout': Flags.integer({description: 'Seconds to wait after forwarding SIGTERM before SIGKILL.', default: 10, min: 0}),
  }

  async run(): Promise<void> {
    const argv = this.argv
    const dash = argv.indexOf('--')
    const command = dash === -1 ? [] : argv.slice(dash + 1)
    if (dash === -1 || command.length === 0) {
      throw new SecretsError('USAGE', 'No command to run: put it after --, e.g. `secrets exec -- npm start`.')
    }
    const {resolved} = await resolveEnvironment(this.session(), {environment: this.flags.env, only: this.flags.only, allowMissing: this.flags['allow-missing']})
    const {env, clashes} = childEnvironment(process.env, resolved, {pristine: this.flags.pristine, only: this.flags.only})
    for (const name of clashes) this.ui.warn(`${name} is set in your environment too; the secret's value is used.`)
    await this.session().audit([{command: 'exec', child: command[0], action: 'read', provider: '-', ref: `exec:${resolved.length} variable(s)`, outcome: 'ok'}])
    process.exitCode = await runChild(command[0], command.slice(1), env, {killTimeoutMs: this.flags['kill-timeout'] * 1000})
  }
}
