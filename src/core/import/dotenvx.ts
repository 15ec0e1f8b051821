import {existsSync, statSync} from 'node:fs'
import {basename, dirname, join} from 'node:path'
import {parseEnv} from 'node:util'

import {SecretsError} from '../../errors.js'
import {readImportFile, type ImportEntry} from './parse.js'

/** dotenvx marks an encrypted value with this prefix (ECIES over secp256k1, the key pair's private half in `.env.keys`). */
export const ENCRYPTED_PREFIX = 'encrypted:'

/**
 * The variable dotenvx keeps a file's private key in: `.env` -> DOTENV_PRIVATE_KEY, `.env.production` ->
 * DOTENV_PRIVATE_KEY_PRODUCTION (its own naming rule: the suffix after `.env.`, upper case, with "_").
 */
export function privateKeyName(file: string): string {
  const suffix = basename(file).replace(/^\.env\.?/, '')
  return suffix === ''
    ? 'DOTENV_PRIVATE_KEY'
    : `DOTENV_PRIVATE_KEY_${suffix.toUpperCase().replaceAll(/[^A-Z0-9]/g, '_')}`
}

/** The public-key entries dotenvx writes into the file itself: metadata, never imported. */
export const isDotenvxMetadata = (name: string): boolean => /^DOTENV_PUBLIC_KEY(_[A-Z0-9_]+)?$/.test(name)

/** The private key(s): the environment first, then `.env.keys` beside the file (which must be owner-only, as any key file). */
function privateKeys(file: string, env: NodeJS.ProcessEnv): {keys: string[]; from: string} {
  const name = privateKeyName(file)
  const fromEnv = env[name]
  if (fromEnv !== undefined && fromEnv !== '') return {keys: fromEnv.split(','), from: `$${name}`}
  const keysFile = join(dirname(file), '.env.keys')
  if (existsSync(keysFile)) {
    if (process.platform !== 'win32' && (statSync(keysFile).mode & 0o077) !== 0)
      throw new SecretsError(
        'INSECURE_PERMISSIONS',
        `${keysFile} holds private keys and can be read by others; nothing was imported.`,
        {
          suggestions: [`Run \`chmod 600 ${keysFile}\`, then import again.`],
        },
      )
    const value = parseEnv(readImportFile(keysFile).toString('utf8'))[name]
    if (value !== undefined && value !== '') return {keys: value.split(','), from: `${keysFile} (${name})`}
  }
  throw new SecretsError(
    'IDENTITY_MISSING',
    `${file} holds dotenvx-encrypted values, and no private key for it was found; nothing was imported.`,
    {
      suggestions: [
        `Set ${name} in the environment, or put the .env.keys that dotenvx wrote beside ${basename(file)}.`,
      ],
    },
  )
}

/**
 * Decrypt dotenvx `encrypted:` values with @dotenvx/primitives (dotenvx's own implementation of the same
 * ECIES), loaded only for such a file. A wrong key is DECRYPT_FAILED, a damaged value INTEGRITY; every
 * error names the variable, never a value.
 */
export async function decryptDotenvx(
  file: string,
  entries: ImportEntry[],
  env: NodeJS.ProcessEnv,
): Promise<ImportEntry[]> {
  if (!entries.some((e) => e.value.startsWith(ENCRYPTED_PREFIX))) return entries
  const {keys, from} = privateKeys(file, env)
  // A CommonJS package: its functions are on the default export once bundled into an ES module.
  const mod = await import('@dotenvx/primitives')
  const decrypt = mod.decrypt ?? (mod as unknown as {default: typeof mod}).default.decrypt
  return entries.map((e) => {
    if (!e.value.startsWith(ENCRYPTED_PREFIX)) return e
    let last: unknown
    for (const key of keys) {
      try {
        return {name: e.name, value: decrypt(key.trim(), e.value), encrypted: true}
      } catch (error) {
        // Its failures carry a code (WRONG_PRIVATE_KEY, INVALID_PRIVATE_KEY, ...); anything else is a bug of ours.
        if (typeof (error as {code?: unknown}).code !== 'string') throw error
        last = error
      }
    }
    const code = (last as {code?: string}).code
    if (code === 'MALFORMED_ENCRYPTED_DATA')
      throw new SecretsError(
        'INTEGRITY',
        `The encrypted value of ${e.name} in ${file} is damaged; nothing was imported.`,
        {
          suggestions: [
            'Re-encrypt it with dotenvx (`dotenvx set NAME VALUE`), or take the file from version control.',
          ],
        },
      )
    throw new SecretsError(
      'DECRYPT_FAILED',
      `The private key from ${from} does not open ${e.name} in ${file}; nothing was imported.`,
      {
        suggestions: [`Use the private key the file was encrypted for (${privateKeyName(file)}).`],
      },
    )
  })
}
