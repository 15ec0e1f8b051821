import * as Args from '@oclif/core/args'

import {BaseCommand, useFallback} from '../cli/base-command.js'
import {fallbackFlags} from '../cli/flags.js'
import {lookupName, shadowedLocal, withNamed, type NameSource} from '../core/names.js'

export default class Get extends BaseCommand<typeof Get> {
  static override summary = 'Print one secret value, exactly.'
  static override description =
    "Takes a NAME or any reference (vault://secret/app#key, local://NAME?version=2). A NAME is the variable of the selected environment (--env, SECRETS_ENV), exactly as `exec` would set it, else the local store's secret of that name. Prints exactly the value, with no newline added (one is added only when stdout is a terminal). With --json prints name, source (env, environment, files, implicit, store or reference), reference, provider, version, the provider metadata where there is some (Azure Key Vault: dates, enabled, expiry, content type, tags) and value."
  static override examples = [
    '<%= config.bin %> get DB_PASSWORD',
    '<%= config.bin %> get local://DB_PASSWORD?version=1',
    '<%= config.bin %> get local://DB_CONFIG#password --json',
  ]

  static override args = {
    ref: Args.string({
      ignoreStdin: true,
      description: 'A NAME (variable, else local secret) or a reference.',
      required: true,
    }),
  }

  static override flags = {...fallbackFlags}

  async run(): Promise<{
    name: string
    source: NameSource
    ref: string
    provider: string
    version?: string
    metadata?: Record<string, unknown>
    value: string
    cached?: {fetched: string; ageSeconds: number}
  }> {
    useFallback(this.session(), this.flags)
    const session = this.session()
    const named = await lookupName(session, this.args.ref)
    const r = await withNamed(session, named, (ref) => session.get(ref.raw))
    const hidden = await shadowedLocal(session, named, {onlyIfOpen: true})
    if (hidden !== undefined)
      this.ui.warn(
        `${named.input} is mapped to ${named.ref.raw}, which is what this printed; the local secret ${hidden.raw} of the same name is not used.`,
      )
    if (!this.jsonEnabled()) {
      const bytes = r.value.reveal()
      process.stdout.write(bytes)
      if (process.stdout.isTTY && !bytes.toString('utf8').endsWith('\n')) process.stdout.write('\n')
    }
    return {
      name: named.variable ?? r.ref.path,
      source: named.source,
      ref: r.ref.raw,
      provider: r.provider,
      version: r.version,
      ...(r.metadata === undefined ? {} : {metadata: r.metadata}),
      value: r.value.isEnvSafe() ? r.value.text() : r.value.reveal().toString('base64'),
      ...(r.cached ? {cached: r.cached} : {}),
    }
  }
}
