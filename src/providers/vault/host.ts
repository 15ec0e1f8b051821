import type NodeVault from 'node-vault'

import type {SecretsError} from '../../errors.js'
import type {FailureContext} from './errors.js'

/** What the KV helpers (mounts, kv, versions, read, list) need of the Vault provider, which implements it. */
export interface VaultHost {
  readonly alias: string
  readonly client: NodeVault.client
  /** KV mounts by path, with their KV version (pinned in settings, or found). */
  readonly mounts: Map<string, 1 | 2>
  /** Mounts of other secrets engines (database, aws, ...) by path, with their type. */
  readonly engines: Map<string, string>
  authenticated(): Promise<unknown>
  /** One request, authenticated and retried; a failure comes back translated into the error tree. */
  call<T>(fn: () => Promise<T>, ctx: Omit<FailureContext, 'address'>): Promise<T>
  /** One request with retries only; rethrows the last raw (untranslated) error. */
  raw<T>(fn: () => Promise<T>): Promise<T>
  /** A raw request error translated into the error tree, credentials scrubbed. */
  fail(error: unknown, ctx: Omit<FailureContext, 'address'>): SecretsError
}
