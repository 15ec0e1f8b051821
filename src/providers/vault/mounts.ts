// Mount discovery: which mount a path is in: a KV mount and its version, or another secrets engine.
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
  const mount = data.path.replace(/\/+$/, '')
  if (data.type !== 'kv' && data.type !== 'generic') v.engines.set(mount, data.type ?? 'unknown')
  else v.mounts.set(mount, data.options?.version === '2' ? 2 : 1)
  return mount
}

/** The longest known mount (KV or other) that `path` is in. */
function knownMount(v: VaultHost, path: string): string | undefined {
  return [...v.mounts.keys(), ...v.engines.keys()]
    .filter((m) => path === m || path.startsWith(`${m}/`))
    .sort((a, b) => b.length - a.length)[0]
}

/** Where a read goes: a KV location, or a path in another secrets engine (read as `vault read` does). */
export async function locateRead(
  v: VaultHost,
  path: string,
  ref?: string,
): Promise<Location | {engine: string; mount: string}> {
  const mount = knownMount(v, path) ?? (await discoverMount(v, path, ref))
  const engine = v.engines.get(mount)
  return engine === undefined ? locate(v, path, ref) : {engine, mount}
}

/** Find the KV mount of `path`: pinned in secrets.yaml (`kv:`), cached, or asked of sys/internal/ui/mounts. */
export async function locate(v: VaultHost, path: string, ref?: string): Promise<Location> {
  const mount = knownMount(v, path) ?? (await discoverMount(v, path, ref))
  const engine = v.engines.get(mount)
  if (engine !== undefined)
    throw new SecretsError(
      'UNSUPPORTED',
      `${ref ?? path} is in a ${engine} secrets engine (mount ${mount}/): its credentials are made by Vault on each read, so they can be read (\`get\`, \`exec\`), not written, versioned, rolled back or rotated.`,
      {
        ref,
        suggestions: [
          'Read it through `secrets exec`, which renews its lease while the command runs and revokes it at the end.',
        ],
      },
    )
  const rest = path === mount ? '' : path.slice(mount.length + 1)
  if (rest === '') {
    throw new SecretsError('REFERENCE_INVALID', `${ref ?? path} names the mount ${mount}, not a secret in it.`, {
      ref,
      suggestions: [`Add the secret's path: ${v.alias}://${mount}/<path>#<field>.`],
    })
  }
  return {mount, version: v.mounts.get(mount)!, rest}
}
