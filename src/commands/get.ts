import * as Args from '@oclif/core/args'

import {BaseCommand, useFallback} from '../cli/base-command.js'
import {fallbackFlags} from '../cli/flags.js'

export default class Get extends BaseCommand<typeof Get> {
  static override summary = 'Print one secret value, exactly.'
  static override description =
    'Takes a local name (DB_PASSWORD) or any reference (vault://secret/app#key, local://NAME?version=2). Prints exactly the value, with no newline added (one is added only when stdout is a terminal). With --json prints name, reference, provider, version, the provider metadata where there is some (Azure Key Vault: dates, enabled, expiry, content type, tags) and value.'
  static override examples = [
    '<%= config.bin %> get DB_PASSWORD',
    '<%= config.bin %> get local://DB_PASSWORD?version=1',
    '<%= config.bin %> get local://DB_CONFIG#password --json',
  ]

  static override args = {
    ref: Args.string({ignoreStdin: true, description: 'Local name or reference.', required: true}),
  }

  static override flags = {...fallbackFlags}

  async run(): Promise<{
    name: string
    ref: string
    provider: string
    version?: string
    metadata?: Record<string, unknown>
    value: string
    cached?: {fetched: string; ageSeconds: number}
  }> {
    useFallback(this.session(), this.flags)
    const r = await this.session().get(this.args.ref)
    if (!this.jsonEnabled()) {
      const bytes = r.value.reveal()
      process.stdout.write(bytes)
      if (process.stdout.isTTY && !bytes.toString('utf8').endsWith('\n')) process.stdout.write('\n')
    }
    return {
      name: r.ref.path,
      ref: r.ref.raw,
      provider: r.provider,
      version: r.version,
      ...(r.metadata === undefined ? {} : {metadata: r.metadata}),
      value: r.value.isEnvSafe() ? r.value.text() : r.value.reveal().toString('base64'),
      ...(r.cached ? {cached: r.cached} : {}),
    }
  }
}
