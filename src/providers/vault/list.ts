// `secrets list` for Vault: every KV mount the token can see, walked folder by folder.
import type {Reference} from '../../core/reference.js'
import {SecretsError} from '../../errors.js'
import type {SecretMeta} from '../types.js'
import type {VaultHost} from './host.js'
import {metadataPath} from './kv.js'
import {encodePath} from './location.js'
import {locate} from './mounts.js'

/** At most this many secrets are listed, so a huge Vault cannot make `list` run for ever. */
const LIST_LIMIT = 5000

export async function listSecrets(v: VaultHost): Promise<SecretMeta[]> {
  await v.authenticated()
  const res = await v.call(() => v.client.read('sys/internal/ui/mounts'), {
    op: 'list the mounts of',
    path: 'sys/internal/ui/mounts',
    capability: 'read',
  })
  const secret = (res?.data?.secret ?? {}) as Record<string, {type?: string; options?: {version?: string} | null}>
  for (const [path, m] of Object.entries(secret)) {
    if (m.type === 'kv' || m.type === 'generic') {
      const mount = path.replace(/\/+$/, '')
      if (!v.mounts.has(mount)) v.mounts.set(mount, m.options?.version === '2' ? 2 : 1)
    }
  }
  const out: SecretMeta[] = []
  const v2: Array<{meta: SecretMeta; api: string}> = []
  for (const [mount, version] of [...v.mounts].sort(([a], [b]) => a.localeCompare(b))) {
    const start = out.length

    await walk(v, mount, version, '', out)
    if (version === 2)
      for (const meta of out.slice(start))
        v2.push({meta, api: `${mount}/metadata/${encodePath(meta.name.slice(mount.length + 1))}`})
  }
  await fillMetadata(v, v2)
  return out
}

/**
 * KV v2 metadata (current version, how many versions, last update), a few requests at a time; a secret
 * whose metadata this token may not read is listed without it.
 */
async function fillMetadata(v: VaultHost, v2: Array<{meta: SecretMeta; api: string}>): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({length: Math.min(8, v2.length)}, async () => {
      while (next < v2.length) {
        const {meta, api} = v2[next++]
        try {
          const data = (
            await v.call(() => v.client.read(api), {op: 'read the metadata of', path: api, capability: 'read'})
          )?.data
          if (typeof data?.current_version === 'number') meta.version = String(data.current_version)
          if (data?.versions) meta.versions = Object.keys(data.versions).length
          if (typeof data?.updated_time === 'string') meta.updated = data.updated_time
          // custom_metadata is where teams keep rotation policy and owners (never secret values).
          meta.details = {
            mount: api.slice(0, api.indexOf('/metadata/')),
            kv: 2,
            created: data?.created_time,
            oldestVersion: data?.oldest_version,
            ...(data?.custom_metadata ? {customMetadata: data.custom_metadata} : {}),
          }
        } catch (error) {
          if (!(error instanceof SecretsError && (error.code === 'PERMISSION_DENIED' || error.code === 'NOT_FOUND')))
            throw error
        }
      }
    }),
  )
}

async function walk(v: VaultHost, mount: string, version: 1 | 2, prefix: string, out: SecretMeta[]): Promise<void> {
  if (out.length >= LIST_LIMIT) return
  const api = version === 2 ? `${mount}/metadata/${encodePath(prefix)}` : `${mount}/${encodePath(prefix)}`
  let keys: string[]
  try {
    keys =
      (await v.call(() => v.client.list(api.replace(/\/$/, '')), {op: 'list', path: api, capability: 'list'}))?.data
        ?.keys ?? []
  } catch (error) {
    // An empty folder is a 404; a folder this token may not list is skipped, not fatal.
    if (error instanceof SecretsError && (error.code === 'NOT_FOUND' || error.code === 'PERMISSION_DENIED')) return
    throw error
  }
  for (const key of keys) {
    if (key.endsWith('/')) {
      await walk(v, mount, version, `${prefix}${key}`, out)
    } else if (out.length < LIST_LIMIT) {
      const name = `${mount}/${prefix}${key}`
      out.push({name, ref: `${v.alias}://${name}`})
    }
  }
}

/**
 * One secret's metadata for `secrets list`, never its value: KV v2's metadata endpoint (current version,
 * how many, last update); on KV v1, which keeps no metadata, a LIST of the folder says it exists.
 */
export async function describeSecret(v: VaultHost, ref: Reference): Promise<SecretMeta> {
  await v.authenticated()
  const loc = await locate(v, ref.path, ref.raw)
  const meta: SecretMeta = {name: ref.path, ref: `${v.alias}://${ref.path}`}
  const missing = () =>
    new SecretsError('NOT_FOUND', `${loc.mount}/${loc.rest} does not exist in Vault.`, {
      ref: ref.raw,
      suggestions: [`Create it with: secrets set ${v.alias}://${ref.path}`],
    })
  if (loc.version === 1) {
    const slash = loc.rest.lastIndexOf('/')
    const folder = slash === -1 ? '' : loc.rest.slice(0, slash)
    const api = `${loc.mount}/${encodePath(folder)}`.replace(/\/$/, '')
    let keys: string[] = []
    try {
      keys =
        (await v.call(() => v.client.list(api), {op: 'list', path: api, ref: ref.raw, capability: 'list'}))?.data
          ?.keys ?? []
    } catch (error) {
      if (!(error instanceof SecretsError && error.code === 'NOT_FOUND')) throw error
    }
    if (!keys.includes(loc.rest.slice(slash + 1))) throw missing()
    return {...meta, details: {mount: loc.mount, kv: 1}}
  }
  const api = metadataPath(loc)
  const data = (
    await v.call(() => v.client.read(api), {op: 'read the metadata of', path: api, ref: ref.raw, capability: 'read'})
  )?.data
  if (typeof data?.current_version !== 'number' || data.current_version === 0) throw missing()
  return {
    ...meta,
    version: String(data.current_version),
    ...(data.versions ? {versions: Object.keys(data.versions).length} : {}),
    ...(typeof data.updated_time === 'string' ? {updated: data.updated_time} : {}),
    details: {mount: loc.mount, kv: 2},
  }
}
