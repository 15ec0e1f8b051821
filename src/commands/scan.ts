import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../cli/base-command.js'
import {writeFileAtomic} from '../core/lib/atomic-write.js'
import {scrub} from '../core/redact.js'
import {DEFAULT_MAX_BYTES, installHook, runScan, type HookResult, type ScanReport} from '../core/scan/index.js'
import {renderScanReport, scanSummary, unresolvedMessage} from '../output/scan-report.js'
import {makeChalk} from '../cli/style.js'

export default class Scan extends BaseCommand<typeof Scan> {
  static override summary =
    'Find hardcoded secrets: the values of your configured secrets, and well-known credential patterns.'
  static override description = `Scans the files of the work tree (in a git repository, the files git knows or would add: .gitignore holds), or with --staged the staged content of the git index, for:
  - the exact values of the secrets secrets.yaml references in the selected environment (--env), compared by keyed hash, never printed;
  - AWS access keys, private key blocks, age identities, JSON Web Tokens, Vault tokens, Azure storage / Service Bus keys and client secrets, GitHub tokens, and random-looking values assigned to variables named like secrets.

Findings name the file, line, column, rule and variable, never the value. Binary files, files over --max-bytes, node_modules and .git are skipped.
Exits 16 (FINDINGS) when something not accepted by --baseline is found; when a configured secret cannot be read, it says so on stderr, scans for everything else, and exits with that error's code if nothing was found.`

  static override examples = [
    '<%= config.bin %> scan',
    '<%= config.bin %> scan src config --format sarif -o secrets.sarif',
    '<%= config.bin %> scan --staged              # what a pre-commit hook runs',
    '<%= config.bin %> scan --baseline .secrets-baseline.json --update-baseline   # accept the current findings',
    '<%= config.bin %> scan --install-hook',
  ]

  static override strict = false
  static override args = {
    path: Args.string({description: 'Files or directories to scan (default: the current directory).'}),
  }

  static override flags = {
    staged: Flags.boolean({
      description: 'Scan the staged content (the git index) of files that differ from HEAD, not the work tree.',
    }),
    format: Flags.string({
      char: 'F',
      description: 'Report format (--json is the same as --format json).',
      options: ['text', 'json', 'sarif'],
      default: 'text',
    }),
    output: Flags.string({char: 'o', description: 'Write the report to this file (atomically) instead of stdout.'}),
    baseline: Flags.string({
      description: 'JSON file of accepted findings (fingerprints, never values); they are not reported.',
    }),
    'update-baseline': Flags.boolean({
      description: 'Write every current finding to --baseline (accepting them) instead of reporting them.',
      dependsOn: ['baseline'],
    }),
    values: Flags.boolean({
      description: 'Look for the values of the configured secrets (--no-values: patterns only, no secret is read).',
      default: true,
      allowNo: true,
    }),
    'max-bytes': Flags.integer({
      description: 'Skip files larger than this many bytes.',
      default: DEFAULT_MAX_BYTES,
      min: 1,
    }),
    'install-hook': Flags.boolean({
      description:
        'Add a git pre-commit hook that runs `secrets scan --staged` (appended to an existing shell hook, never replacing it).',
      exclusive: ['staged', 'update-baseline', 'output'],
    }),
  }

  async run(): Promise<ScanReport | {hook: HookResult}> {
    if (this.flags['install-hook']) {
      const hook = installHook({cwd: process.cwd(), env: process.env})
      const what =
        hook.action === 'unchanged'
          ? 'is already installed in'
          : hook.action === 'created'
            ? 'installed:'
            : 'appended to'
      this.success(`pre-commit hook running \`secrets scan --staged\` ${what} ${hook.file}`)
      return {hook}
    }
    const {argv} = await this.parse(Scan)
    const report = await this.ui.progress('Scanning for hardcoded secrets', () =>
      runScan({
        session: this.session(),
        cwd: process.cwd(),
        env: process.env,
        paths: argv as string[],
        staged: this.flags.staged,
        values: this.flags.values,
        environment: this.flags.env,
        configNamed: this.flags.config !== undefined,
        baseline: this.flags.baseline,
        updateBaseline: this.flags['update-baseline'],
        maxBytes: this.flags['max-bytes'],
      }),
    )
    // Provider messages never hold values; scrub them anyway, as the error renderer does.
    for (const u of report.values.unresolved) this.ui.warn(scrub(unresolvedMessage(u)))
    if (report.values.tooShort.length > 0)
      this.ui.warn(`Values shorter than 8 characters are not looked for: ${report.values.tooShort.join(', ')}.`)
    if (report.values.note) this.ui.info(report.values.note)
    process.exitCode = report.exitCode
    if (this.jsonEnabled()) {
      // --json prints the report on stdout; -o still gets its file.
      if (this.flags.output)
        writeFileAtomic(this.flags.output, renderScanReport(report, 'json', this.config.version), 0o644)
      return report
    }
    const format = this.flags['update-baseline'] ? 'text' : (this.flags.format as 'text' | 'json' | 'sarif')
    const text = renderScanReport(report, format, this.config.version)
    if (this.flags.output) writeFileAtomic(this.flags.output, text, 0o644)
    else process.stdout.write(text)
    this.logToStderr(scanSummary(report, this.flags['max-bytes'], makeChalk(process.stderr)))
    return report
  }
}
