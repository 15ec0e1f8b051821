import * as Flags from '@oclif/core/flags'

import {BaseCommand, useFallback} from '../cli/base-command.js'
import {fallbackFlags, intervalFlag} from '../cli/flags.js'
import {parseInterval, parseSignal, runExec} from '../core/exec/exec.js'
import {SecretsError} from '../errors.js'

export default class Exec extends BaseCommand<typeof Exec> {
  static override summary = 'Run a command with the secrets in its environment.'
  static override description = `Resolves every variable of the environment first (fail closed: if any cannot be resolved, the command is not started), then runs the command with the parent's environment plus the secrets. A secret wins over a parent variable of the same name (with a warning). Variables that configure secrets (SECRETS_*) are never passed on. Secrets declared under \`files:\` are written to a private directory (tmpfs where available, 0700, files 0600) that is removed when the command ends; the variable holds the file's path.

Secret values are masked in the command's output as <secret:NAME>. On a terminal the command runs on a pseudo-terminal, so it still sees a terminal (colours, prompts, line editing); --no-redact gives it your stdio unchanged instead.

Signals are forwarded; the exit status is exactly the child's, or 128+N if it dies from signal N. With --watch, the secrets are resolved again every --interval, and the command is restarted (or sent --reload-signal, when only files changed) when a value actually changed.

Everything after -- belongs to the command.`

  static override examples = [
    '<%= config.bin %> exec -- npm start',
    '<%= config.bin %> exec --env staging --only DATABASE_URL -- ./migrate.sh',
    '<%= config.bin %> exec --pristine -- env',
    '<%= config.bin %> exec --watch --interval 1m -- node server.js',
  ]

  static override strict = false
  static override aliases = ['run']
  static override usage = '<%= command.id %> [FLAGS] -- CMD [ARGS...]'

  static override flags = {
    only: Flags.string({description: 'Only pass this variable (repeatable).', multiple: true}),
    pristine: Flags.boolean({
      description: "Start from a minimal environment (PATH, HOME, USER, LANG, TERM, TZ) instead of the parent's.",
    }),
    'allow-missing': Flags.boolean({description: 'Start even if some secrets do not exist (each is warned about).'}),
    'kill-timeout': Flags.integer({
      description: 'Seconds to wait after forwarding SIGTERM before SIGKILL.',
      default: 10,
      min: 0,
    }),
    redact: Flags.boolean({
      description: "Mask secret values in the command's output (--no-redact: plain inherited stdio).",
      default: true,
      allowNo: true,
    }),
    watch: Flags.boolean({description: 'Resolve again every --interval and restart the command when a value changed.'}),
    'revoke-orphaned': Flags.boolean({
      description: 'Revoke the leases of this project that a killed run left, before starting (see `secrets lease`).',
      default: true,
      allowNo: true,
    }),
    interval: intervalFlag({
      description: 'How often --watch resolves (default 30s; e.g. 5m; at least 1s; jittered by ±10%).',
      dependsOn: ['watch'],
    }),
    'reload-signal': Flags.string({
      description:
        'With --watch: when only `files:` changed, rewrite them and send this signal (e.g. HUP) instead of restarting.',
      dependsOn: ['watch'],
    }),
    'from-file': Flags.string({
      description:
        'Take the variables from this encrypted file (written by `export --encrypt`) instead of secrets.yaml; no provider is contacted.',
      exclusive: ['fallback', 'offline', 'max-age'],
    }),
    ...fallbackFlags,
  }

  async run(): Promise<void> {
    const argv = this.argv
    const dash = argv.indexOf('--')
    const command = dash === -1 ? [] : argv.slice(dash + 1)
    if (dash === -1 || command.length === 0) {
      throw new SecretsError('USAGE', 'No command to run: put it after --, e.g. `secrets exec -- npm start`.')
    }
    const watch = this.flags.watch
      ? {
          intervalMs: this.flags.interval ?? parseInterval('30s'),
          reloadSignal:
            this.flags['reload-signal'] === undefined ? undefined : parseSignal(this.flags['reload-signal']),
        }
      : undefined
    if (this.flags['from-file'] === undefined) useFallback(this.session(), this.flags)
    process.exitCode = await runExec(this.session(), {
      command,
      environment: this.flags.env,
      only: this.flags.only,
      pristine: this.flags.pristine,
      allowMissing: this.flags['allow-missing'],
      redact: this.flags.redact,
      killTimeoutMs: this.flags['kill-timeout'] * 1000,
      watch,
      fromFile: this.flags['from-file'],
      parentEnv: process.env,
      revokeOrphaned: this.flags['revoke-orphaned'],
      ui: this.ui,
    })
  }
}
