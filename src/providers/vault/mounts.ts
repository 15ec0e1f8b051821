// Mount discovery: which KV mount, and which KV version, a path is in.
import {SecretsError} from '../../errors.js'
import type {VaultHost} from './host.js'
import {encodePath, type Location} from './location.js'

/** The mount a KV path is in, asked of sys/internal/ui/mounts; remembered in `v.mounts`. */
async function discoverMount(v: VaultHost, path: string, ref?: string): Promise<string> {
  const api = `sys/internal/ui/mounts/${encodePath(path)}`
  let data: {path?: string; type?: string; options?: {version?: string} | null} | undefined
  try {
    data = (
      await v.call(() => v.client.read(api), {
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
    throw new SecretsError('NOT_FOUND', `No secrets engine is mounted at ${path} in Vault${ref ? ` (${ref})` : ''}.`, {
      ref,
    })
  if (data.type !== 'kv' && data.type !== 'generic') {
    throw new SecretsError(
      'UNSUPPORTED',
      `${ref ?? path} is in a ${data.type} secrets engine (mount ${data.path}); the vault provider reads KV v1 and v2 mounts.`,
      {ref},
    )
  }
  const mount = data.path.replace(/\/+$/, '')
  v.mounts.set(mount, data.options?.version === '2' ? 2 : 1)
  return mount
}

/** Find the KV mount of `path`: pinned in secrets.yaml (`kv:`), cached, or asked of sys/internal/ui/mounts. */
export async function locate(v: VaultHost, path: string, ref?: string): Promise<Location> {
  const known = [...v.mounts.keys()]
    .filter((m) => path === m || path.startsWith(`${m}/`))
    .sort((a, b) => b.length - a.length)[0]
  const mount = known ?? (await discoverMount(v, path, ref))
  const rest = path === mount ? '' : path.slice(mount.length + 1)
  if (rest === '') {
    throw new SecretsError('REFERENCE_INVALID', `${ref ?? path} names the mount ${mount}, not a secret in it.`, {
      ref,
      suggestions: [`Add the secret's path: ${v.alias}://${mount}/<path>#<field>.`],
    })
  }
  return {mount, version: v.mounts.get(mount)!, rest}
}
