/**
 * What a provider can do is the presence of its optional methods (see types.ts): this table names the
 * methods each capability needs, and `requireCapability` is the one check core makes before any I/O.
 */
import type {SecretProvider} from './types.js'

import {SecretsError} from '../errors.js'

/** The methods behind each capability; all must be present. */
export const CAPABILITY_METHODS = {
  list: ['list'],
  /** Version and last change of one secret without reading its value (`secrets list`). */
  describe: ['describe'],
  write: ['write'],
  delete: ['delete'],
  /** Cancel a scheduled deletion or recover a soft-deleted secret. */
  restore: ['restore'],
  purge: ['purge'],
  /** The provider's own access record (`secrets audit trail`). */
  trail: ['trail'],
  versions: ['versions'],
  rollback: ['versions', 'restoreVersion'],
  stagedRotation: ['writePending', 'readPending', 'promote', 'discardPending'],
  /** The service's own rotation (`secrets rotate --native`). */
  nativeRotation: ['startNativeRotation', 'versions'],
  /** Credentials under a lease (Vault dynamic secrets): renewed while `exec` runs, revoked at its end. */
  leases: ['renewLease', 'revokeLease', 'leaseAccess'],
} as const satisfies Record<string, ReadonlyArray<keyof SecretProvider>>

export type Capability = keyof typeof CAPABILITY_METHODS

/** A provider known to have capability `C`: its methods are not optional any more. */
export type ProviderWith<C extends Capability> = SecretProvider &
  Required<Pick<SecretProvider, (typeof CAPABILITY_METHODS)[C][number]>>

/** Whether `provider` has capability `c`. */
export function supports<C extends Capability>(provider: SecretProvider, c: C): provider is ProviderWith<C> {
  return CAPABILITY_METHODS[c].every((m) => typeof provider[m] === 'function')
}

/** Every capability `provider` has (for tests and `doctor`-style listings). */
export function capabilitiesOf(provider: SecretProvider): Capability[] {
  return (Object.keys(CAPABILITY_METHODS) as Capability[]).filter((c) => supports(provider, c))
}

/** Raise UNSUPPORTED with `message` unless `provider` has capability `c`. */
export function requireCapability<C extends Capability>(
  provider: SecretProvider,
  c: C,
  message: string,
  options: {ref?: string; suggestions?: string[]} = {},
): asserts provider is ProviderWith<C> {
  if (!supports(provider, c)) throw new SecretsError('UNSUPPORTED', message, options)
}
