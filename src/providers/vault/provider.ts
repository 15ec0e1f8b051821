import {createRequire} from 'node:module'

import NodeVault from 'node-vault'

import type {Reference} from '../../core/reference.js'
import {SecretValue} from '../../core/secret-value.js'
import {SecretsError} from '../../errors.js'
import type {
  Capabilities,
  ProviderContext,
  ReadOutcome,
  SecretMeta,
  SecretProvider,
  TrailEvent,
  VersionInfo,
} from '../types.js'
import {authenticate, type VaultLogin} from './auth.js'
import {isRetryable, statusOf, toSecretsError, type FailureContext} from './errors.js'
import {probeTls} from './tls-probe.js'
import type {VaultTrailOptions} from './trail.js'
import {encodePath, fieldMap, type Location} from './location.js'
import {forReference, groupReads} from './read.js'
import {listSecrets} from './list.js'
import {discardPending, promote, readPending, writePending} from './rotation.js'
import {resolveSettings, type VaultSettings, type VaultYamlSettings} from './settings.js'

const CAPABILITIES: Capabilities = {
  // Core hands every reference over at once; the provider batches them by path itself.
  batchSize: Number.POSITIVE_INFINITY,
  params: ['version'],
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * `DEBUG=*` must not print tokens or values: follow-redirects (under axios) logs every request's headers
 * and node-vault logs request bodies through the `debug` package. Exclude their namespaces in each copy
 * of `debug` they load, keeping whatever else the user asked for.
 */
function silenceHttpDebugLogs(): void {
  try {
    const require = createRequire(import.meta.url)
    const vaultEntry = require.resolve('node-vault')
    const redirects = createRequire(createRequire(vaultEntry).resolve('axios')).resolve('follow-redirects')
    for (const from of [vaultEntry, redirects]) {
      const debug = createRequire(from)('debug') as {load(): string | undefined; enable(namespaces: string): void}
      const current = debug.load()
      if (current && !current.includes('-follow-redirects')) debug.enable(`${current},-follow-redirects,-node-vault`)
    }
  } catch {
    // No debug package to configure: nothing can log.
  }
}

/** HashiCorp Vault KV v1 and v2 through node-vault. */
export class VaultProvider implements SecretProvider {
  readonly type = 'vault'
  readonly capabilities = CAPABILITIES
  readonly alias: string
  readonly settings: VaultSettings
  readonly client: NodeVault.client
  private login?: Promise<VaultLogin>
  private scrub: string[] = []
  readonly mounts = new Map<string, 1 | 2>()

  constructor(private readonly ctx: ProviderContext) {
    this.alias = ctx.config.alias
    this.settings = resolveSettings(this.alias, ctx.config.settings as VaultYamlSettings, ctx.env, ctx.project.dir)
    for (const [mount, version] of this.settings.kv) this.mounts.set(mount, version)
    const {tls} = this.settings
    if (tls.skipVerify && this.settings.address.startsWith('https:')) {
      ctx.ui.warn(
        `VAULT_SKIP_VERIFY is set: the TLS certificate of Vault at ${this.settings.address} is NOT verified, so anyone on the network path can read your secrets and token. Unset it and set VAULT_CACERT instead.`,
      )
    }
    silenceHttpDebugLogs()
    const agentOptions: Record<string, unknown> = {}
    if (tls.serverName) agentOptions.servername = tls.serverName
    this.client = NodeVault({
      // node-vault's own debug log (DEBUG=node-vault) prints request bodies: secret values and login credentials.
      debug: () => undefined,
      endpoint: this.settings.address,
      namespace: this.settings.namespace,
      requestOptions: {
        timeout: this.settings.timeoutMs,
        strictSSL: !tls.skipVerify,
        ...(tls.ca ? {ca: tls.ca} : {}),
        ...(tls.cert ? {cert: tls.cert, key: tls.key} : {}),
        ...(Object.keys(agentOptions).length > 0 ? {agentOptions} : {}),
      } as never,
    })
    // node-vault falls back to process.env.VAULT_TOKEN; the token is set only after authenticate().
    this.client.token = undefined as unknown as string
  }

  /** Run one request, retrying 429, 5xx and dropped connections with exponential backoff and jitter. */
  private async raw<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn()
      } catch (error) {
        if (attempt >= this.settings.retries || !isRetryable(error)) {
          if (
            statusOf(error) === undefined &&
            (error as {code?: string}).code === 'ECONNRESET' &&
            this.settings.address.startsWith('https:')
          ) {
            throw (await probeTls(this.settings)) ?? error
          }
          throw error
        }
        const base = Math.min(2000, 100 * 2 ** attempt)

        await sleep(base / 2 + (Math.random() * base) / 2)
      }
    }
  }

  async call<T>(fn: () => Promise<T>, ctx: Omit<FailureContext, 'address'>): Promise<T> {
    await this.authenticated()
    try {
      return await this.raw(fn)
    } catch (error) {
      throw toSecretsError(error, {...ctx, address: this.settings.address}, this.scrub)
    }
  }

  authenticated(): Promise<VaultLogin> {
    this.login ??= authenticate(this.client, this.settings, this.ctx.env, this.alias, (fn) => this.raw(fn)).then(
      (login) => {
        this.scrub = login.scrub
        this.client.token = login.token
        if (login.obtained && login.ttl > 0) {
          // Keep an obtained token alive while a long-running command (exec --watch) needs it.
          this.client.startTokenRenewal({ttl: login.ttl}).catch(() => undefined)
        }
        return login
      },
    )
    return this.login
  }

  /** Find the KV mount of `path`: pinned in secrets.yaml (`kv:`), cached, or asked of sys/internal/ui/mounts. */
  private async locate(path: string, ref?: string): Promise<Location> {
    const known = [...this.mounts.keys()]
      .filter((m) => path === m || path.startsWith(`${m}/`))
      .sort((a, b) => b.length - a.length)[0]
    let mount = known
    if (mount === undefined) {
      const api = `sys/internal/ui/mounts/${encodePath(path)}`
      let data: {path?: string; type?: string; options?: {version?: string} | null} | undefined
      try {
        data = (
          await this.call(() => this.client.read(api), {
            op: 'look up the secrets engine of',
            path: api,
            ref,
            capability: 'read',
          })
        )?.data
      } catch (error) {
        if (error instanceof SecretsError && (error.cause as {status?: number} | undefined)?.status === 403) {
          throw new SecretsError(
            'PERMISSION_DENIED',
            `Vault denied looking up the secrets engine of ${path}${ref ? ` (${ref})` : ''}: the token has no capability on that mount.`,
            {
              ref,
              suggestions: [
                'Ask for a policy granting access under this mount, or pin the KV version with `kv: {<mount>: 2}` in secrets.yaml if the token may read only some paths.',
              ],
            },
          )
        }
        throw error
      }
      if (data?.path === undefined)
        throw new SecretsError(
          'NOT_FOUND',
          `No secrets engine is mounted at ${path} in Vault${ref ? ` (${ref})` : ''}.`,
          {ref},
        )
      if (data.type !== 'kv' && data.type !== 'generic') {
        throw new SecretsError(
          'UNSUPPORTED',
          `${ref ?? path} is in a ${data.type} secrets engine (mount ${data.path}); the vault provider reads KV v1 and v2 mounts.`,
          {ref},
        )
      }
      mount = data.path.replace(/\/+$/, '')
      this.mounts.set(mount, data.options?.version === '2' ? 2 : 1)
    }
    const rest = path === mount ? '' : path.slice(mount.length + 1)
    if (rest === '') {
      throw new SecretsError('REFERENCE_INVALID', `${ref ?? path} names the mount ${mount}, not a secret in it.`, {
        ref,
        suggestions: [`Add the secret's path: ${this.alias}://${mount}/<path>#<field>.`],
      })
    }
    return {mount, version: this.mounts.get(mount)!, rest}
  }

  private dataPath(loc: Location): string {
    return loc.version === 2 ? `${loc.mount}/data/${encodePath(loc.rest)}` : `${loc.mount}/${encodePath(loc.rest)}`
  }

  /** KV v2's metadata endpoint of a location (versions, delete with history). */
  private metadataPath(loc: Location): string {
    return `${loc.mount}/metadata/${encodePath(loc.rest)}`
  }

  /** Read the map at a location. Undefined when there is none (for KV v2: `current` is the metadata's version even if deleted). */
  private async readMap(
    loc: Location,
    version: number | undefined,
    ref: string,
  ): Promise<{data?: Record<string, unknown>; version?: number; deletedAt?: string}> {
    const api = this.dataPath(loc)
    try {
      const res = await this.call(() => this.client.read(version === undefined ? api : `${api}?version=${version}`), {
        op: 'read',
        path: api,
        ref,
        capability: 'read',
      })
      if (loc.version === 1) return {data: res?.data ?? {}}
      return {data: res?.data?.data ?? {}, version: res?.data?.metadata?.version}
    } catch (error) {
      const cause = (error as SecretsError).cause as {status?: number} | undefined
      if (error instanceof SecretsError && error.code === 'NOT_FOUND' && cause?.status === 404) {
        return {}
      }
      throw error
    }
  }

  async read(refs: Reference[]): Promise<ReadOutcome[]> {
    await this.authenticated()
    const outcomes: ReadOutcome[] = Array.from({length: refs.length})
    const groups = groupReads(refs, outcomes, CAPABILITIES.params)
    const located = new Map<string, Location | SecretsError>()
    for (const g of groups.values()) {
      if (located.has(g.path)) continue
      try {
        located.set(g.path, await this.locate(g.path, refs[g.indexes[0]].raw))
      } catch (error) {
        if (!(error instanceof SecretsError)) throw error
        located.set(g.path, error)
      }
    }
    await Promise.all(
      [...groups.values()].map(async (g) => {
        const first = refs[g.indexes[0]]
        const fail = (error: SecretsError): void => {
          for (const i of g.indexes)
            outcomes[i] = {
              ok: false,
              ref: refs[i],
              error: forReference(error, first, refs[i]),
            }
        }
        const loc = located.get(g.path)!
        if (loc instanceof SecretsError) return fail(loc)
        if (loc.version === 1 && g.version !== undefined) {
          return fail(
            new SecretsError(
              'UNSUPPORTED',
              `${first.raw} asks for a version, but ${loc.mount} is a KV v1 mount, which keeps no versions.`,
              {ref: first.raw},
            ),
          )
        }
        try {
          const r = await this.readMap(loc, g.version, first.raw)
          if (r.data === undefined) {
            const what =
              g.version === undefined ? first.raw.split('#')[0].split('?')[0] : `Version ${g.version} of ${first.path}`
            return fail(
              new SecretsError('NOT_FOUND', `${what} does not exist in Vault (or was deleted).`, {
                ref: first.raw,
                suggestions: [`See what exists with \`secrets list ${this.alias}\`.`],
              }),
            )
          }
          const value = new SecretValue(JSON.stringify(r.data))
          for (const i of g.indexes)
            outcomes[i] = {
              ok: true,
              ref: refs[i],
              value,
              version: r.version === undefined ? undefined : String(r.version),
            }
        } catch (error) {
          if (!(error instanceof SecretsError)) throw error
          fail(error)
        }
      }),
    )
    return outcomes
  }

  async write(ref: Reference, value: SecretValue): Promise<{version: string}> {
    if (Object.keys(ref.params).length > 0) {
      throw new SecretsError(
        'USAGE',
        `Cannot write ${ref.raw}: a write always creates a new version; drop the ?${Object.keys(ref.params)[0]}= part.`,
        {ref: ref.raw},
      )
    }
    await this.authenticated()
    const loc = await this.locate(ref.path, ref.raw)
    let fields: Record<string, unknown> | undefined
    if (ref.field === undefined) {
      fields = fieldMap(value)
      if (fields === undefined) {
        throw new SecretsError(
          'USAGE',
          `Cannot write ${ref.raw}: a Vault secret is a map of fields, so the value must be a JSON object, or name the field to set.`,
          {
            ref: ref.raw,
            suggestions: [`Set one field with ${ref.raw}#<field>, or pipe a JSON object such as {"password": "..."}.`],
          },
        )
      }
    }
    // Read the current version first and write with check-and-set, so a concurrent writer is a CONFLICT, not lost.
    const current = await this.currentForWrite(loc, ref.raw)
    const data = fields ?? {...current.data, [ref.field!]: value.text()}
    const api = this.dataPath(loc)
    if (loc.version === 1) {
      await this.call(() => this.client.write(api, data), {
        op: 'write',
        path: api,
        ref: ref.raw,
        capability: current.exists ? 'update' : 'create',
      })
      return {version: '1'}
    }
    const res = await this.call(() => this.client.write(api, {options: {cas: current.version}, data}), {
      op: 'write',
      path: api,
      ref: ref.raw,
      capability: current.exists ? 'update' : 'create',
    })
    return {version: String(res?.data?.version ?? current.version + 1)}
  }

  /** The map to start from and the version a check-and-set write must name (0: no secret yet). */
  async currentForWrite(
    loc: Location,
    ref: string,
  ): Promise<{data: Record<string, unknown>; version: number; exists: boolean}> {
    if (loc.version === 1) {
      const r = await this.readMap(loc, undefined, ref)
      return {data: r.data ?? {}, version: 0, exists: r.data !== undefined}
    }
    // The data path answers with the current version even when it is soft-deleted (a 404 whose body
    // still carries the metadata), so one read gives the check-and-set version under a data-only policy.
    const api = this.dataPath(loc)
    await this.authenticated()
    try {
      const res = await this.raw(() => this.client.read(api))
      return {data: res?.data?.data ?? {}, version: res?.data?.metadata?.version ?? 0, exists: true}
    } catch (error) {
      if (statusOf(error) === 404) {
        const version =
          (error as {response?: {body?: {data?: {metadata?: {version?: number}}}}}).response?.body?.data?.metadata
            ?.version ?? 0
        return {data: {}, version, exists: version > 0}
      }
      throw toSecretsError(
        error,
        {op: 'read', path: api, ref, capability: 'read', address: this.settings.address},
        this.scrub,
      )
    }
  }

  async delete(ref: Reference): Promise<{versions: number}> {
    if (Object.keys(ref.params).length > 0) {
      throw new SecretsError(
        'USAGE',
        `Cannot delete ${ref.raw}: delete removes a secret with all its versions (or one #field); give it without ?${Object.keys(ref.params)[0]}=.`,
        {
          ref: ref.raw,
          suggestions: [`Use ${this.alias}://${ref.path}${ref.field === undefined ? '' : `#${ref.field}`}.`],
        },
      )
    }
    await this.authenticated()
    if (ref.field !== undefined) {
      const removed = await this.deleteField(ref)
      if (removed !== undefined) return removed
    }
    const loc = await this.locate(ref.path, ref.raw)
    if (loc.version === 1) {
      const r = await this.readMap(loc, undefined, ref.raw)
      if (r.data === undefined)
        throw new SecretsError('NOT_FOUND', `${ref.raw} does not exist in Vault.`, {ref: ref.raw})
      const api = this.dataPath(loc)
      await this.call(() => this.client.delete(api), {op: 'delete', path: api, ref: ref.raw, capability: 'delete'})
      return {versions: 1}
    }
    const api = this.metadataPath(loc)
    const meta = (
      await this.call(() => this.client.read(api), {
        op: 'read the metadata of',
        path: api,
        ref: ref.raw,
        capability: 'read',
      })
    )?.data
    await this.call(() => this.client.delete(api), {op: 'delete', path: api, ref: ref.raw, capability: 'delete'})
    return {versions: Object.keys(meta?.versions ?? {}).length}
  }

  /**
   * Remove one field: a new version without it (check-and-set on KV v2), history kept, so no version
   * is removed (0). Undefined when it was the last field: then the whole secret goes.
   */
  private async deleteField(ref: Reference): Promise<{versions: number} | undefined> {
    const loc = await this.locate(ref.path, ref.raw)
    const current = await this.currentForWrite(loc, ref.raw)
    if (!current.exists || !Object.hasOwn(current.data, ref.field!)) {
      throw new SecretsError('NOT_FOUND', `Field "${ref.field}" is not in ${this.alias}://${ref.path}.`, {ref: ref.raw})
    }
    const {[ref.field!]: _removed, ...rest} = current.data
    if (Object.keys(rest).length === 0) return undefined
    const api = this.dataPath(loc)
    const body = loc.version === 2 ? {options: {cas: current.version}, data: rest} : rest
    await this.call(() => this.client.write(api, body), {op: 'write', path: api, ref: ref.raw, capability: 'update'})
    return {versions: 0}
  }

  list(): Promise<SecretMeta[]> {
    return listSecrets(this)
  }

  /** The KV v2 location of a whole secret for rotation; KV v1 keeps no versions, so it cannot stage. */
  async rotationLocation(ref: Reference, verb: string): Promise<Location> {
    if (ref.field !== undefined || Object.keys(ref.params).length > 0) {
      throw new SecretsError('USAGE', `Cannot ${verb} ${ref.raw}: give the whole secret, without #field or ?version.`, {
        ref: ref.raw,
      })
    }
    await this.authenticated()
    const loc = await this.locate(ref.path, ref.raw)
    if (loc.version !== 2) {
      throw new SecretsError(
        'UNSUPPORTED',
        `Cannot ${verb} ${ref.raw}: ${loc.mount} is a KV v1 mount, which keeps no versions.`,
        {ref: ref.raw, suggestions: ['Move the secret to a KV v2 mount to rotate it in stages and keep its history.']},
      )
    }
    return loc
  }

  async writeCas(loc: Location, data: Record<string, unknown>, cas: number, ref: string): Promise<number> {
    const api = this.dataPath(loc)
    const res = await this.call(() => this.client.write(api, {options: {cas}, data}), {
      op: 'write',
      path: api,
      ref,
      capability: cas === 0 ? 'create' : 'update',
    })
    return Number(res?.data?.version ?? cas + 1)
  }

  async mapAt(loc: Location, version: number, ref: string): Promise<Record<string, unknown>> {
    const r = await this.readMap(loc, version, ref)
    if (r.data === undefined)
      throw new SecretsError(
        'NOT_FOUND',
        `Version ${version} of ${loc.mount}/${loc.rest} does not exist in Vault (or was deleted).`,
        {ref},
      )
    return r.data
  }

  /** Delete a secret with all its versions (KV v2 metadata), already gone being fine. */
  async deleteStaging(stage: Location, ref: string): Promise<void> {
    const api = this.metadataPath(stage)
    try {
      await this.call(() => this.client.delete(api), {op: 'delete', path: api, ref, capability: 'delete'})
    } catch (error) {
      if (!(error instanceof SecretsError && error.code === 'NOT_FOUND')) throw error
    }
  }

  // On KV v2 mounts: the pending value waits in a sibling secret `<path>.pending` (rotation.ts).
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

  async versions(ref: Reference): Promise<VersionInfo[]> {
    const loc = await this.rotationLocation(ref, 'list the versions of')
    const api = this.metadataPath(loc)
    const data = (
      await this.call(() => this.client.read(api), {
        op: 'read the metadata of',
        path: api,
        ref: ref.raw,
        capability: 'read',
      })
    )?.data
    const versions = (data?.versions ?? {}) as Record<
      string,
      {created_time?: string; deletion_time?: string; destroyed?: boolean}
    >
    return Object.entries(versions)
      .map(([v, m]) => ({
        version: v,
        created: m.created_time,
        current: Number(v) === data?.current_version,
        ...(m.destroyed ? {labels: ['destroyed']} : m.deletion_time ? {labels: ['deleted']} : {}),
      }))
      .sort((a, b) => Number(b.version) - Number(a.version))
  }

  async restoreVersion(ref: Reference, o: {version: string; expected: string}): Promise<{version: string}> {
    const loc = await this.rotationLocation(ref, 'roll back')
    const data = await this.mapAt(loc, Number(o.version), ref.raw)
    return {version: String(await this.writeCas(loc, data, Number(o.expected), ref.raw))}
  }

  /** One transit call (`<mount>/encrypt/<key>` or `decrypt`), with this provider's auth, TLS and retries. */
  async transit(
    mount: string,
    op: 'encrypt' | 'decrypt',
    key: string,
    body: Record<string, string>,
    ref: string,
  ): Promise<Record<string, unknown>> {
    const api = `${mount}/${op}/${encodePath(key)}`
    const res = await this.call(() => this.client.write(api, body), {op, path: api, ref, capability: 'update'})
    return (res?.data ?? {}) as Record<string, unknown>
  }

  /** The KV mount, KV version and path inside the mount of a reference (for matching audit entries). */
  async location(ref: Reference): Promise<Location> {
    return this.locate(ref.path, ref.raw)
  }

  /** `sys/audit-hash/<device>`: the HMAC the audit device gives `input` (never called with a secret value). */
  async auditHash(device: string, input: string): Promise<string> {
    const api = `sys/audit-hash/${encodePath(device)}`
    const res = await this.call(() => this.client.write(api, {input}), {
      op: 'audit-hash',
      path: api,
      capability: 'update',
    })
    const hash = (res?.data?.hash ?? res?.hash) as unknown
    if (typeof hash !== 'string')
      throw new SecretsError('UNAVAILABLE', `Vault answered ${api} without a hash.`, {retryable: false})
    return hash
  }

  /** Entries of a file audit device's log about the configured secrets. */
  // A file audit device's log, matched through sys/audit-hash (vault/trail.ts, loaded only by `audit trail`).
  async trail(options: VaultTrailOptions): Promise<TrailEvent[]> {
    const {vaultTrail} = await import('./trail.js')
    return vaultTrail(this, options)
  }

  async check(): Promise<string> {
    // Credentials first: a missing token is the more useful finding, and needs no network.
    const login = await this.authenticated()
    let health: {sealed?: boolean; standby?: boolean; version?: string}
    try {
      health = await this.raw(() => this.client.health())
    } catch (error) {
      throw toSecretsError(error, {op: 'check the health of', path: 'sys/health', address: this.settings.address})
    }
    if (health?.sealed)
      throw new SecretsError('UNAVAILABLE', `Vault at ${this.settings.address} is sealed.`, {
        suggestions: ['Ask an operator to unseal Vault.'],
      })
    const self = (
      await this.call(() => this.client.tokenLookupSelf(), {
        op: 'look up the token at',
        path: 'auth/token/lookup-self',
        capability: 'read',
      })
    )?.data
    const ttl = typeof self?.ttl === 'number' && self.ttl > 0 ? `, ttl ${self.ttl}s` : ''
    return `${this.settings.address}: Vault ${health?.version ?? '?'}, ${health?.standby ? 'standby' : 'active'}; ${this.settings.auth.method} auth${login.obtained ? ` at auth/${this.settings.auth.mount}` : ''}, token policies ${(self?.policies ?? []).join(', ') || 'none'}${ttl}`
  }

  async close(): Promise<void> {
    this.client.stopAllRenewals()
    const login = await this.login?.catch(() => undefined)
    if (!login?.obtained) return
    // Revoke the token this run obtained; one attempt, never fatal.
    try {
      await this.client.tokenRevokeSelf()
    } catch (error) {
      if (statusOf(error) !== 403)
        this.ctx.ui.warn(
          `Could not revoke the Vault token this run obtained (${toSecretsError(error, {op: 'revoke', path: 'auth/token/revoke-self', address: this.settings.address}, this.scrub).message}); it expires with its TTL.`,
        )
    }
  }
}
