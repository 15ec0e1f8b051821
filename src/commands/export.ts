import {appendFileSync} from 'node:fs'

import * as Flags from '@oclif/core/flags'

import {BaseCommand, useFallback} from '../cli/base-command.js'
import {fallbackFlags} from '../cli/flags.js'
import {actorLabel} from '../core/actor.js'
import {writeOutputFile} from '../core/lib/output-file.js'
import {asText, resolveEnvironment} from '../core/environment.js'
import {SecretsError, fsError} from '../errors.js'
import {
  EXPORT_FORMATS,
  formatEntries,
  githubEnvBlock,
  githubMasks,
  type ExportFormat,
} from '../output/export-formats.js'

export default class Export extends BaseCommand<typeof Export> {
  static override summary =
    'Print or write the resolved environment as dotenv, JSON, YAML, shell or GitHub Actions env.'
  static override description = `Resolves every variable of the environment (all local secrets under their own names, plus env: references) and writes them with exact quoting: every value, multiline ones and ones holding $, quotes and backslashes, reads back byte for byte (dotenv through the dotenv package and Node's --env-file; shell through eval).

--format github prints ::add-mask:: for every value on stdout and appends the heredoc form to $GITHUB_ENV (or to --output).
--output writes atomically with mode 0600. With --json, only the names are printed, never values.`
  static override examples = [
    '<%= config.bin %> export > .env',
    'eval "$(<%= config.bin %> export --format shell)"',
    '<%= config.bin %> export --format github   # in a GitHub Actions step',
    '<%= config.bin %> export --format json --only DB_URL --only API_KEY -o secrets.json',
  ]

  static override flags = {
    format: Flags.string({char: 'F', description: 'Output format.', options: [...EXPORT_FORMATS], default: 'dotenv'}),
    output: Flags.string({char: 'o', description: 'Write to this file (atomically, mode 0600) instead of stdout.'}),
    only: Flags.string({description: 'Only this variable (repeatable).', multiple: true}),
    'allow-missing': Flags.boolean({
      description: 'Leave out variables whose secret does not exist (with a warning) instead of failing.',
    }),
    encrypt: Flags.boolean({
      description:
        'Write an encrypted file in the local store format instead (for `secrets exec --from-file`); needs --output and --recipient.',
      dependsOn: ['output', 'recipient'],
    }),
    recipient: Flags.string({
      description: 'With --encrypt: an age public key (age1...) that may open the file (repeatable).',
      multiple: true,
      dependsOn: ['encrypt'],
    }),
    ...fallbackFlags,
  }

  async run(): Promise<{format: string; output?: string; variables: string[]}> {
    const format = this.flags.format as ExportFormat
    useFallback(this.session(), this.flags)
    const {resolved} = await resolveEnvironment(this.session(), {
      environment: this.flags.env,
      only: this.flags.only,
      allowMissing: this.flags['allow-missing'],
    })
    const entries = asText(resolved)
    const names = entries.map((e) => e.name)
    if (this.flags.encrypt) {
      const {writeEncryptedEnv} = await import('../core/on-demand.js')
      await writeEncryptedEnv(
        this.flags.output!,
        this.flags.recipient ?? [],
        resolved,
        actorLabel(this.session().actor),
      )
      this.success(
        `${names.length} variable(s) encrypted to ${this.flags.recipient!.length} recipient(s) in ${this.flags.output}`,
      )
      return {format: 'encrypted', output: this.flags.output, variables: names}
    }
    if (format === 'github') {
      const target = this.flags.output ?? process.env.GITHUB_ENV
      if (!target) {
        throw new SecretsError('USAGE', '--format github appends to the file named by $GITHUB_ENV, which is not set.', {
          suggestions: ['Run it inside a GitHub Actions step, or pass --output FILE.'],
        })
      }
      // Masks first, so the values are hidden from the log before anything can print them.
      process.stdout.write(entries.map((e) => githubMasks(e.value)).join(''))
      try {
        appendFileSync(target, entries.map((e) => githubEnvBlock(e)).join(''), {mode: 0o600})
      } catch (error) {
        throw fsError(error, target, 'appending to')
      }
      this.success(`${names.length} variable(s) appended to ${target}`)
      return {format, output: target, variables: names}
    }
    const text = formatEntries(entries, format)
    if (this.flags.output) {
      writeOutputFile(this.flags.output, text, {
        holds: 'an export',
        secrets: 'exported secrets',
        warn: (m) => this.ui.warn(m),
      })
      this.success(`${names.length} variable(s) written to ${this.flags.output}`)
    } else if (!this.jsonEnabled()) {
      process.stdout.write(text)
    }
    return {format, output: this.flags.output, variables: names}
  }
}
