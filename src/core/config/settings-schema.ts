/** The little schema language of provider settings in secrets.yaml (each provider's spec declares one). */

/**
 * The type of one provider setting: a scalar, a list of strings, one of a few values (`{oneOf: [...]}`),
 * a mapping from free names to one kind (`{entries: kind}`, e.g. `kv: {secret: 2}`), or a nested
 * mapping with a schema of its own (`auth: {method: ..., role: 'string'}`). `oneOf` and `entries` are
 * therefore not usable as setting names.
 */
export type SettingKind =
  | 'string'
  | 'boolean'
  | 'number'
  | 'string[]'
  | {oneOf: ReadonlyArray<string | number>}
  | {entries: SettingKind}
  | SettingsSchema
export interface SettingsSchema {
  [key: string]: SettingKind
}

export function isOneOf(kind: SettingKind): kind is {oneOf: ReadonlyArray<string | number>} {
  return typeof kind === 'object' && Array.isArray((kind as {oneOf?: unknown}).oneOf)
}

export function isEntries(kind: SettingKind): kind is {entries: SettingKind} {
  return typeof kind === 'object' && Object.keys(kind).length === 1 && Object.hasOwn(kind, 'entries')
}
