import type {SecretValue} from '../../core/secret-value.js'

/** Where a reference lives: its KV mount (no slashes around), the KV version and the path inside the mount. */
export interface Location {
  mount: string
  version: 1 | 2
  rest: string
}

/** A value as a Vault secret's map of fields: a JSON object, else undefined. */
export function fieldMap(value: SecretValue): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(value.text())
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed))
      return parsed as Record<string, unknown>
  } catch {
    // Not JSON.
  }
  return undefined
}

/** A KV path with each segment URL-encoded. */
export function encodePath(p: string): string {
  return p
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/')
}
