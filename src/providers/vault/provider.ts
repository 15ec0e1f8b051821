import type NodeVault from 'node-vault'

import type {Reference} from '../../core/reference.js'
import type {SecretValue} from '../../core/secret-value.js'
import {SecretsError} from '../../errors.js'
import type {
  Capabilities,
  LeaseAccess,
  ProviderContext,
  ReadOutcome,
  SecretMeta,
  SecretProvider,
  TrailEvent,
  VersionInfo,
} from '../types.js'
import {authenticate, type VaultLogin} from './auth.js'
import {createClient, withRetries} from './client.js'
import {statusOf, toSecretsError, type FailureContext} from './errors.js'
import type {VaultHost} from './host.js'
import {renewLease, revokeLease, type DynamicRead} from './dynamic.js'
import {currentForWrite, deleteSecret, writeSecret} from './kv.js'
import {describeSecret, listSecrets} from './list.js'
import {encodePath, type Location} from './location.js'
import {locate} from './mounts.js'
import {readSecrets} from './read.js'
import {discardPending, promote, readPending, writePending} from './rotation.js'
import {resolveSettings, type VaultSettings, type VaultYamlSettings} from './settings.js'
import type {VaultTrailOptions} from './trail.js'
import {deleteStaging, listVersions, mapAt, restoreVersion, versionedLocation, writeCas} from './versions.js'

const CAPABILITIES: Capabilities = {
  // Core hands every reference over at once; the provider batches them by path itself.
  batchSize: Number.POSITIVE_INFINITY,
  params: ['version'],
}

/**
 * HashiCorp Vault KV v1 and v2 through node-vault. The class holds the client, the login and the known
 * mounts; mounts.ts, kv.ts, versions.ts, read.ts and list.ts do the work through it (VaultHost).
 */
export class VaultProvider implements SecretProvider, VaultHost {
  readonly type = 'vault'
  readonly capabilities = CAPABILITIES
  readonly alias: string
  readonly settings: VaultSettings
  readonly client: NodeVault.client
  private login?: Promise<VaultLogin>
  private scrub: string[] = []
  readonly mounts = new Map<string, 1 | 2>()
  readonly engines = new Map<string, string>()
  readonly dynamic = new Map<string, Promise<DynamicRead>>()

  constructor(private readonly ctx: ProviderContext) {
    this.alias = ctx.config.alias
    this.settings = resolveSettings(this.alias, ctx.config.settings as VaultYamlSettings, ctx.env, ctx.project.dir)
    for (const [mount, version] of this.settings.kv) this.mounts.set(mount, version)
    this.client = createClient(this.settings, (message) => ctx.ui.warn(message))
  }

  raw<T>(fn: () => Promise<T>): Promise<T> {
    return withRetries(this.settings, fn)
  }

  fail(error: unknown, ctx: Omit<FailureContext, 'address'>): SecretsError {
    return toSecretsError(error, {...ctx, address: this.settings.address}, this.scrub)
  }

  async call<T>(fn: () => Promise<T>, ctx: Omit<FailureContext, 'address'>): Promise<T> {
    await this.authenticated()
    try {
      return await this.raw(fn)
    } catch (error) {
      throw this.fail(error, ctx)
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

  read(refs: Reference[]): Promise<ReadOutcome[]> {
    return readSecrets(this, refs, CAPABILITIES.params)
  }

  write(ref: Reference, value: SecretValue): Promise<{version: string}> {
    return writeSecret(this, ref, value)
  }

  renewLease(id: string, increment: number): Promise<{duration: number; renewable: boolean}> {
    return renewLease(this, id, increment)
  }

  revokeLease(id: string): Promise<void> {
    return revokeLease(this, id)
  }

  async leaseAccess(refs: Reference[]): Promise<LeaseAccess> {
    const {leaseAccess} = await import('./access.js')
    return leaseAccess(this, refs)
  }

  /** The map to start from and the version a check-and-set write must name (0: no secret yet). */
  currentForWrite(
    loc: Location,
    ref: string,
  ): Promise<{data: Record<string, unknown>; version: number; exists: boolean}> {
    return currentForWrite(this, loc, ref)
  }

  delete(ref: Reference): Promise<{versions: number}> {
    return deleteSecret(this, ref)
  }

  list(): Promise<SecretMeta[]> {
    return listSecrets(this)
  }

  describe(ref: Reference): Promise<SecretMeta> {
    return describeSecret(this, ref)
  }

  /** The KV v2 location of a whole secret for rotation; KV v1 keeps no versions, so it cannot stage. */
  rotationLocation(ref: Reference, verb: string): Promise<Location> {
    return versionedLocation(this, ref, verb)
  }

  writeCas(loc: Location, data: Record<string, unknown>, cas: number, ref: string): Promise<number> {
    return writeCas(this, loc, data, cas, ref)
  }

  mapAt(loc: Location, version: number, ref: string): Promise<Record<string, unknown>> {
    return mapAt(this, loc, version, ref)
  }

  /** Delete a secret with all its versions (KV v2 metadata), already gone being fine. */
  deleteStaging(stage: Location, ref: string): Promise<void> {
    return deleteStaging(this, stage, ref)
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

  versions(ref: Reference): Promise<VersionInfo[]> {
    return listVersions(this, ref)
  }

  restoreVersion(ref: Reference, o: {version: string; expected: string}): Promise<{version: string}> {
    return restoreVersion(this, ref, o)
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
    return locate(this, ref.path, ref.raw)
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
          `Could not revoke the Vault token this run obtained (${this.fail(error, {op: 'revoke', path: 'auth/token/revoke-self'}).message}); it expires with its TTL.`,
        )
    }
  }
}
