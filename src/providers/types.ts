import type {Actor} from '../core/actor.js'
import type {ProjectConfig, ProviderConfig} from '../core/config/types.js'
import type {Interaction} from '../core/interaction.js'
import type {Reference} from '../core/reference.js'
import type {SecretValue} from '../core/secret-value.js'
import type {SecretsError} from '../errors.js'

/**
 * How a provider reads: limits and reference syntax, not capabilities. What a provider can do (list,
 * write, delete, versions, staged rotation, a trail ...) has one source: whether it implements the
 * optional method(s) of SecretProvider, as named in capabilities.ts. Core checks with
 * `requireCapability`/`supports` from there, before any I/O, and raises UNSUPPORTED; there are no
 * flags to keep in step with the methods.
 */
export interface Capabilities {
  /** How many secrets one read call may fetch (1 = no batching). */
  batchSize: number
  /** Query parameters references to this provider may carry. */
  params: readonly string[]
}

/** Metadata about one secret; never its value. */
export interface SecretMeta {
  name: string
  ref: string
  version?: string
  versions?: number
  updated?: string
  actor?: string
  /** Provider-specific facts, never values (rotation settings and dates, tags, ARN ...); shown with --json. */
  details?: Record<string, unknown>
}

/**
 * A lease the service put on a value it made for this read (Vault's dynamic secrets): the credential
 * works until `duration` seconds from the read unless renewed. References that share one read share it.
 */
export interface LeaseGrant {
  id: string
  /** Seconds. */
  duration: number
  renewable: boolean
  /** The path the credential was read from (no #field). */
  path: string
}

/** What `leaseAccess` found; problems are PERMISSION_DENIED errors whose message names the policy to add. */
export interface LeaseAccess {
  /** The dynamic references among those asked, each with what keeps it from being made, if anything. */
  dynamic: Array<{ref: Reference; problem?: SecretsError}>
  /** The credentials may not renew or may not revoke their leases (undefined: they may do both). */
  leases?: SecretsError
  /** Whether a credential made now could be revoked (false: `doctor` must not make one). */
  canRevoke: boolean
  /** One line for `doctor` when all is well. */
  summary: string
}

/** The outcome of reading one reference: the value, or the error for that reference alone. */
export type ReadOutcome =
  | {
      ok: true
      ref: Reference
      value: SecretValue
      version?: string
      metadata?: Record<string, unknown>
      lease?: LeaseGrant
    }
  | {ok: false; ref: Reference; error: SecretsError}

/** Everything a provider gets from core when it is opened. */
export interface ProviderContext {
  project: ProjectConfig
  config: ProviderConfig
  env: NodeJS.ProcessEnv
  ui: Interaction
  actor: Actor
}

/** The one interface every provider implements. Errors are SecretsErrors (see the provider's errors.ts). */
export interface SecretProvider {
  readonly alias: string
  readonly type: string
  readonly capabilities: Capabilities
  /** Read many references at once; results are in the same order. The `#field` part is left to core. */
  read(refs: Reference[]): Promise<ReadOutcome[]>
  /** Names and metadata of what the provider holds (capability `list`). */
  list?(): Promise<SecretMeta[]>
  /**
   * One secret's current version and last change from the provider's metadata, without reading its
   * value (capability `describe`, for `secrets list`). Fields the service does not keep are left out;
   * NOT_FOUND when the secret does not exist.
   */
  describe?(ref: Reference): Promise<SecretMeta>
  /** Store a new current value (capability `write`). */
  write?(ref: Reference, value: SecretValue): Promise<{version: string}>
  /** Delete a secret; `recoverableUntil` is set when the provider keeps it in a recovery window (capability `delete`). */
  delete?(ref: Reference, options?: DeleteOptions): Promise<{versions: number; recoverableUntil?: string}>
  /** Cancel a scheduled deletion or recover a soft-deleted secret (providers with a recovery window); capability `restore`. */
  restore?(ref: Reference): Promise<void>
  /** Permanently erase a soft-deleted secret, ending its recovery window (Azure Key Vault); capability `purge`. */
  purge?(ref: Reference): Promise<void>
  /** Secrets this provider contributes under their own names when nothing in `env:` mentions them. */
  implicitEnv?(o?: {warn?: boolean}): Promise<Map<string, Reference>>
  /**
   * The provider's own record of access to `refs` (capability `trail`): CloudTrail, a Vault audit
   * device log, Key Vault diagnostic logs. Loads whatever it needs lazily; never on the exec path.
   */
  trail?(options: TrailOptions): Promise<TrailEvent[]>
  /**
   * Staged rotation (capability `stagedRotation`: all four methods). `writePending` stores `value` as a pending version
   * that readers of the current value do not see, refusing (CONFLICT) when the current version is no
   * longer `base` or another pending version exists. `token` identifies this rotation (idempotent
   * retries; AWS uses it as ClientRequestToken, so it is the pending version id).
   */
  writePending?(ref: Reference, value: SecretValue, o: {base: string; token: string}): Promise<{pending: string}>
  /** The pending value of an unfinished rotation (to verify it again when finishing). */
  readPending?(ref: Reference, pending: string): Promise<SecretValue>
  /** Make the pending version current, only if `base` is still current (else CONFLICT); keeps the previous version. */
  promote?(ref: Reference, o: {base: string; pending: string}): Promise<{version: string}>
  /**
   * Drop a pending version: `pending` when known, else the one written with `token` (AWS), else whatever
   * is pending. The current version is untouched.
   */
  discardPending?(ref: Reference, o: {pending?: string; token?: string}): Promise<void>
  /** The versions of a secret, newest first, never values (capability `versions`). */
  versions?(ref: Reference): Promise<VersionInfo[]>
  /** Make an earlier version current again (`secrets rollback`, capability `rollback` with versions); CONFLICT if current is no longer `expected`. */
  restoreVersion?(ref: Reference, o: {version: string; expected: string}): Promise<{version: string}>
  /**
   * Start the service's own rotation (capability `nativeRotation`: AWS RotateSecret with the secret's rotation function); resolves
   * with the new version's id at once. Core then waits (versions()) until that version is current.
   */
  startNativeRotation?(ref: Reference, o: {token: string}): Promise<{version: string}>
  /** Extend a lease by `increment` seconds; resolves with what the service granted (capability `leases`). */
  renewLease?(id: string, increment: number): Promise<{duration: number; renewable: boolean}>
  /** End a lease and the credential under it at once (capability `leases`). */
  revokeLease?(id: string): Promise<void>
  /**
   * For `doctor` (capability `leases`): which of `refs` are dynamic, and whether the credentials may
   * make each (read, or write) and renew and revoke their leases, asked without making a credential.
   */
  leaseAccess?(refs: Reference[]): Promise<LeaseAccess>
  /** Health check for `secrets doctor`: resolves with a one-line summary, or throws. */
  check(): Promise<string>
  close?(): Promise<void>
}

/** What `trail()` is asked for. */
export interface TrailOptions {
  /** Only events at or after this time. */
  since?: Date
  /** Only events at or before this time. */
  until?: Date
  /** The configured references of this provider: only events about these secrets are returned. */
  refs: Reference[]
  /** Say something the user should know about the result (e.g. that it was cut short). */
  warn?: (message: string) => void
}

/** One access to a secret as the provider recorded it. Never holds a value (nor an HMAC of one). */
export interface TrailEvent {
  /** ISO 8601, UTC. */
  time: string
  /** Who, as the provider names them (IAM ARN, Vault display name, Entra UPN or app id). */
  actor: string
  /** The provider's operation, e.g. `GetSecretValue`, `read`, `SecretGet`. */
  action: string
  /** The configured reference the event concerns, without #field (e.g. `aws://prod/db`). */
  secret: string
  outcome: 'ok' | 'denied' | 'not_found' | 'error' | 'not_started'
  version?: string
  /** The provider's error code, for outcomes other than ok. */
  code?: string
  /** The provider's id of the record (CloudTrail EventId, Vault request id, Azure CorrelationId). */
  id?: string
  /** Non-secret facts: source IP, user agent, region ... */
  details?: Record<string, unknown>
}

/** One version of a secret, as `secrets versions` shows it; never its value. */
export interface VersionInfo {
  version: string
  created?: string
  current: boolean
  /** A staged rotation's version that is not current yet. */
  pending?: boolean
  /** Provider labels (AWS staging labels, Vault deleted/destroyed, Azure disabled). */
  labels?: string[]
}

/** How to delete. */
export interface DeleteOptions {
  /** Skip the provider's recovery window, where it has one (AWS Secrets Manager): cannot be undone. */
  force?: boolean
}

/** What a provider module exports. */
export interface ProviderModule {
  createProvider(ctx: ProviderContext): Promise<SecretProvider>
}

/**
 * A key service that wraps the local store's data key for a recipient such as `awskms://alias/secrets`
 * (`secrets key add`). The wrapped form is opaque text kept in the store's recipient entry.
 */
export interface KeyWrapper {
  /** The recipient as written, e.g. `awskms://alias/secrets`. */
  readonly recipient: string
  wrap(dataKey: Buffer): Promise<string>
  unwrap(wrapped: string): Promise<Buffer>
}

/** What a key-service module exports. */
export interface KeyWrapperModule {
  createKeyWrapper(recipient: string, env: NodeJS.ProcessEnv): Promise<KeyWrapper>
}
