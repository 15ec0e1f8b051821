import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../cli/base-command.js'
import {durationFlag, yesFlag} from '../cli/flags.js'
import {isCI} from '../cli/ui.js'
import {GENERATOR_TYPES} from '../core/config/types.js'
import {readNewValue} from '../core/lib/read-input.js'
import {generatorFromFlags} from '../core/rotation/generate.js'
import type {JournalEntry} from '../core/rotation/journal.js'
import {describePlan, planRotation, type RotationPlan} from '../core/rotation/plan.js'
import {rotationExitCode, Rotator, type RotationResult} from '../core/rotation/rotate.js'
import {rotationStatus} from '../core/rotation/status.js'
import {nowFrom} from '../core/rotation/targets.js'
import {SecretsError} from '../errors.js'
import {rotationReport, unfinishedTable} from '../output/rotation-report.js'

type Report = {rotations: RotationResult[]; exitCode: number} | {unfinished: Array<JournalEntry & {running: boolean}>}

export default class Rotate extends BaseCommand<typeof Rotate> {
  static override summary = 'Rotate secrets: write a new value as pending, verify it, then make it current.'
  static override description = `Each secret is rotated in stages: (1) the new value is written as a pending version that readers of the current value do not see, (2) the verify command (--verify-cmd, or the variable's \`rotate.verify\` in secrets.yaml) runs with the new value in its environment exactly as \`exec\` would run it, (3) the pending version becomes current and the previous one is kept. If verification fails the pending version is dropped, the current value is exactly what it was, and the exit code is 14.

The new value comes from --value-stdin, --generate/--length or the variable's \`rotate.generate\` (generated from the system CSPRNG). A variable named without any of them is refused (exit 2): secrets does not guess what a vendor's key looks like. --due and --all rotate variables that declare \`rotate:\`; without \`generate\` they get a 32-character password (letters and digits). The confirmation and --dry-run say how each new value will be made and whether a verify command runs.

Asks for confirmation on a terminal; without one, --yes is required (--dry-run needs neither).

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
  static override usage = ['<%= command.id %> [FLAGS] VAR|REF...', '<%= command.id %> [FLAGS] --due | --all | --status']

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
    yes: yesFlag(),
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
    timeout: durationFlag({
      description: 'With --native: how long to wait for the rotation function (default 5m).',
      dependsOn: ['native'],
      hint: 'e.g. --timeout 90s or --timeout 10m.',
    }),
  }

  async run(): Promise<Report> {
    const {argv} = await this.parse(Rotate)
    const inputs = (argv as string[]).filter((a) => a !== '--')
    if (this.flags.status) return this.status(inputs)
    this.checkSelection(inputs)
    const generator = generatorFromFlags(this.flags.generate, this.flags.length)
    const now = nowFrom(process.env)
    const plan = await planRotation(this.session(), {
      inputs,
      due: this.flags.due,
      all: this.flags.all,
      environment: this.flags.env,
      generator,
      valueStdin: this.flags['value-stdin'],
      verifyCmd: this.flags['verify-cmd'],
      native: this.flags.native,
    })
    const what =
      inputs.length > 0
        ? inputs.join(', ')
        : this.flags.due
          ? 'every secret that is due'
          : 'every secret with a rotation policy'
    if (!this.flags['dry-run']) {
      if (this.ui.interactive && !this.flags.yes) for (const p of plan) this.logToStderr(`  ${describePlan(p)}`)
      await this.confirmOrRefuse({
        yes: this.flags.yes,
        question: `Rotate ${what}?`,
        declined: 'Nothing was rotated.',
        withoutTerminal: {refuse: `rotate ${what}`},
      })
    }
    const value = this.flags['value-stdin']
      ? await readNewValue({name: inputs[0] ?? 'the new value', ui: this.ui})
      : undefined
    const quiet = this.jsonEnabled() || !process.stderr.isTTY || isCI()
    const rotations = await new Rotator(this.session(), {
      native: this.flags.native,
      timeoutMs: this.flags.timeout,
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
    }).run()
    withPlan(rotations, plan)
    const exitCode = rotationExitCode(rotations, this.flags.due === true)
    const [only] = rotations
    if (!this.jsonEnabled() && rotations.length === 1 && only.status === 'failed' && only.error !== undefined) {
      // One secret, one failure: its own error, rendered like any other.
      throw new SecretsError(only.error.code, only.error.message, {ref: only.ref, suggestions: only.suggestions})
    }
    if (!this.jsonEnabled()) process.stderr.write(rotationReport(rotations, this.flags.due === true, this.chalk))
    process.exitCode = exitCode
    return {rotations, exitCode}
  }

  /** `--status`: the unfinished rotations; nothing else runs. */
  private status(inputs: string[]): Report {
    if (inputs.length > 0) throw new SecretsError('USAGE', '--status takes no variable or reference.')
    const unfinished = rotationStatus(process.env)
    if (!this.jsonEnabled()) {
      if (unfinished.length === 0) this.logToStderr('No unfinished rotations.')
      else this.log(unfinishedTable(unfinished))
    }
    return {unfinished}
  }

  // Hand-checked, not `exclusive`: oclif relates flags to flags, and these relate the (non-strict) argv to --due/--all.
  private checkSelection(inputs: string[]): void {
    if (inputs.length === 0 && !this.flags.due && !this.flags.all) {
      throw new SecretsError('USAGE', 'Nothing to rotate: name variables or references, or pass --due or --all.', {
        suggestions: ['e.g. `secrets rotate DB_PASSWORD`, `secrets rotate --due`.'],
      })
    }
    if (inputs.length > 0 && (this.flags.due || this.flags.all)) {
      throw new SecretsError('USAGE', `Give variables or --${this.flags.due ? 'due' : 'all'}, not both.`)
    }
  }
}

/** A dry run's lines also say how the new value would be made and what verifies it. */
function withPlan(rotations: RotationResult[], plan: RotationPlan[]): void {
  for (const r of rotations) {
    const p = plan.find((x) => x.name === r.name && x.ref === r.ref)
    if (r.status !== 'would-rotate' || p === undefined) continue
    r.newValue = p.newValue
    if (p.verify !== undefined) r.verify = p.verify
  }
}
