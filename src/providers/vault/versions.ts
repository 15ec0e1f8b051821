// KV v2 versions: the location of a versioned secret, check-and-set writes, one version's map, the
// version list and rollback (staged rotation in rotation.ts is built from these).
import type {Reference} from '../../core/reference.js'
import {SecretsError} from '../../errors.js'
import type {VersionInfo} from '../types.js'
import type {VaultHost} from './host.js'
import {dataPath, metadataPath, readMap} from './kv.js'
import type {Location} from './location.js'
import {locate} from './mounts.js'

/** The KV v2 location of a whole secret for rotation; KV v1 keeps no versions, so it cannot stage. */
export async function versionedLocation(v: VaultHost, ref: Reference, verb: string): Promise<Location> {
  if (ref.field !== undefined || Object.keys(ref.params).length > 0) {
    throw new SecretsError('USAGE', `Cannot ${verb} ${ref.raw}: give the whole secret, without #field or ?version.`, {
      ref: ref.raw,
    })
  }
  await v.authenticated()
  const loc = await locate(v, ref.path, ref.raw)
  if (loc.version !== 2) {
    throw new SecretsError(
      'UNSUPPORTED',
      `Cannot ${verb} ${ref.raw}: ${loc.mount} is a KV v1 mount, which keeps no versions.`,
      {ref: ref.raw, suggestions: ['Move the secret to a KV v2 mount to rotate it in stages and keep its history.']},
    )
  }
  return loc
}

/** Check-and-set write (`cas` 0: the secret must not exist yet); resolves with the new version. */
export async function writeCas(
  v: VaultHost,
  loc: Location,
  data: Record<string, unknown>,
  cas: number,
  ref: string,
): Promise<number> {
  const api = dataPath(loc)
  const res = await v.call(() => v.client.write(api, {options: {cas}, data}), {
    op: 'write',
    path: api,
    ref,
    capability: cas === 0 ? 'create' : 'update',
  })
  return Number(res?.data?.version ?? cas + 1)
}

/** The map of one version; NOT_FOUND when it is gone. */
export async function mapAt(
  v: VaultHost,
  loc: Location,
  version: number,
  ref: string,
): Promise<Record<string, unknown>> {
  const r = await readMap(v, loc, version, ref)
  if (r.data === undefined)
    throw new SecretsError(
      'NOT_FOUND',
      `Version ${version} of ${loc.mount}/${loc.rest} does not exist in Vault (or was deleted).`,
      {ref},
    )
  return r.data
}

/** Delete a secret with all its versions (KV v2 metadata), already gone being fine. */
export async function deleteStaging(v: VaultHost, stage: Location, ref: string): Promise<void> {
  const api = metadataPath(stage)
  try {
    await v.call(() => v.client.delete(api), {op: 'delete', path: api, ref, capability: 'delete'})
  } catch (error) {
    if (!(error instanceof SecretsError && error.code === 'NOT_FOUND')) throw error
  }
}

/** The versions of a KV v2 secret, newest first, marking the current one and deleted or destroyed ones. */
export async function listVersions(v: VaultHost, ref: Reference): Promise<VersionInfo[]> {
  const loc = await versionedLocation(v, ref, 'list the versions of')
  const api = metadataPath(loc)
  const data = (
    await v.call(() => v.client.read(api), {
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
    .map(([version, m]) => ({
      version,
      created: m.created_time,
      current: Number(version) === data?.current_version,
      ...(m.destroyed ? {labels: ['destroyed']} : m.deletion_time ? {labels: ['deleted']} : {}),
    }))
    .sort((a, b) => Number(b.version) - Number(a.version))
}

/** Roll back: write an old version's map as a new version, check-and-set against `expected`. */
export async function restoreVersion(
  v: VaultHost,
  ref: Reference,
  o: {version: string; expected: string},
): Promise<{version: string}> {
  const loc = await versionedLocation(v, ref, 'roll back')
  const data = await mapAt(v, loc, Number(o.version), ref.raw)
  return {version: String(await writeCas(v, loc, data, Number(o.expected), ref.raw))}
}
