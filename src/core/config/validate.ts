import {dirname, resolve} from 'node:path'

import {SecretsError} from '../../errors.js'
import {PROVIDER_TYPES} from '../../providers/registry.js'
import {parseDuration} from '../lib/time.js'
import {ALIAS_PATTERN, ENV_NAME_PATTERN, parseReference, type EntryParam, type Reference} from '../reference.js'
import {isEntries, isOneOf, type SettingKind, type SettingsSchema} from './settings-schema.js'
import type {EnvEntry, FileEntry, ProjectConfig, ProviderConfig, RotationPolicy} from './types.js'
import {rotationPolicy} from './validate-rotation.js'
import {
  CACHE_FIELDS,
  CREDENTIAL_KEYS,
  ENTRY_PARAM_NAME,
  ENV_ENTRY_FIELDS,
  ENVIRONMENT_FIELDS,
  ENVIRONMENT_NAME_PATTERN,
  FILE_ENTRY_FIELDS,
  FILE_NAME_MAX,
  FILE_NAME_PATTERN,
  TOP_LEVEL_FIELDS,
} from './fields.js'
import {isPlainObject, Validator, type LineOf} from './validator.js'

/**
 * Check a parsed `secrets.yaml` and build the ProjectConfig; the first problem is a CONFIG_INVALID naming
 * the file, line and field. `lineOf` is called only for a message or when an entry's `line` is read.
 */
export function validateConfig(root: unknown, lineOf: LineOf, file: string): ProjectConfig {
  // Annotated: TypeScript narrows after a `never` call only through an explicitly typed reference.
  const v: ConfigValidator = new ConfigValidator(lineOf, file)
  if (root === null || root === undefined) v.fail([], 'the file is empty; it needs at least a `providers:` section')
  if (!isPlainObject(root)) v.fail([], 'the top level must be a mapping with `providers:`, `env:` and `environments:`')
  v.onlyKeys([], root, TOP_LEVEL_FIELDS)
  if (root.version !== undefined && root.version !== 1) v.fail(['version'], 'must be 1 (or left out)')

  const providers = providerMap(root.providers ?? {}, v)
  const env = v.envMap(root.env, ['env'], providers)
  const files = v.fileMap(root.files, ['files'], providers, env)
  const {environments, environmentFiles} = v.environments(root.environments ?? {}, providers)
  const rotation = new Map<string, RotationPolicy>()
  for (const map of [env, ...environments.values()]) {
    for (const [name, entry] of map)
      if (entry.rotate !== undefined && !rotation.has(name)) rotation.set(name, entry.rotate)
  }
  const cache = v.cache(root.cache)
  return {
    file,
    dir: dirname(file),
    providers,
    env,
    environments,
    files,
    environmentFiles,
    rotation,
    ...(cache === undefined ? {} : {cache}),
  }
}

/** `providers:`: each alias, its `type:` (a kind the registry lists) and the settings that kind's schema allows. */
function providerMap(rawProviders: unknown, v: ConfigValidator): Map<string, ProviderConfig> {
  const providers = new Map<string, ProviderConfig>()
  if (!isPlainObject(rawProviders))
    v.fail(
      ['providers'],
      'must be a mapping of alias to provider settings, e.g. `local: {type: local, path: .secrets/store.json}`',
    )
  for (const [alias, settings] of Object.entries(rawProviders)) {
    const path = ['providers', alias]
    if (!ALIAS_PATTERN.test(alias))
      v.fail(
        path,
        `provider alias ${JSON.stringify(alias)} must be lowercase letters, digits and "-", starting with a letter (it is the scheme of references)`,
      )
    if (!isPlainObject(settings)) v.fail(path, 'must be a mapping with at least `type:`')
    const type = settings.type
    if (typeof type !== 'string')
      v.fail([...path, 'type'], `is required; one of ${Object.keys(PROVIDER_TYPES).join(', ')}`)
    const spec = PROVIDER_TYPES[type]
    if (spec === undefined)
      v.fail(
        [...path, 'type'],
        `unknown provider type ${JSON.stringify(type)}; one of ${Object.keys(PROVIDER_TYPES).join(', ')}`,
      )
    const {type: _type, ...rest} = settings
    v.settings(path, rest, spec.settings, `a ${type} provider`, spec.credentialHint, spec.openSettings === true)
    providers.set(alias, v.withLine({alias, type, settings}, path))
  }
  return providers
}

/** The checks of providers, variables, files and environments (rotation policies: validate-rotation.ts). */
class ConfigValidator extends Validator {
  /**
   * Check provider settings against their schema, nested mappings included (e.g. `auth: {method, role}`).
   * A key that looks like a credential is refused at any depth.
   */
  settings(
    path: string[],
    values: Record<string, unknown>,
    schema: SettingsSchema,
    what: string,
    credentialHint: string,
    open: boolean,
  ): void {
    for (const [key, value] of Object.entries(values)) {
      const p = [...path, key]
      if (CREDENTIAL_KEYS.has(key.toLowerCase())) {
        this.fail(
          p,
          `looks like a credential; secrets.yaml never holds secrets or credentials. Provide it through the environment (${credentialHint})`,
        )
      }
      const kind = schema[key]
      if (kind === undefined) {
        if (open) continue
        this.fail(p, `unknown setting for ${what}; known settings: ${Object.keys(schema).join(', ') || 'none'}`)
      }
      this.setting(p, key, value, kind, credentialHint)
    }
  }

  private setting(p: string[], key: string, value: unknown, kind: SettingKind, credentialHint: string): void {
    if (isOneOf(kind)) {
      if (!kind.oneOf.includes(value as string | number)) this.fail(p, `must be one of ${kind.oneOf.join(', ')}`)
    } else if (isEntries(kind)) {
      if (!isPlainObject(value)) this.fail(p, 'must be a mapping')
      for (const [name, sub] of Object.entries(value)) {
        // Free names are names (`kv: {secret: 2}` pins the mount called "secret"); only a name whose
        // value could hold text is refused when it looks like a credential.
        const textual =
          kind.entries === 'string' ||
          kind.entries === 'string[]' ||
          (typeof kind.entries === 'object' && !isOneOf(kind.entries))
        if (textual && CREDENTIAL_KEYS.has(name.toLowerCase()))
          this.fail(
            [...p, name],
            `looks like a credential; secrets.yaml never holds secrets or credentials. Provide it through the environment (${credentialHint})`,
          )
        this.setting([...p, name], name, sub, kind.entries, credentialHint)
      }
    } else if (typeof kind === 'object') {
      if (!isPlainObject(value)) this.fail(p, `must be a mapping (settings: ${Object.keys(kind).join(', ')})`)
      this.settings(p, value, kind, `\`${key}\``, credentialHint, false)
    } else if (kind === 'string[]') {
      if (!Array.isArray(value) || !value.every((x) => typeof x === 'string')) this.fail(p, 'must be a list of strings')
    } else if (typeof value !== kind) {
      this.fail(p, `must be a ${kind}`)
    }
  }

  envMap(raw: unknown, path: string[], providers: Map<string, ProviderConfig>): Map<string, EnvEntry> {
    const out = new Map<string, EnvEntry>()
    if (raw === undefined || raw === null) return out
    if (!isPlainObject(raw))
      this.fail(path, 'must be a mapping of VARIABLE_NAME to reference, e.g. `DB_URL: vault://secret/app#db_url`')
    for (const [name, value] of Object.entries(raw)) {
      const p = [...path, name]
      this.variableName(p, name)
      if (isPlainObject(value)) {
        this.onlyKeys(p, value, ENV_ENTRY_FIELDS)
        if (typeof value.ref !== 'string')
          this.fail(
            [...p, 'ref'],
            'must be a reference string such as `local://NAME` (secret values never go in this file)',
          )
        const ref = this.withParams(p, value.params, this.reference([...p, 'ref'], value.ref, providers), providers)
        const rotate =
          value.rotate === undefined || value.rotate === null
            ? undefined
            : rotationPolicy(this, [...p, 'rotate'], value.rotate)
        out.set(name, this.withLine({name, ref, ...(rotate === undefined ? {} : {rotate})}, p))
        continue
      }
      if (typeof value !== 'string')
        this.fail(
          p,
          'must be a reference string such as `local://NAME` (secret values never go in this file), or `{ref: ..., rotate: {...}}`',
        )
      out.set(name, this.withLine({name, ref: this.reference(p, value, providers)}, p))
    }
    return out
  }

  /** `environments:`: per name, `env:` overrides and `files:` of its own. */
  environments(
    rawEnvironments: unknown,
    providers: Map<string, ProviderConfig>,
  ): {environments: Map<string, Map<string, EnvEntry>>; environmentFiles: Map<string, Map<string, FileEntry>>} {
    const environments = new Map<string, Map<string, EnvEntry>>()
    const environmentFiles = new Map<string, Map<string, FileEntry>>()
    if (!isPlainObject(rawEnvironments))
      this.fail(['environments'], 'must be a mapping of environment name to `{env: {...}}`')
    for (const [name, body] of Object.entries(rawEnvironments)) {
      const path = ['environments', name]
      if (!ENVIRONMENT_NAME_PATTERN.test(name))
        this.fail(path, 'environment names are letters, digits, "_", "." and "-"')
      if (!isPlainObject(body)) this.fail(path, 'must be a mapping with an `env:` and/or `files:` section')
      this.onlyKeys(path, body, ENVIRONMENT_FIELDS)
      const envOverrides = this.envMap(body.env, [...path, 'env'], providers)
      environments.set(name, envOverrides)
      environmentFiles.set(name, this.fileMap(body.files, [...path, 'files'], providers, envOverrides))
    }
    return {environments, environmentFiles}
  }
  /** `cache: {maxAge: 24h}` (or `cache: {}`): the offline fallback cache for every command that resolves. */
  cache(raw: unknown): {maxAgeMs?: number} | undefined {
    if (raw === undefined || raw === null) return undefined
    if (!isPlainObject(raw)) this.fail(['cache'], 'must be a mapping, e.g. `cache: {maxAge: 24h}`')
    this.onlyKeys(['cache'], raw, CACHE_FIELDS)
    if (raw.maxAge === undefined) return {}
    const ms = typeof raw.maxAge === 'string' ? parseDuration(raw.maxAge) : undefined
    if (ms === undefined || ms <= 0) this.fail(['cache', 'maxAge'], 'must be a duration such as 30m, 24h or 7d')
    return {maxAgeMs: ms}
  }

  /** `files:`: VARIABLE: reference, or VARIABLE: {ref, mode, name}, or VARIABLE: {template, mode, name}. */
  fileMap(
    raw: unknown,
    path: string[],
    providers: Map<string, ProviderConfig>,
    env: Map<string, EnvEntry>,
  ): Map<string, FileEntry> {
    const out = new Map<string, FileEntry>()
    if (raw === undefined || raw === null) return out
    if (!isPlainObject(raw))
      this.fail(path, 'must be a mapping of VARIABLE_NAME to a reference or `{ref: ..., mode: "0400", name: cert.pem}`')
    const fileNames = new Map<string, string>()
    for (const [name, value] of Object.entries(raw)) {
      const p = [...path, name]
      this.variableName(p, name)
      if (env.has(name))
        this.fail(
          p,
          `${name} is also under \`${[...path.slice(0, -1), 'env'].join('.')}\`; a variable is either a value or a file, not both`,
        )
      let refText: unknown = value
      let template: string | undefined
      let mode = 0o600
      let fileName = name
      if (isPlainObject(value)) {
        this.onlyKeys(p, value, FILE_ENTRY_FIELDS)
        if (value.template !== undefined) {
          if (value.params !== undefined)
            this.fail(
              [...p, 'params'],
              'goes with `ref:` (the parameters of a dynamic credential), not with a template',
            )
          if (value.ref !== undefined)
            this.fail(
              [...p, 'template'],
              'a file holds either a secret (`ref:`) or a rendered template (`template:`), not both',
            )
          if (typeof value.template !== 'string' || value.template === '')
            this.fail([...p, 'template'], 'must be the path of a template file, relative to secrets.yaml')
          template = resolve(dirname(this.file), value.template)
        }
        refText = value.ref
        if (value.mode !== undefined) mode = this.fileMode([...p, 'mode'], value.mode)
        if (value.name !== undefined) {
          if (
            typeof value.name !== 'string' ||
            !FILE_NAME_PATTERN.test(value.name) ||
            value.name.length > FILE_NAME_MAX
          ) {
            this.fail(
              [...p, 'name'],
              'must be a plain file name (letters, digits, "_", "." and "-"; no "/"), e.g. `cert.pem`',
            )
          }
          fileName = value.name
        }
      }
      if (template === undefined && typeof refText !== 'string')
        this.fail(
          p.concat(isPlainObject(value) ? ['ref'] : []),
          'must be a reference string such as `local://TLS_CERT` (secret values never go in this file)',
        )
      const clash = fileNames.get(fileName)
      if (clash !== undefined)
        this.fail(
          p,
          `writes the file ${JSON.stringify(fileName)}, as ${clash} does; give one of them another \`name:\``,
        )
      fileNames.set(fileName, name)
      const refAt = isPlainObject(value) ? [...p, 'ref'] : p
      const params = isPlainObject(value) ? value.params : undefined
      const source =
        template === undefined
          ? {ref: this.withParams(p, params, this.reference(refAt, refText as string, providers), providers)}
          : {template}
      out.set(name, this.withLine({name, ...source, mode, fileName}, p))
    }
    return out
  }

  private fileMode(p: string[], raw: unknown): number {
    // YAML reads an unquoted 0400 as the number 400 (its digits are the mode) but 0o400 as 256: show
    // such a number in octal, never as 256.
    if (
      typeof raw === 'number' &&
      Number.isInteger(raw) &&
      raw >= 0 &&
      (!/^[0-7]{3}$/.test(String(raw)) || (Number.parseInt(String(raw), 8) & 0o077) !== 0)
    ) {
      const octal = `0${raw.toString(8).padStart(3, '0')}`
      this.fail(p, `is the number ${raw} (octal ${octal}); write the mode as a quoted string, e.g. "${octal}"`)
    }
    const text = typeof raw === 'number' ? String(raw) : raw
    if (typeof text !== 'string' || !/^0?[0-7]{3}$/.test(text))
      this.fail(p, 'must be an octal mode as a quoted string, e.g. "0400" or "0600"')
    const mode = Number.parseInt(text, 8)
    if ((mode & 0o077) !== 0)
      this.fail(p, `${text} lets group or others read the secret; use owner-only bits such as "0400" or "0600"`)
    if ((mode & 0o400) === 0) this.fail(p, `${text} does not let the owner read the file; use "0400" or "0600"`)
    return mode
  }

  private variableName(p: string[], name: string): void {
    if (!ENV_NAME_PATTERN.test(name))
      this.fail(p, 'variable names are letters, digits and "_", not starting with a digit')
    if (name.startsWith('SECRETS_'))
      this.fail(p, 'names starting with SECRETS_ configure secrets itself and are never passed to a child')
  }

  /**
   * An entry's `params:` (entry path `p`): a mapping of Vault field names to strings, numbers or booleans,
   * only on a provider kind that takes them (its spec's `entryParams`), and never naming a parameter the
   * reference's query already gives. Whether the path is a dynamic one is known only when it is read.
   */
  private withParams(p: string[], raw: unknown, ref: Reference, providers: Map<string, ProviderConfig>): Reference {
    if (raw === undefined || raw === null) return ref
    const at = [...p, 'params']
    const type = providers.get(ref.alias)!.type
    const takers = Object.values(PROVIDER_TYPES).filter((s) => s.entryParams !== undefined)
    if (PROVIDER_TYPES[type]?.entryParams === undefined)
      this.fail(
        at,
        `is only for ${takers.map((s) => s.title).join(', ')} references (${takers.map((s) => s.entryParams).join('; ')}); ${ref.raw} is a ${type} reference, which takes none: remove \`params:\``,
      )
    if (!isPlainObject(raw) || Object.keys(raw).length === 0)
      this.fail(at, 'must be a mapping of parameter names to values, e.g. `params: {common_name: app.internal}`')
    const out: Record<string, EntryParam> = {}
    for (const [name, value] of Object.entries(raw)) {
      if (!ENTRY_PARAM_NAME.test(name))
        this.fail([...at, name], 'parameter names are lowercase letters, digits and "_", as Vault names its fields')
      if (CREDENTIAL_KEYS.has(name.toLowerCase()))
        this.fail([...at, name], 'looks like a credential; secrets.yaml never holds secrets or credentials')
      if (!['string', 'number', 'boolean'].includes(typeof value))
        this.fail([...at, name], 'must be a string, a number or a boolean (lists as one comma-separated string)')
      if (Object.hasOwn(ref.params, name))
        this.fail(
          [...at, name],
          `is also in the query of ${ref.raw}; give each parameter in one place, the query or \`params:\``,
        )
      Object.defineProperty(out, name, {value, enumerable: true, writable: true, configurable: true})
    }
    return {...ref, entryParams: out}
  }

  private reference(p: string[], value: string, providers: Map<string, ProviderConfig>): Reference {
    // Never echo a string that is not a reference: it may be a secret pasted by mistake.
    const scheme = /^([a-z][a-z0-9-]*):/.exec(value)?.[1]
    const attempt = value.includes('://') || (scheme !== undefined && providers.has(scheme))
    if (!attempt)
      this.fail(
        p,
        'is not a reference (expected `alias://path`, e.g. `local://NAME`); secret values never go in this file',
      )
    let ref: Reference
    try {
      try {
        ref = parseReference(value)
      } catch {
        // Again with the file, line and field for the message (the line costs a full YAML parse).
        ref = parseReference(value, `${this.file}:${this.lineOf(p) ?? '?'} (${p.join('.')})`)
      }
    } catch (error) {
      if (error instanceof SecretsError) {
        throw new SecretsError('CONFIG_INVALID', error.message, {
          ref: value,
          suggestions: error.suggestions,
          cause: error,
        })
      }
      throw error
    }
    if (!providers.has(ref.alias)) {
      const known = [...providers.keys()]
      this.fail(
        p,
        `uses provider alias ${JSON.stringify(ref.alias)}, which is not declared under \`providers:\` (declared: ${known.join(', ') || 'none'})`,
      )
    }
    return ref
  }
}
