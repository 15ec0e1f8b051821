import * as Args from '@oclif/core/args'

import {BaseCommand} from '../cli/base-command.js'
import {listVersions} from '../core/rotation/rollback.js'
import {table} from '../cli/style.js'
import type {VersionInfo} from '../providers/types.js'

export default class Versions extends BaseCommand<typeof Versions> {
  static override summary = 'List the versions of a secret, newest first (never values).'
  static override examples = [
    '<%= config.bin %> versions DB_PASSWORD',
    '<%= config.bin %> versions aws://prod/db --json',
  ]

  static override args = {
    ref: Args.string({
      ignoreStdin: true,
      description: 'A NAME (variable, else local secret) or a reference.',
      required: true,
    }),
  }

  async run(): Promise<{ref: string; versions: VersionInfo[]}> {
    const {ref, versions} = await listVersions(this.session(), this.args.ref)
    this.log(
      table(
        ['VERSION', 'CREATED', 'CURRENT', 'LABELS'],
        versions.map((v) => [v.version, v.created ?? '', v.current ? 'yes' : '', (v.labels ?? []).join(', ')]),
      ),
    )
    return {ref: ref.raw, versions}
  }
}
