import type {TokenCredential} from '@azure/identity'
import {SecretClient, type SecretProperties} from '@azure/keyvault-secrets'

import {checkParams, type Reference} from '../../core/reference.js'
import {SecretValue} from '../../core/secret-value.js'
import {SecretsError} from '../../errors.js'
import type {
  Capabilities,
  DeleteOptions,
  ProviderContext,
  ReadOutcome,
  SecretMeta,
  SecretProvider,
  TrailEvent,
  TrailOptions,
  VersionInfo,
} from '../types.js'
import {
  type AzureSettings,
  AzureSignIn,
  checkVaultUrl,
  countSetting,
  keyVaultClientOptions,
  vaultUrlFor,
  vaultsOf,
} from './credential.js'
import {azureError, disabledError, validityError, type AzureErrorContext} from './errors.js'
import {NAME_TAG, azureSecretName, collisionError, findCollisions, ROTATION_OF_TAG, type Target} from './names.js'
import {discardPending, promote, readPending, restoreVersion, versions, writePending} from './rotation.js'

const CAPABILITIES: Capabilities = {
  batchSize: Number.POSITIVE_INFINITY,
  params: ['version', 'contentType'],
}

/** Tags on a staging secret's versions (never values): which secret, which state, which base version. */

/** Azure Key Vault secrets through @azure/keyvault-secrets, signed in with @azure/identity. */
export class AzureProvider implements SecretProvider {
  readonly type = 'azure'
  readonly capabilities = CAPABILITIES
  readonly alias: string
  private readonly settings: AzureSettings
  private readonly vaultUrl: string
  private readonly vaults: Map<string, string>
  private readonly clients = new Map<string, SecretClient>()
  private readonly concurrency: number
  readonly maxRetries: number
  private readonly signIn: AzureSignIn
  readonly login: string

  constructor(ctx: ProviderContext) {
    this.alias = ctx.config.alias
    this.settings = ctx.config.settings as AzureSettings
    const env = ctx.env
    const url = env.AZURE_KEYVAULT_URL ?? this.settings.vaultUrl
    if (typeof url !== 'string' || url === '') {
      throw new SecretsError(
        'CONFIG_INVALID',
        `Provider ${this.alias} (azure) needs \`vaultUrl\` (e.g. https://my-vault.vault.azure.net) in ${ctx.project.file}, or AZURE_KEYVAULT_URL.`,
        {
          suggestions: [`Add \`vaultUrl: https://<vault-name>.vault.azure.net\` under providers.${this.alias}.`],
        },
      )
    }
    this.vaultUrl = checkVaultUrl(url, `providers.${this.alias}.vaultUrl`)
    this.vaults = vaultsOf(this.settings, this.alias)
    this.concurrency = countSetting(this.settings.concurrency, 8)
    this.maxRetries = countSetting(this.settings.maxRetries, 3)
    this.signIn = new AzureSignIn(this.alias, this.settings, env)
    this.login = this.signIn.login
  }

  client(url: string): SecretClient {
    let c = this.clients.get(url)
    if (c === undefined) {
      c = new SecretClient(url, this.signIn.credential(), keyVaultClientOptions(this.settings, this.maxRetries))
      this.clients.set(url, c)
    }
    return c
  }

  /** `name` against vaultUrl, or `vault/name` against another vault. */
  target(ref: Reference): Target {
    const parts = ref.path.split('/')
    if (parts.length > 2) {
      throw new SecretsError(
        'REFERENCE_INVALID',
        `Invalid reference ${ref.raw}: an Azure reference is ${this.alias}://<secret-name> or ${this.alias}://<vault-name>/<secret-name>.`,
        {ref: ref.raw},
      )
    }
    const secretPath = parts.at(-1)!
    const {name, mapped} = azureSecretName(secretPath, ref.raw)
    if (parts.length === 1) return {vault: this.vaultUrl, url: this.vaultUrl, name, mapped}
    const vaultName = parts[0]
    if (!/^[A-Za-z0-9-]{3,24}$/.test(vaultName)) {
      throw new SecretsError(
        'REFERENCE_INVALID',
        `Invalid reference ${ref.raw}: "${vaultName}" is not a Key Vault name (3-24 letters, digits and "-").`,
        {ref: ref.raw},
      )
    }
    const url = vaultUrlFor(vaultName, this.settings, this.vaults)
    return {vault: url, url, name, mapped}
  }

  errorContext(t: Target, ref: Reference | undefined, op: AzureErrorContext['op']): AzureErrorContext {
    return {vault: t.vault, secret: t.name, ref: ref?.raw, op, login: this.login}
  }

  async read(refs: Reference[]): Promise<ReadOutcome[]> {
    for (const ref of refs) checkParams(ref, ['version'])
    const collisions = findCollisions(refs.map((r) => ({path: r.path.split('/').at(-1)!, raw: r.raw})))
    if (collisions.length > 0) throw collisionError(collisions[0].name, collisions[0].refs)
    const out: ReadOutcome[] = Array.from({length: refs.length})
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < refs.length) {
        const i = next++

        out[i] = await this.readOne(refs[i])
      }
    }
    await Promise.all(Array.from({length: Math.min(this.concurrency, refs.length)}, worker))
    // A failure to sign in is the same for every reference: report it once, for the whole provider.
    const auth = out.find((o) => !o.ok && (o.error.code === 'IDENTITY_MISSING' || /sign-in/.test(o.error.message)))
    if (auth !== undefined && !auth.ok && out.every((o) => !o.ok)) throw auth.error
    return out
  }

  private async readOne(ref: Reference): Promise<ReadOutcome> {
    let t: Target
    try {
      t = this.target(ref)
    } catch (error) {
      if (error instanceof SecretsError) return {ok: false, ref, error}
      throw error
    }
    const ctx = this.errorContext(t, ref, 'read')
    try {
      const secret = await this.client(t.url).getSecret(
        t.name,
        ref.params.version === undefined ? {} : {version: ref.params.version},
      )
      const p = secret.properties
      const original = p.tags?.[NAME_TAG]
      if (t.mapped && original !== undefined && original !== ref.path.split('/').at(-1)) {
        return {ok: false, ref, error: collisionError(t.name, [ref.raw, `${original} (which wrote it)`])}
      }
      if (p.enabled === false) return {ok: false, ref, error: disabledError(ctx)}
      const now = Date.now()
      if (p.expiresOn !== undefined && p.expiresOn.getTime() <= now)
        return {ok: false, ref, error: validityError(ctx, 'expired', p.expiresOn)}
      if (p.notBefore !== undefined && p.notBefore.getTime() > now)
        return {ok: false, ref, error: validityError(ctx, 'not-yet-valid', p.notBefore)}
      if (secret.value === undefined)
        return {
          ok: false,
          ref,
          error: new SecretsError('NOT_FOUND', `The secret "${t.name}" in vault ${t.vault} has no value.`, {
            ref: ref.raw,
          }),
        }
      return {ok: true, ref, value: new SecretValue(secret.value), version: p.version, metadata: metadataOf(p)}
    } catch (error) {
      return {ok: false, ref, error: azureError(error, ctx)}
    }
  }

  async list(): Promise<SecretMeta[]> {
    const t: Target = {vault: this.vaultUrl, url: this.vaultUrl, name: '', mapped: false}
    const out: SecretMeta[] = []
    try {
      for await (const p of this.client(this.vaultUrl).listPropertiesOfSecrets()) {
        if (p.managed || p.tags?.[ROTATION_OF_TAG] !== undefined) continue
        out.push({
          name: p.name,
          ref: `${this.alias}://${p.name}`,
          version: p.version,
          updated: p.updatedOn?.toISOString(),
          details: metadataOf(p),
        })
      }
    } catch (error) {
      throw azureError(error, {...this.errorContext(t, undefined, 'list'), secret: undefined})
    }
    return out.sort((a, b) => a.name.localeCompare(b.name))
  }

  /**
   * The newest version's properties from the versions list (what Key Vault serves as current), so no
   * value is fetched; Get Secret would return it.
   */
  async describe(ref: Reference): Promise<SecretMeta> {
    const t = this.target(ref)
    const props: SecretProperties[] = []
    try {
      for await (const p of this.client(t.url).listPropertiesOfSecretVersions(t.name)) props.push(p)
    } catch (error) {
      throw azureError(error, this.errorContext(t, ref, 'read'))
    }
    const newest = props
      .map((p, i) => ({p, i}))
      .sort((a, b) => (b.p.createdOn?.getTime() ?? 0) - (a.p.createdOn?.getTime() ?? 0) || b.i - a.i)[0]?.p
    if (newest === undefined)
      throw new SecretsError('NOT_FOUND', `The secret "${t.name}" in vault ${t.vault} does not exist.`, {ref: ref.raw})
    const original = newest.tags?.[NAME_TAG]
    if (t.mapped && original !== undefined && original !== ref.path.split('/').at(-1))
      throw collisionError(t.name, [ref.raw, `${original} (which wrote it)`])
    return {
      name: ref.path,
      ref: `${this.alias}://${ref.path}`,
      ...(newest.version === undefined ? {} : {version: newest.version}),
      versions: props.length,
      ...(newest.updatedOn === undefined ? {} : {updated: newest.updatedOn.toISOString()}),
      details: metadataOf(newest),
    }
  }

  async write(ref: Reference, value: SecretValue): Promise<{version: string}> {
    checkParams(ref, ['contentType'])
    if (ref.field !== undefined) {
      throw new SecretsError('USAGE', `Cannot write ${ref.raw}: a Key Vault secret is written whole, without #field.`, {
        ref: ref.raw,
        suggestions: [`Use ${this.alias}://${ref.path}.`],
      })
    }
    const t = this.target(ref)
    const ctx = this.errorContext(t, ref, 'write')
    const text = value.text()
    if (!Buffer.from(text, 'utf8').equals(value.reveal())) {
      throw new SecretsError(
        'USAGE',
        `Cannot write ${ref.raw}: Key Vault secrets are text, and this value is not valid UTF-8.`,
        {ref: ref.raw, suggestions: ['Encode binary data (e.g. base64) before storing it.']},
      )
    }
    const variable = ref.path.split('/').at(-1)!
    const client = this.client(t.url)
    try {
      if (t.mapped) await this.checkWriteCollision(client, t, ref, variable)
      const tags: Record<string, string> = {'managed-by': 'secrets'}
      if (t.mapped) tags[NAME_TAG] = variable
      const contentType = ref.params.contentType
      const r = await client.setSecret(t.name, text, {tags, ...(contentType === undefined ? {} : {contentType})})
      return {version: r.properties.version ?? ''}
    } catch (error) {
      throw azureError(error, ctx)
    }
  }

  /** A mapped name must not overwrite a secret another variable-style name wrote (DB_PASSWORD vs db_password). */
  private async checkWriteCollision(client: SecretClient, t: Target, ref: Reference, variable: string): Promise<void> {
    try {
      const existing = await client.getSecret(t.name)
      const original = existing.properties.tags?.[NAME_TAG]
      if (original !== undefined && original !== variable)
        throw collisionError(t.name, [ref.raw, `${original} (which wrote it)`])
    } catch (error) {
      const status = (error as {statusCode?: number}).statusCode
      if (status === 404 || status === 403) return
      throw error
    }
  }

  /** Soft delete (recoverable until the vault's retention period ends); `force` then purges it for good. */
  async delete(ref: Reference, options: DeleteOptions = {}): Promise<{versions: number; recoverableUntil?: string}> {
    checkParams(ref, [])
    const t = this.target(ref)
    const client = this.client(t.url)
    try {
      let versions = 0
      for await (const _ of client.listPropertiesOfSecretVersions(t.name)) versions++
      if (versions === 0)
        throw new SecretsError('NOT_FOUND', `The secret "${t.name}" in vault ${t.vault} does not exist.`, {
          ref: ref.raw,
        })
      // Soft delete: the first response already marks it deleted; recovery stays possible for the retention period.
      const poller = await client.beginDeleteSecret(t.name, {intervalInMs: 500})
      if (options.force) {
        // A purge is refused while the deletion is still in progress: wait until it is listed as deleted.
        await poller.pollUntilDone()
        // Through purge(), so a refused purge names the purge permission, not the delete one just used.
        await this.purge(ref)
        return {versions}
      }
      const purgeDate = poller.getResult()?.properties.scheduledPurgeDate
      return {versions, ...(purgeDate === undefined ? {} : {recoverableUntil: purgeDate.toISOString()})}
    } catch (error) {
      throw azureError(error, this.errorContext(t, ref, 'delete'))
    }
  }

  /** The credential this provider signs in with (shared with the Log Analytics client of `audit trail`). */
  tokenCredential(): TokenCredential {
    return this.signIn.credential()
  }

  /** The vault URL and Key Vault name a reference points at. */
  secretTarget(ref: Reference): {url: string; name: string} {
    const t = this.target(ref)
    return {url: t.url, name: t.name}
  }

  /** AuditEvent diagnostic logs of the configured secrets, from the Log Analytics workspace. */
  // Key Vault AuditEvent logs in Log Analytics (azure/trail.ts, loaded only by `audit trail`).
  async trail(options: TrailOptions): Promise<TrailEvent[]> {
    const {keyVaultLogs} = await import('./trail.js')
    return keyVaultLogs(
      this,
      {
        workspaceId: this.settings.logAnalyticsWorkspaceId,
        endpoint: this.settings.logAnalyticsEndpoint,
        table: this.settings.logAnalyticsTable,
      },
      options,
    )
  }

  /** Recover a soft-deleted secret with all its versions (`secrets restore`); waits until it is readable again. */
  async restore(ref: Reference): Promise<void> {
    checkParams(ref, [])
    const t = this.target(ref)
    try {
      const poller = await this.client(t.url).beginRecoverDeletedSecret(t.name, {intervalInMs: 500})
      await poller.pollUntilDone()
    } catch (error) {
      throw azureError(error, this.errorContext(t, ref, 'recover'))
    }
  }

  /** Erase a soft-deleted secret for good (`secrets purge`). */
  async purge(ref: Reference): Promise<void> {
    checkParams(ref, [])
    const t = this.target(ref)
    try {
      await this.client(t.url).purgeDeletedSecret(t.name)
    } catch (error) {
      throw azureError(error, this.errorContext(t, ref, 'purge'))
    }
  }

  // The pending value waits, enabled, in a staging secret `<name>-pending`: rotation.ts.
  writePending(ref: Reference, value: SecretValue, o: {base: string}): Promise<{pending: string}> {
    return writePending(this, ref, value, o)
  }

  readPending(ref: Reference, pending: string): Promise<SecretValue> {
    return readPending(this, ref, pending)
  }

  promote(ref: Reference, o: {base: string; pending: string}): Promise<{version: string}> {
    return promote(this, ref, o)
  }

  discardPending(ref: Reference, o: {pending?: string}): Promise<void> {
    return discardPending(this, ref, o)
  }

  versions(ref: Reference): Promise<VersionInfo[]> {
    return versions(this, ref)
  }

  restoreVersion(ref: Reference, o: {version: string; expected: string}): Promise<{version: string}> {
    return restoreVersion(this, ref, o)
  }

  async check(): Promise<string> {
    const t: Target = {vault: this.vaultUrl, url: this.vaultUrl, name: '', mapped: false}
    try {
      const page = await this.client(this.vaultUrl).listPropertiesOfSecrets().byPage({maxPageSize: 1}).next()
      const n = page.done ? 0 : page.value.length
      return `${this.vaultUrl}: signed in (${this.login}), can list secrets${n === 0 ? ' (none yet)' : ''}`
    } catch (error) {
      throw azureError(error, {...this.errorContext(t, undefined, 'check'), secret: undefined})
    }
  }
}

/** What Key Vault says about one version of a secret (never its value), for `list --json` and `get --json`. */
function metadataOf(p: SecretProperties): Record<string, unknown> {
  const iso = (d: Date | undefined) => d?.toISOString()
  const out: Record<string, unknown> = {
    enabled: p.enabled,
    created: iso(p.createdOn),
    updated: iso(p.updatedOn),
    expires: iso(p.expiresOn),
    notBefore: iso(p.notBefore),
    contentType: p.contentType,
    tags: p.tags,
    recoveryLevel: p.recoveryLevel,
    recoverableDays: p.recoverableDays,
  }
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined))
}
