// Dynamic secrets: a path outside a KV mount (database/creds/app, aws/creds/deploy ...) is read as
// `vault read` reads it, or written as `vault write` writes it when it takes parameters (pki/issue/web),
// and Vault answers with a fresh credential under a lease.
import type {EntryParam} from '../../core/reference.js'
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

/** Where one dynamic credential comes from: its path, and for a write the parameters it sends. */
export interface DynamicRequest {
  path: string
  request: Readonly<Record<string, EntryParam>>
  /** POST the parameters (`vault write`) rather than GET (`vault read`). */
  write: boolean
}

/**
 * The parameters in a canonical order and as text (`?ttl=300` and `params: {ttl: 300}` are one value to
 * Vault): two references with the same ones share one credential.
 */
export function requestKey(request: Readonly<Record<string, EntryParam>>): string {
  const entries = Object.entries(request).map(([k, v]) => [k, String(v)])
  return JSON.stringify(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

/**
 * The credential at `r.path` (with `r.request`). Every read of a dynamic path mints a new credential, so
 * one provider reads each (path, parameters) once and hands the same credential to every reference,
 * `env:` and `files:` alike, and to a `--watch` resolution, for as long as its lease lives: a username
 * and a password from two reads would belong to two different database users, and a certificate and a
 * private key from two issues would not match.
 */
export function readDynamic(v: DynamicHost, r: DynamicRequest, ref: string): Promise<DynamicRead> {
  const key = `${r.path}\0${requestKey(r.request)}`
  const held = v.dynamic.get(key)
  if (held !== undefined) {
    const live = held.then((d) => (d.expires > Date.now() ? d : undefined)).catch(() => undefined)
    return live.then((d) => d ?? fresh(v, key, r, ref))
  }
  return fresh(v, key, r, ref)
}

function fresh(v: DynamicHost, key: string, r: DynamicRequest, ref: string): Promise<DynamicRead> {
  const {path} = r
  const read = (async (): Promise<DynamicRead> => {
    const api = encodePath(path)
    const res = (await v
      .call(() => (r.write ? v.client.write(api, {...r.request}) : v.client.read(api)), {
        op: r.write ? 'write' : 'read',
        path,
        ref,
        capability: r.write ? 'update' : 'read',
      })
      .catch((error: unknown) => {
        throw r.write && error instanceof SecretsError && error.code === 'USAGE' ? withParamsHint(error, ref) : error
      })) as
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
  v.dynamic.set(key, read)
  // A failed read is not kept: the next resolution asks again.
  read.catch(() => v.dynamic.delete(key))
  return read
}

/** Vault refused the parameters of a write: say where they come from. */
function withParamsHint(error: SecretsError, ref: string): SecretsError {
  return new SecretsError(error.code, error.message, {
    ref,
    cause: error.cause,
    suggestions: [
      "Fix the parameters, given in the reference's query (?common_name=...) or under `params:` of its entry in secrets.yaml, to what the Vault role allows.",
      ...error.suggestions,
    ],
  })
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
    op: 'update',
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
    op: 'update',
    path: 'sys/leases/revoke',
    capability: 'update',
  })
  for (const [path, p] of v.dynamic) if ((await p.catch(() => undefined))?.lease?.id === id) v.dynamic.delete(path)
}
