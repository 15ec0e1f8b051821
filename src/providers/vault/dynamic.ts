// Dynamic secrets: a path outside a KV mount (database/creds/app, aws/creds/deploy ...) is read as
// `vault read` reads it, and Vault answers with a fresh credential under a lease.
import {SecretsError} from '../../errors.js'
import type {LeaseGrant} from '../types.js'
import type {VaultHost} from './host.js'
import {encodePath} from './location.js'

/** One read of a dynamic path: its fields and the lease on them, while the lease lives. */
export interface DynamicRead {
  data: Record<string, unknown>
  lease?: LeaseGrant
  /** When the lease ends unless renewed (ms since the epoch). */
  expires: number
}

/** What the dynamic-secret helpers need beyond VaultHost: the reads this provider holds, by path. */
export interface DynamicHost extends VaultHost {
  readonly dynamic: Map<string, Promise<DynamicRead>>
}

/**
 * The credential at `path`. Every read of a dynamic path mints a new credential, so one provider reads
 * each path once and hands the same credential to every reference, `env:` and `files:` alike, and to a
 * `--watch` resolution, for as long as its lease lives: a username and a password from two reads would
 * belong to two different database users, and a restart loop would follow every resolution.
 */
export function readDynamic(v: DynamicHost, path: string, ref: string): Promise<DynamicRead> {
  const held = v.dynamic.get(path)
  if (held !== undefined) {
    const live = held.then((r) => (r.expires > Date.now() ? r : undefined)).catch(() => undefined)
    return live.then((r) => r ?? fresh(v, path, ref))
  }
  return fresh(v, path, ref)
}

function fresh(v: DynamicHost, path: string, ref: string): Promise<DynamicRead> {
  const read = (async (): Promise<DynamicRead> => {
    const res = (await v.call(() => v.client.read(encodePath(path)), {op: 'read', path, ref, capability: 'read'})) as
      | {data?: Record<string, unknown> | null; lease_id?: string; lease_duration?: number; renewable?: boolean}
      | undefined
    if (res?.data === undefined || res.data === null || typeof res.data !== 'object')
      throw new SecretsError('NOT_FOUND', `Vault returned no data for ${ref}.`, {ref})
    const duration = typeof res.lease_duration === 'number' ? res.lease_duration : 0
    const lease =
      typeof res.lease_id === 'string' && res.lease_id !== ''
        ? {id: res.lease_id, duration, renewable: res.renewable === true, path}
        : undefined
    return {data: res.data, lease, expires: lease ? Date.now() + duration * 1000 : Number.POSITIVE_INFINITY}
  })()
  v.dynamic.set(path, read)
  // A failed read is not kept: the next resolution asks again.
  read.catch(() => v.dynamic.delete(path))
  return read
}

async function heldWith(v: DynamicHost, id: string): Promise<DynamicRead | undefined> {
  for (const p of v.dynamic.values()) {
    const r = await p.catch(() => undefined)
    if (r?.lease?.id === id) return r
  }
  return undefined
}

/** `PUT sys/leases/renew`: what Vault granted (capped by the role's max TTL). */
export async function renewLease(
  v: DynamicHost,
  id: string,
  increment: number,
): Promise<{duration: number; renewable: boolean}> {
  await v.authenticated()
  const res = (await v.call(() => v.client.write('sys/leases/renew', {lease_id: id, increment}), {
    op: 'renew the lease of',
    path: 'sys/leases/renew',
    capability: 'update',
  })) as {lease_duration?: number; renewable?: boolean} | undefined
  const duration = typeof res?.lease_duration === 'number' ? res.lease_duration : 0
  const held = await heldWith(v, id)
  if (held) held.expires = Date.now() + duration * 1000
  return {duration, renewable: res?.renewable === true}
}

/** `PUT sys/leases/revoke`: the credential ends now; a later read of its path mints a new one. */
export async function revokeLease(v: DynamicHost, id: string): Promise<void> {
  await v.authenticated()
  await v.call(() => v.client.write('sys/leases/revoke', {lease_id: id}), {
    op: 'revoke the lease of',
    path: 'sys/leases/revoke',
    capability: 'update',
  })
  for (const [path, p] of v.dynamic) if ((await p.catch(() => undefined))?.lease?.id === id) v.dynamic.delete(path)
}
