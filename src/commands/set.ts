import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../cli/base-command.js'
import {readNewValue} from '../core/lib/read-input.js'

export default class Set extends BaseCommand<typeof Set> {
  static override summary = 'Store a secret value (from stdin, a file, or a hidden prompt).'
  static override description =
    'The value is read from stdin when piped (one trailing newline is dropped from a single-line value), from --from-file exactly as the bytes are, or from a hidden prompt on a terminal. A value given as an argument is accepted with a warning: it lands in shell history and the process list. Each set keeps the previous versions.'
  static override examples = [
    'printf %s "$TOKEN" | <%= config.bin %> set API_TOKEN',
    '<%= config.bin %> set TLS_KEY --from-file server.key',
    '<%= config.bin %> set local://DB_PASSWORD   # asks on a terminal',
  ]

  static override args = {
    ref: Args.string({ignoreStdin: true, description: 'Local name or reference to write.', required: true}),
    value: Args.string({
      ignoreStdin: true,
      description: 'The value (discouraged: visible in shell history and ps).',
      required: false,
    }),
  }

  static override flags = {
    'from-file': Flags.string({char: 'f', description: 'Read the value from this file (bytes kept exactly).'}),
  }

  async run(): Promise<{ref: string; version: string}> {
    const session = this.session()
    const ref = session.toReference(this.args.ref)
    const value = await readNewValue({
      argvValue: this.args.value,
      fromFile: this.flags['from-file'],
      name: ref.raw,
      ui: this.ui,
    })
    const r = await session.set(ref.raw, value)
    this.success(`${r.ref.raw} is now version ${r.version}`)
    return {ref: r.ref.raw, version: r.version}
  }
}
