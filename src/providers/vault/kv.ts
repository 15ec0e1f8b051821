// KV v1 and v2 reads, writes and deletes at a located path (check-and-set on KV v2).
import type {Reference} from '../../core/reference.js'
import type {SecretValue} from '../../core/secret-value.js'
import {SecretsError} from '../../errors.js'
import {statusOf} from './errors.js'
import type {VaultHost} from './host.js'
import {encodePath, fieldMap, type Location} from './location.js'
import {locate} from './mounts.js'

/** The data endpoint of a location: `<mount>/data/<path>` on KV v2, `<mount>/<path>` on KV v1. */
export function dataPath(loc: Location): string {
  return loc.version === 2 ? `${loc.mount}/data/${encodePath(loc.rest)}` : `${loc.mount}/${encodePath(loc.rest)}`
}

/** KV v2's metadata endpoint of a location (versions, delete with history). */
export function metadataPath(loc: Location): string {
  return `${loc.mount}/metadata/${encodePath(loc.rest)}`
}

/** Read the map at a location. Undefined when there is none (for KV v2: `current` is the metadata's version even if deleted). */
export async function readMap(
  v: VaultHost,
  loc: Location,
  version: number | undefined,
  ref: string,
): Promise<{data?: Record<string, unknown>; version?: number; deletedAt?: string}> {
  const api = dataPath(loc)
  try {
    const res = await v.call(() => v.client.read(version === undefined ? api : `${api}?version=${version}`), {
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

/** The map to start from and the version a check-and-set write must name (0: no secret yet). */
export async function currentForWrite(
  v: VaultHost,
  loc: Location,
  ref: string,
): Promise<{data: Record<string, unknown>; version: number; exists: boolean}> {
  if (loc.version === 1) {
    const r = await readMap(v, loc, undefined, ref)
    return {data: r.data ?? {}, version: 0, exists: r.data !== undefined}
  }
  // The data path answers with the current version even when it is soft-deleted (a 404 whose body
  // still carries the metadata), so one read gives the check-and-set version under a data-only policy.
  const api = dataPath(loc)
  await v.authenticated()
  try {
    const res = await v.raw(() => v.client.read(api))
    return {data: res?.data?.data ?? {}, version: res?.data?.metadata?.version ?? 0, exists: true}
  } catch (error) {
    if (statusOf(error) === 404) {
      const version =
        (error as {response?: {body?: {data?: {metadata?: {version?: number}}}}}).response?.body?.data?.metadata
          ?.version ?? 0
      return {data: {}, version, exists: version > 0}
    }
    throw v.fail(error, {op: 'read', path: api, ref, capability: 'read'})
  }
}

/** Write a whole secret (a JSON object) or one field of it, as a new version. */
export async function writeSecret(v: VaultHost, ref: Reference, value: SecretValue): Promise<{version: string}> {
  if (Object.keys(ref.params).length > 0) {
    throw new SecretsError(
      'USAGE',
      `Cannot write ${ref.raw}: a write always creates a new version; drop the ?${Object.keys(ref.params)[0]}= part.`,
      {ref: ref.raw},
    )
  }
  await v.authenticated()
  const loc = await locate(v, ref.path, ref.raw)
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
  const current = await currentForWrite(v, loc, ref.raw)
  const data = fields ?? {...current.data, [ref.field!]: value.text()}
  const api = dataPath(loc)
  const ctx = {op: 'write', path: api, ref: ref.raw, capability: current.exists ? 'update' : 'create'}
  if (loc.version === 1) {
    await v.call(() => v.client.write(api, data), ctx)
    return {version: '1'}
  }
  const res = await v.call(() => v.client.write(api, {options: {cas: current.version}, data}), ctx)
  return {version: String(res?.data?.version ?? current.version + 1)}
}

/**
 * Remove one field: a new version without it (check-and-set on KV v2), history kept, so no version
 * is removed (0). Undefined when it was the last field: then the whole secret goes.
 */
async function deleteField(v: VaultHost, ref: Reference): Promise<{versions: number} | undefined> {
  const loc = await locate(v, ref.path, ref.raw)
  const current = await currentForWrite(v, loc, ref.raw)
  if (!current.exists || !Object.hasOwn(current.data, ref.field!)) {
    throw new SecretsError('NOT_FOUND', `Field "${ref.field}" is not in ${v.alias}://${ref.path}.`, {ref: ref.raw})
  }
  const {[ref.field!]: _removed, ...rest} = current.data
  if (Object.keys(rest).length === 0) return undefined
  const api = dataPath(loc)
  const body = loc.version === 2 ? {options: {cas: current.version}, data: rest} : rest
  await v.call(() => v.client.write(api, body), {op: 'write', path: api, ref: ref.raw, capability: 'update'})
  return {versions: 0}
}

/** Delete a secret with all its versions, or one #field of it; resolves with how many versions went. */
export async function deleteSecret(v: VaultHost, ref: Reference): Promise<{versions: number}> {
  if (Object.keys(ref.params).length > 0) {
    throw new SecretsError(
      'USAGE',
      `Cannot delete ${ref.raw}: delete removes a secret with all its versions (or one #field); give it without ?${Object.keys(ref.params)[0]}=.`,
      {
        ref: ref.raw,
        suggestions: [`Use ${v.alias}://${ref.path}${ref.field === undefined ? '' : `#${ref.field}`}.`],
      },
    )
  }
  await v.authenticated()
  if (ref.field !== undefined) {
    const removed = await deleteField(v, ref)
    if (removed !== undefined) return removed
  }
  const loc = await locate(v, ref.path, ref.raw)
  if (loc.version === 1) {
    const r = await readMap(v, loc, undefined, ref.raw)
    if (r.data === undefined) throw new SecretsError('NOT_FOUND', `${ref.raw} does not exist in Vault.`, {ref: ref.raw})
    const api = dataPath(loc)
    await v.call(() => v.client.delete(api), {op: 'delete', path: api, ref: ref.raw, capability: 'delete'})
    return {versions: 1}
  }
  const api = metadataPath(loc)
  const meta = (
    await v.call(() => v.client.read(api), {
      op: 'read the metadata of',
      path: api,
      ref: ref.raw,
      capability: 'read',
    })
  )?.data
  await v.call(() => v.client.delete(api), {op: 'delete', path: api, ref: ref.raw, capability: 'delete'})
  return {versions: Object.keys(meta?.versions ?? {}).length}
}
