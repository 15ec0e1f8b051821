import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../cli/base-command.js'
import {readNewValue} from '../core/lib/read-input.js'
import {describeName, lookupName, mappingOrigin, shadowedLocal} from '../core/names.js'

export default class Set extends BaseCommand<typeof Set> {
  static override summary = 'Store a secret value (from stdin, a file, or a hidden prompt).'
  static override description =
    "The value is read from stdin when piped (one trailing newline is dropped from a single-line value), from --from-file exactly as the bytes are, or from a hidden prompt on a terminal. A value given as an argument is accepted with a warning: it lands in shell history and the process list. Each set keeps the previous versions. A NAME that secrets.yaml maps to a reference (for the selected environment) writes a new version at that reference, through its provider; any other NAME is the local store's secret of that name, created if new."
  static override examples = [
    'printf %s "$TOKEN" | <%= config.bin %> set API_TOKEN',
    '<%= config.bin %> set TLS_KEY --from-file server.key',
    '<%= config.bin %> set local://DB_PASSWORD   # asks on a terminal',
    '<%= config.bin %> set DATABASE_URL --env staging   # writes where staging maps DATABASE_URL',
  ]

  static override args = {
    ref: Args.string({
      ignoreStdin: true,
      description: 'A NAME (variable, else local secret) or a reference to write.',
      required: true,
    }),
    value: Args.string({
      ignoreStdin: true,
      description: 'The value (discouraged: visible in shell history and ps).',
      required: false,
    }),
  }

  static override flags = {
    'from-file': Flags.string({char: 'f', description: 'Read the value from this file (bytes kept exactly).'}),
  }

  async run(): Promise<{name?: string; ref: string; version: string}> {
    const session = this.session()
    const named = await lookupName(session, this.args.ref)
    const hidden = await shadowedLocal(session, named)
    if (hidden !== undefined)
      this.ui.warn(
        `${named.input} is mapped to ${named.ref.raw} (${mappingOrigin(named, session.config.file)}), so this writes there; the local secret ${hidden.raw} of the same name is not used.`,
      )
    const value = await readNewValue({
      argvValue: this.args.value,
      fromFile: this.flags['from-file'],
      name: describeName(named),
      ui: this.ui,
    })
    const r = await session.set(named.ref.raw, value)
    this.success(`${describeName(named)} is now version ${r.version}`)
    return {...(named.variable === undefined ? {} : {name: named.variable}), ref: r.ref.raw, version: r.version}
  }
}
