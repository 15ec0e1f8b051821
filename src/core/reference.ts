import {SecretsError} from '../errors.js'

/** A parsed `<alias>://<path>[#<field>][?key=value&...]` reference. */
export interface Reference {
  /** The provider alias (the URI scheme). */
  alias: string
  path: string
  field?: string
  /** Query parameters such as `version` or `stage`; providers reject the ones they do not know. */
  params: Record<string, string>
  /** The reference exactly as written. */
  raw: string
  /**
   * The `params:` of the secrets.yaml entry that holds the reference: the parameters of the write that
   * issues a dynamic credential (Vault `pki/issue/<role>`). Never shares a name with `params`.
   */
  entryParams?: Readonly<Record<string, EntryParam>>
}

/** One value under an entry's `params:`. */
export type EntryParam = string | number | boolean

export const ALIAS_PATTERN = /^[a-z][a-z0-9-]*$/
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/

function fail(raw: string, index: number, what: string, context?: string): never {
  const shown = JSON.stringify(raw)
  // The caret line points at the offending character (offset by the opening quote of `shown`).
  const caret = ' '.repeat(Math.max(0, index) + 3) + '^'
  throw new SecretsError(
    'REFERENCE_INVALID',
    `Invalid reference${context ? ` in ${context}` : ''}: ${what} at character ${index + 1}:\n  ${shown}\n${caret}`,
    {
      ref: raw,
      suggestions: [
        'References look like alias://path[#field][?version=N], for example vault://secret/app#db_url or local://API_KEY.',
      ],
    },
  )
}

function isPathChar(ch: string): boolean {
  const c = ch.codePointAt(0) ?? 0
  return c > 0x20 && c !== 0x7f && ch !== '#' && ch !== '?' && ch !== '\\'
}

/**
 * Parse a reference. Anything malformed raises REFERENCE_INVALID with a message that points at the
 * offending character. `context` (for example `secrets.yaml line 4, env.DB_URL`) is added to the message.
 */
export function parseReference(raw: string, context?: string): Reference {
  if (typeof raw !== 'string' || raw.length === 0) fail(String(raw ?? ''), 0, 'empty reference', context)
  const sep = raw.indexOf('://')
  if (sep === -1) {
    const colon = raw.indexOf(':')
    if (colon > 0) fail(raw, colon, 'expected "://" after the provider alias', context)
    fail(raw, raw.length, 'expected "<alias>://" (no scheme found)', context)
  }
  if (sep === 0) fail(raw, 0, 'missing provider alias before "://"', context)
  const alias = raw.slice(0, sep)
  for (let i = 0; i < alias.length; i++) {
    const ch = alias[i]
    const ok = i === 0 ? /[a-z]/.test(ch) : /[a-z0-9-]/.test(ch)
    if (!ok)
      fail(
        raw,
        i,
        `unexpected ${JSON.stringify(ch)} in provider alias (lowercase letters, digits and "-", starting with a letter)`,
        context,
      )
  }
  let i = sep + 3
  const pathStart = i
  while (i < raw.length && isPathChar(raw[i])) {
    if (raw[i] === '/' && (i === pathStart || raw[i - 1] === '/')) fail(raw, i, 'empty path segment', context)
    i++
  }
  const path = raw.slice(pathStart, i)
  if (path.length === 0)
    fail(
      raw,
      i,
      i < raw.length ? `unexpected ${JSON.stringify(raw[i])}, expected a path` : 'missing path after "://"',
      context,
    )
  if (path.endsWith('/')) fail(raw, i - 1, 'path ends with "/"', context)
  let field: string | undefined
  const params: Record<string, string> = {}
  let sawQuery = false
  while (i < raw.length) {
    const ch = raw[i]
    if (ch === '#') {
      if (field !== undefined) fail(raw, i, 'a second "#"', context)
      const start = ++i
      while (i < raw.length && raw[i] !== '?' && isPathChar(raw[i])) i++
      if (i < raw.length && raw[i] !== '?' && raw[i] !== '#')
        fail(raw, i, `unexpected ${JSON.stringify(raw[i])} in field`, context)
      field = raw.slice(start, i)
      if (field.length === 0) fail(raw, start, 'empty field after "#"', context)
    } else if (ch === '?') {
      if (sawQuery) fail(raw, i, 'a second "?"', context)
      sawQuery = true
      i++
      for (;;) {
        const keyStart = i
        while (i < raw.length && /[a-zA-Z_]/.test(raw[i])) i++
        const key = raw.slice(keyStart, i)
        if (key.length === 0) fail(raw, i, 'expected a parameter name after "?" or "&"', context)
        if (raw[i] !== '=') fail(raw, i, `expected "=" after parameter ${JSON.stringify(key)}`, context)
        const valueStart = ++i
        while (i < raw.length && raw[i] !== '&' && raw[i] !== '#' && isPathChar(raw[i])) i++
        const value = raw.slice(valueStart, i)
        if (value.length === 0) fail(raw, valueStart, `empty value for parameter ${JSON.stringify(key)}`, context)
        if (Object.hasOwn(params, key)) fail(raw, keyStart, `parameter ${JSON.stringify(key)} given twice`, context)
        // Defined, not assigned: a parameter named `__proto__` must not set the prototype.
        Object.defineProperty(params, key, {value, enumerable: true, writable: true, configurable: true})
        if (raw[i] === '&') {
          i++
          continue
        }
        break
      }
      if (i < raw.length && raw[i] !== '#') fail(raw, i, `unexpected ${JSON.stringify(raw[i])} in query`, context)
    } else {
      fail(raw, i, `unexpected ${JSON.stringify(ch)}`, context)
    }
  }
  return {alias, path, field, params, raw}
}

/** Whether `s` looks like a reference rather than a bare local name. */
export function looksLikeReference(s: string): boolean {
  return s.includes('://')
}

/** Render a reference back to its canonical text. */
export function formatReference(ref: Omit<Reference, 'raw'>): string {
  const query = Object.entries(ref.params)
    .map(([k, v]) => `${k}=${v}`)
    .join('&')
  return `${ref.alias}://${ref.path}${ref.field === undefined ? '' : `#${ref.field}`}${query ? `?${query}` : ''}`
}

/** Reject parameters a provider does not understand. */
export function checkParams(ref: Reference, allowed: readonly string[]): void {
  for (const key of Object.keys(ref.params)) {
    if (!allowed.includes(key)) {
      const offset = ref.raw.indexOf(`${key}=`)
      fail(
        ref.raw,
        offset === -1 ? 0 : offset,
        `unknown parameter ${JSON.stringify(key)} for this provider (allowed: ${allowed.join(', ') || 'none'})`,
      )
    }
  }
}
