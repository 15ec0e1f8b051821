import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../cli/base-command.js'
import {GENERATOR_TYPES} from '../core/config/types.js'
import {parseDuration} from '../core/lib/time.js'
import {generatorFromFlags} from '../core/rotation/generate.js'
import {readNewValue} from '../core/lib/read-input.js'
import {nowFrom, rotationStatus, Rotator, type RotationResult} from '../core/rotation/rotate.js'
import type {JournalEntry} from '../core/rotation/journal.js'
import {EXIT_CODES, SecretsError} from '../errors.js'
import {table} from '../cli/style.js'
import {isCI} from '../cli/ui.js'

type Report = {rotations: RotationResult[]; exitCode: number} | {unfinished: Array<JournalEntry & {running: boolean}>}

export default class Rotate extends BaseCommand<typeof Rotate> {
  static override summary = 'Rotate secrets: write a new value as pending, verify it, then make it current.'
  static override description = `Each secret is rotated in stages: (1) the new value is written as a pending version that readers of the current value do not see, (2) the verify command (--verify-cmd, or the variable's \`rotate.verify\` in secrets.yaml) runs with the new value in its environment exactly as \`exec\` would run it, (3) the pending version becomes current and the previous one is kept. If verification fails the pending version is dropped, the current value is exactly what it was, and the exit code is 14.

The new value comes from --value-stdin, --generate/--length, the variable's \`rotate.generate\`, or else a 32-character password (letters and digits), always from the system CSPRNG.

--due picks the variables whose current version is older than their \`rotate.every\`; --all picks every variable that declares \`rotate:\`. A rotation that was killed is listed by --status; running rotate again for that secret finishes it (if it was verified) or drops its pending version and starts over.

Exit codes: 0 all rotated, 13 nothing due, 14 verification failed and rolled back, 15 partial (some rotated, some not); a single failure exits with its own code (e.g. 11 CONFLICT when a concurrent rotation won).`

  static override examples = [
    '<%= config.bin %> rotate DB_PASSWORD --verify-cmd \'psql "$DATABASE_URL" -c "select 1"\'',
    '<%= config.bin %> rotate --due --yes --json',
    '<%= config.bin %> rotate aws://prod/api#key --generate hex --length 32',
    'vendor-cli new-key | <%= config.bin %> rotate STRIPE_KEY --value-stdin',
    '<%= config.bin %> rotate --status',
  ]

  static override strict = false

  static override flags = {
    due: Flags.boolean({
      description: 'Rotate the variables whose `rotate.every` has passed.',
      exclusive: ['all', 'status'],
    }),
    all: Flags.boolean({
      description: 'Rotate every variable that declares `rotate:` in secrets.yaml.',
      exclusive: ['due', 'status'],
    }),
    'dry-run': Flags.boolean({description: 'Show what would be rotated; change nothing.'}),
    yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation on a terminal.'}),
    generate: Flags.string({
      description: 'Generator for the new value: password, hex, base64, base64url or uuid.',
      options: [...GENERATOR_TYPES],
      exclusive: ['value-stdin'],
    }),
    length: Flags.integer({
      description: 'Characters (password) or random bytes (hex, base64) of the new value.',
      exclusive: ['value-stdin'],
    }),
    'value-stdin': Flags.boolean({
      description: 'Read the new value from stdin (one secret only), e.g. a key a vendor issued.',
    }),
    'verify-cmd': Flags.string({
      description: 'Shell command run with the new value in its environment; exit 0 means the new value works.',
    }),
    status: Flags.boolean({description: 'List unfinished (interrupted) rotations and exit.'}),
    'abandon-pending': Flags.boolean({
      description:
        'First drop any pending version these secrets have, whoever left it (an interrupted rotation on another machine, e.g. a killed CI job), then rotate.',
      exclusive: ['native', 'status'],
    }),
    native: Flags.boolean({
      description:
        "AWS: start the secret's own rotation function (RotateSecret) and wait until its new version is AWSCURRENT.",
      exclusive: ['value-stdin', 'generate', 'length', 'verify-cmd'],
    }),
    timeout: Flags.string({
      description: 'With --native: how long to wait for the rotation function (default 5m).',
      dependsOn: ['native'],
    }),
  }

  async run(): Promise<Report> {
    const {argv} = await this.parse(Rotate)
    const inputs = (argv as string[]).filter((a) => a !== '--')
    if (this.flags.status) {
      if (inputs.length > 0) throw new SecretsError('USAGE', '--status takes no variable or reference.')
      const unfinished = rotationStatus(process.env)
      if (!this.jsonEnabled()) {
        if (unfinished.length === 0) this.logToStderr('No unfinished rotations.')
        else
          this.log(
            table(
              ['SECRET', 'VARIABLE', 'STEP', 'CURRENT', 'PENDING', 'STARTED', 'STATE'],
              unfinished.map((e) => [
                e.ref,
                e.name,
                e.step,
                e.base,
                e.pending ?? '',
                e.started,
                e.running ? `running (pid ${e.pid})` : 'interrupted: run rotate again to finish or abandon',
              ]),
            ),
          )
      }
      return {unfinished}
    }
    if (inputs.length === 0 && !this.flags.due && !this.flags.all) {
      throw new SecretsError('USAGE', 'Nothing to rotate: name variables or references, or pass --due or --all.', {
        suggestions: ['e.g. `secrets rotate DB_PASSWORD`, `secrets rotate --due`.'],
      })
    }
    if (inputs.length > 0 && (this.flags.due || this.flags.all)) {
      throw new SecretsError('USAGE', `Give variables or --${this.flags.due ? 'due' : 'all'}, not both.`)
    }
    const session = this.session()
    const generator = generatorFromFlags(this.flags.generate, this.flags.length)
    const now = nowFrom(process.env)
    if (!this.flags['dry-run'] && !this.flags.yes && this.ui.interactive) {
      const what =
        inputs.length > 0
          ? inputs.join(', ')
          : this.flags.due
            ? 'every secret that is due'
            : 'every secret with a rotation policy'
      if (!(await this.ui.confirm(`Rotate ${what}?`, false))) throw new SecretsError('ABORTED', 'Nothing was rotated.')
    }
    const value = this.flags['value-stdin']
      ? await readNewValue({name: inputs[0] ?? 'the new value', ui: this.ui})
      : undefined
    const quiet = this.jsonEnabled() || !process.stderr.isTTY || isCI()
    const timeoutMs = this.flags.timeout === undefined ? undefined : parseDuration(this.flags.timeout)
    if (this.flags.timeout !== undefined && timeoutMs === undefined)
      throw new SecretsError('USAGE', `--timeout ${JSON.stringify(this.flags.timeout)} is not a duration.`, {
        suggestions: ['e.g. --timeout 90s or --timeout 10m.'],
      })
    const rotator = new Rotator(session, {
      native: this.flags.native,
      timeoutMs,
      abandonPending: this.flags['abandon-pending'],
      inputs,
      due: this.flags.due,
      all: this.flags.all,
      environment: this.flags.env,
      dryRun: this.flags['dry-run'],
      generator,
      value,
      verifyCmd: this.flags['verify-cmd'],
      now,
      parentEnv: process.env,
      output: process.stderr,
      onProgress: quiet ? undefined : (m) => this.ui.info(m),
    })
    const rotations = await rotator.run()
    const exitCode = exitCodeOf(rotations, this.flags.due === true)
    if (
      !this.jsonEnabled() &&
      rotations.length === 1 &&
      rotations[0].status === 'failed' &&
      rotations[0].error !== undefined
    ) {
      // One secret, one failure: its own error, rendered like any other.
      const e = rotations[0].error
      throw new SecretsError(e.code, e.message, {ref: rotations[0].ref, suggestions: rotations[0].suggestions})
    }
    if (!this.jsonEnabled()) this.report(rotations)
    process.exitCode = exitCode
    return {rotations, exitCode}
  }

  private report(rotations: RotationResult[]): void {
    const c = this.chalk
    if (rotations.length === 0) {
      process.stderr.write(`${this.flags.due ? 'Nothing is due' : 'Nothing to rotate'}; nothing was changed.\n`)
      return
    }
    for (const r of rotations) {
      const v = `${r.oldVersion ?? '?'} -> ${r.newVersion ?? '?'}`
      const line = {
        rotated: `${c.green('✓')} ${r.name} (${r.ref}) rotated: ${v}${r.verified ? ', verified' : ''}${r.abandoned ? ` (an interrupted rotation was abandoned first)` : ''}`,
        finished: `${c.green('✓')} ${r.name} (${r.ref}): finished an interrupted rotation: ${v}`,
        'would-rotate': `${c.cyan('•')} ${r.name} (${r.ref}) would be rotated (current version ${r.oldVersion ?? '?'}${r.lastRotated ? `, last rotated ${r.lastRotated}` : ''})`,
        'rolled-back': `${c.red('✗')} ${r.name} (${r.ref}): verification failed; rolled back, version ${r.oldVersion ?? '?'} is still current`,
        failed: `${c.red('✗')} ${r.name} (${r.ref}): [${r.error?.code}] ${r.error?.message ?? ''}`,
      }[r.status]
      process.stderr.write(`${line}\n`)
    }
  }
}

/** 0 all rotated (or a dry run), 13 nothing due, 14 every attempt failed verification, 15 partial; one failure kind: its code. */
export function exitCodeOf(rotations: RotationResult[], due: boolean): number {
  if (rotations.length === 0) return due ? EXIT_CODES.NOTHING_DUE : 0
  const failed = rotations.filter((r) => r.status === 'failed' || r.status === 'rolled-back')
  if (failed.length === 0) return 0
  if (failed.length < rotations.length) return EXIT_CODES.ROTATION_PARTIAL
  if (failed.every((r) => r.status === 'rolled-back')) return EXIT_CODES.VERIFY_FAILED
  const codes = new Set(failed.map((r) => r.error?.code))
  const [code] = codes
  if (codes.size === 1) return code === undefined ? 1 : EXIT_CODES[code]
  return EXIT_CODES.ROTATION_PARTIAL
}
