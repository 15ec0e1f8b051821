import {SecretsError} from '../../errors.js'

/** Key Vault secret names: 1-127 letters, digits and dashes (case-insensitive in the service). */
export const AZURE_NAME_PATTERN = /^[0-9A-Za-z-]{1,127}$/
const VARIABLE_STYLE = /^[A-Za-z0-9_]+$/

/** The tag that records which variable-style name a mapped secret was written under. */
export const NAME_TAG = 'secrets-name'

/**
 * The one name-mapping rule: a name Key Vault accepts (letters, digits, dashes) is used as written; a
 * variable-style name with underscores is lowercased and each `_` becomes `-` (DB_PASSWORD -> db-password).
 * Anything else is REFERENCE_INVALID. `mapped` tells whether the rule changed the name.
 */
export function azureSecretName(path: string, raw = path): {name: string; mapped: boolean} {
  if (AZURE_NAME_PATTERN.test(path)) return {name: path, mapped: false}
  if (VARIABLE_STYLE.test(path) && path.length <= 127)
    return {name: path.toLowerCase().replaceAll('_', '-'), mapped: true}
  throw new SecretsError(
    'REFERENCE_INVALID',
    `Invalid reference ${raw}: "${path}" is not a Key Vault secret name (letters, digits and "-", at most 127) nor a variable-style name (letters, digits and "_").`,
    {
      ref: raw,
      suggestions: ['Use a name like db-password; variable-style names such as DB_PASSWORD map to db-password.'],
    },
  )
}

/**
 * Two different variable-style names that map to one Key Vault name (DB_PASSWORD and db_password both
 * become db-password) would silently share one secret: refuse instead. Names compare as written.
 */
export function findCollisions(paths: Iterable<{path: string; raw: string}>): Array<{name: string; refs: string[]}> {
  const byName = new Map<string, Map<string, string>>()
  for (const {path, raw} of paths) {
    let mapped: {name: string; mapped: boolean}
    try {
      mapped = azureSecretName(path, raw)
    } catch {
      continue
    }
    if (!mapped.mapped) continue
    const key = mapped.name.toLowerCase()
    const spellings = byName.get(key) ?? new Map<string, string>()
    if (!spellings.has(path)) spellings.set(path, raw)
    byName.set(key, spellings)
  }
  return [...byName].filter(([, s]) => s.size > 1).map(([name, s]) => ({name, refs: [...s.values()]}))
}

export function collisionError(name: string, refs: string[]): SecretsError {
  return new SecretsError(
    'REFERENCE_INVALID',
    `Name collision: ${refs.join(' and ')} all map to the Key Vault secret "${name}" (lowercase, "_" becomes "-"); refusing to let them share one secret.`,
    {
      ref: refs[0],
      suggestions: [
        `Write the Key Vault name explicitly (e.g. azure://${name}) in one place, or rename one of the variables.`,
      ],
    },
  )
}

/** Where a reference lives in Key Vault: the vault, its URL, the secret's name and whether it was mapped from another name. */
export interface Target {
  vault: string
  url: string
  name: string
  mapped: boolean
}

/** Tags on a staging secret `<name>-pending`: whose rotation it is, its state and the version it started from. */
export const ROTATION_OF_TAG = 'secrets-rotation-of'
export const ROTATION_STATE_TAG = 'secrets-rotation'
export const ROTATION_BASE_TAG = 'secrets-rotation-base'
