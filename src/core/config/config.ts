import {existsSync, readFileSync, statSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname, join, resolve} from 'node:path'
import {CORE_SCHEMA, load as loadYaml} from 'js-yaml'
import type {Document, LineCounter} from 'yaml'

import {SecretsError, fsError} from '../../errors.js'
import {PROVIDER_TYPES} from '../../providers/registry.js'
import {isEntries, isOneOf, type SettingKind, type SettingsSchema} from './settings-schema.js'
import {ALIAS_PATTERN, ENV_NAME_PATTERN, parseReference, type Reference} from '../reference.js'

export const CONFIG_FILE_NAME = 'secrets.yaml'

/** One provider declared under `providers:`. Only non-secret settings live here. */
export interface ProviderConfig {
  alias: string
  type: string
  settings: Record<string, unknown>
  line?: number
}

/** One `env:` entry: a variable name bound to a reference, with its rotation policy if it declares one. */
export interface EnvEntry {
  name: string
  ref: Reference
  rotate?: RotationPolicy
  line?: number
}

/** How `secrets rotate` makes a new value (see src/core/rotation/generate.ts). */
export interface GeneratorSpec {
  type: 'password' | 'hex' | 'base64' | 'base64url' | 'uuid'
  /** password: characters (default 32); hex/base64/base64url: random bytes (default 32). */
  length?: number
  /** password: the character classes to draw from, each at least once (default lower, upper, digit). */
  classes?: Array<'lower' | 'upper' | 'digit' | 'symbol'>
  /** password: the characters of the `symbol` class (default !#%+,-.:=@^_~). */
  symbols?: string
  /** password: draw from exactly these characters instead of classes. */
  charset?: string
}

/** A variable's rotation policy (`env: {VAR: {ref: ..., rotate: {every: 30d, generate: {...}, verify: '...'}}}`). */
export interface RotationPolicy {
  /** Maximum age in milliseconds before `rotate --due` picks the secret. */
  every?: number
  generate?: GeneratorSpec
  /** A shell command run with the new value in its environment, like `exec`; exit 0 means verified. */
  verify?: string
  line?: number
}

const DURATION_UNITS: Record<string, number> = {s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000}

/** Parse `30d`, `12h`, `2w`, `90m`, `3600s` (and combinations such as `1d12h`) to milliseconds; undefined if malformed. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim()
  if (!/^(\d+[smhdw])+$/.test(t)) return undefined
  let ms = 0
  for (const m of t.matchAll(/(\d+)([smhdw])/g)) ms += Number(m[1]) * DURATION_UNITS[m[2]]
  return ms > 0 && Number.isSafeInteger(ms) ? ms : undefined
}

/** A duration in milliseconds as the largest whole unit that fits (`30d`, `36h`). */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['w', DURATION_UNITS.w],
    ['d', DURATION_UNITS.d],
    ['h', DURATION_UNITS.h],
    ['m', DURATION_UNITS.m],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`
  }
  return `${Math.round(ms / 1000)}s`
}

export const GENERATOR_TYPES = ['password', 'hex', 'base64', 'base64url', 'uuid'] as const
export const PASSWORD_CLASSES = ['lower', 'upper', 'digit', 'symbol'] as const

/**
 * One `files:` entry: a secret that `exec` writes to a private file; the variable holds the file's
 * path. `mode` has owner bits only (default 0600); `fileName` defaults to the variable name.
 */
export interface FileEntry {
  name: string
  /** The secret the file holds; absent for a template. */
  ref?: Reference
  /** A template to render instead (absolute path; `{{ ref "..." }}` / `{{ env "..." }}`, see template.ts). */
  template?: string
  mode: number
  fileName: string
  line?: number
}

/** A validated `secrets.yaml`. */
export interface ProjectConfig {
  file: string
  dir: string
  providers: Map<string, ProviderConfig>
  env: Map<string, EnvEntry>
  environments: Map<string, Map<string, EnvEntry>>
  files: Map<string, FileEntry>
  environmentFiles: Map<string, Map<string, FileEntry>>
  /** Rotation policies by variable name (from `env:`, then from environments for names `env:` does not declare). */
  rotation: Map<string, RotationPolicy>
  /** `cache:`: the offline fallback cache is on for every resolution (see fallback.ts). */
  cache?: {maxAgeMs?: number}
}

/** Setting names that would hold a credential; they belong in the environment, never in the file. */
const CREDENTIAL_KEYS = new Set([
  'token',
  'password',
  'passphrase',
  'secret',
  'secretid',
  'roleid',
  'secretaccesskey',
  'accesskeyid',
  'sessiontoken',
  'clientsecret',
  'apikey',
  'privatekey',
  'key',
  'identity',
  'credentials',
])

/** Find `secrets.yaml` by walking up from `start`. */
export function findConfigFile(start: string): string | undefined {
  let dir = resolve(start)
  for (;;) {
    const candidate = join(dir, CONFIG_FILE_NAME)
    if (existsSync(candidate)) return candidate
    const parent = dirname(dir)
    if (parent === dir) return undefined
    dir = parent
  }
}

export interface ConfigLocation {
  /** `--config` flag value. */
  flag?: string
  cwd: string
  env: NodeJS.ProcessEnv
}

/** Where the config file is: flag > SECRETS_CONFIG > walking up from cwd. */
export function locateConfig(loc: ConfigLocation): string | undefined {
  const explicit = loc.flag ?? (loc.env.SECRETS_CONFIG || undefined)
  if (explicit) return resolve(loc.cwd, explicit)
  return findConfigFile(loc.cwd)
}

/** Load and validate the project config; a missing file is CONFIG_NOT_FOUND. */
export function loadConfig(loc: ConfigLocation): ProjectConfig {
  const file = locateConfig(loc)
  if (file === undefined) {
    throw new SecretsError(
      'CONFIG_NOT_FOUND',
      `No ${CONFIG_FILE_NAME} found in ${resolve(loc.cwd)} or any parent directory.`,
      {
        suggestions: ['Run `secrets init` to create one here, or pass --config PATH (or set SECRETS_CONFIG).'],
      },
    )
  }
  let text: string
  try {
    if (statSync(file).isDirectory()) {
      throw new SecretsError('CONFIG_INVALID', `${file} is a directory, not a ${CONFIG_FILE_NAME} file.`, {
        suggestions: ['Point --config or SECRETS_CONFIG at the file itself.'],
      })
    }
    text = readFileSync(file, 'utf8')
  } catch (error) {
    if (error instanceof SecretsError) throw error
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new SecretsError('CONFIG_NOT_FOUND', `Config file ${file} does not exist.`, {
        suggestions: ['Check the --config flag or SECRETS_CONFIG, or run `secrets init` to create one.'],
      })
    }
    throw fsError(error, file, 'reading')
  }
  return parseConfig(text, file)
}

/**
 * The `yaml` library keeps every node's position, so errors can name the line; it is also about 20 ms
 * of every start. Configs are therefore read with the small js-yaml (YAML 1.2 core schema, like
 * `yaml`'s default), and `yaml` is loaded, synchronously, only when a line number is needed: for an
 * error message, or when a caller reads an entry's `line`. A file js-yaml refuses goes through `yaml`,
 * which reports the located syntax error (test/core/config.test.ts checks both agree).
 */
const requireYaml = (): typeof import('yaml') => createRequire(import.meta.url)('yaml')

function fullDocument(text: string, file: string): {doc: Document; lineCounter: LineCounter} {
  const {LineCounter, parseDocument} = requireYaml()
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, {lineCounter, uniqueKeys: true, prettyErrors: false})
  const firstError = doc.errors[0]
  if (firstError) {
    const line = lineCounter.linePos(firstError.pos[0]).line
    const message = firstError.message.split('\n')[0]
    throw new SecretsError('CONFIG_INVALID', `${file}:${line}: invalid YAML: ${message}`, {
      suggestions: [`Fix the YAML syntax at line ${line} of ${file}.`],
    })
  }
  return {doc, lineCounter}
}

/** Parse and validate config text; every error names the file, line and field. */
export function parseConfig(text: string, file: string): ProjectConfig {
  let root: unknown
  try {
    root = loadYaml(text, {schema: CORE_SCHEMA, filename: file})
  } catch {
    root = fullDocument(text, file).doc.toJS()
  }
  return validateConfig(root, new Validator(() => fullDocument(text, file), file), file)
}

/** The same, always through the `yaml` library (the reference the fast path is tested against). */
export function parseConfigFull(text: string, file: string): ProjectConfig {
  const full = fullDocument(text, file)
  return validateConfig(full.doc.toJS(), new Validator(() => full, file), file)
}

function validateConfig(root: unknown, v: Validator, file: string): ProjectConfig {
  if (root === null || root === undefined) v.fail([], 'the file is empty; it needs at least a `providers:` section')
  if (!isPlainObject(root)) v.fail([], 'the top level must be a mapping with `providers:`, `env:` and `environments:`')
  v.onlyKeys([], root, ['version', 'providers', 'env', 'files', 'environments', 'cache'])
  if (root.version !== undefined && root.version !== 1) v.fail(['version'], 'must be 1 (or left out)')

  const providers = new Map<string, ProviderConfig>()
  const rawProviders = root.providers ?? {}
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

  const env = v.envMap(root.env, ['env'], providers)
  const files = v.fileMap(root.files, ['files'], providers, env)
  const environments = new Map<string, Map<string, EnvEntry>>()
  const environmentFiles = new Map<string, Map<string, FileEntry>>()
  const rawEnvironments = root.environments ?? {}
  if (!isPlainObject(rawEnvironments))
    v.fail(['environments'], 'must be a mapping of environment name to `{env: {...}}`')
  for (const [name, body] of Object.entries(rawEnvironments)) {
    const path = ['environments', name]
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name))
      v.fail(path, 'environment names are letters, digits, "_", "." and "-"')
    if (!isPlainObject(body)) v.fail(path, 'must be a mapping with an `env:` and/or `files:` section')
    v.onlyKeys(path, body, ['env', 'files'])
    const envOverrides = v.envMap(body.env, [...path, 'env'], providers)
    environments.set(name, envOverrides)
    environmentFiles.set(name, v.fileMap(body.files, [...path, 'files'], providers, envOverrides))
  }
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

/**
 * The files of the selected environment: the base `files:` overridden by `environments.<name>.files`.
 * A variable an environment maps in `env:` stops being a file there, and the other way round.
 */
export function selectFiles(config: ProjectConfig, name: string | undefined): Map<string, FileEntry> {
  const merged = new Map(config.files)
  if (name === undefined || name === '') return merged
  for (const key of config.environments.get(name)?.keys() ?? []) merged.delete(key)
  for (const [key, entry] of config.environmentFiles.get(name) ?? []) merged.set(key, entry)
  return merged
}

/** The variables of the selected environment: the base `env:` overridden by `environments.<name>.env`. */
export function selectEnvironment(config: ProjectConfig, name: string | undefined): Map<string, EnvEntry> {
  if (name === undefined || name === '') return new Map(config.env)
  const overrides = config.environments.get(name)
  if (overrides === undefined) {
    const known = [...config.environments.keys()]
    throw new SecretsError('CONFIG_INVALID', `Environment ${JSON.stringify(name)} is not defined in ${config.file}.`, {
      suggestions: [
        known.length > 0
          ? `Use one of: ${known.join(', ')}.`
          : 'Add it under `environments:` or drop --env / SECRETS_ENV.',
      ],
    })
  }
  const merged = new Map(config.env)
  for (const [key, entry] of overrides) merged.set(key, entry)
  for (const key of config.environmentFiles.get(name)?.keys() ?? []) merged.delete(key)
  return merged
}

function isPlainObject(x: unknown): x is Record<string, any> {
  return typeof x === 'object' && x !== null && !Array.isArray(x)
}

class Validator {
  private full?: {doc: Document; lineCounter: LineCounter}

  constructor(
    private readonly document: () => {doc: Document; lineCounter: LineCounter},
    private readonly file: string,
  ) {}

  lineOf(path: string[]): number | undefined {
    this.full ??= this.document()
    const {doc, lineCounter} = this.full
    const {isMap, isScalar} = requireYaml()
    for (let depth = path.length; depth >= 0; depth--) {
      const sub = path.slice(0, depth)
      // Prefer the key's position: it is where a reader looks for the field.
      const parent = sub.length === 0 ? doc.contents : doc.getIn(sub.slice(0, -1), true)
      if (sub.length > 0 && isMap(parent)) {
        const pair = parent.items.find((item) => isScalar(item.key) && String(item.key.value) === sub.at(-1))
        const range = (pair?.key as {range?: [number, number, number]} | undefined)?.range
        if (range) return lineCounter.linePos(range[0]).line
      }
      const node = sub.length === 0 ? doc.contents : doc.getIn(sub, true)
      const range = (node as {range?: [number, number, number]} | null)?.range
      if (range) return lineCounter.linePos(range[0]).line
    }
    return undefined
  }

  /** `line` as a lazy property: computed (loading `yaml`) only if someone reads it. */
  withLine<T extends object>(entry: T, path: string[]): T & {line?: number} {
    let line: number | undefined
    let known = false
    return Object.defineProperty(entry, 'line', {
      enumerable: true,
      get: () => {
        if (!known) {
          line = this.lineOf(path)
          known = true
        }
        return line
      },
    }) as T & {line?: number}
  }

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

  fail(path: string[], message: string): never {
    const line = this.lineOf(path)
    const where = `${this.file}${line === undefined ? '' : `:${line}`}`
    const field = path.length > 0 ? `\`${path.join('.')}\` ` : ''
    throw new SecretsError('CONFIG_INVALID', `${where}: ${field}${message}.`, {
      suggestions: [
        `Edit ${this.file}${line === undefined ? '' : ` at line ${line}`}; the README documents every field.`,
      ],
    })
  }

  onlyKeys(path: string[], obj: Record<string, unknown>, allowed: string[]): void {
    for (const key of Object.keys(obj)) {
      if (!allowed.includes(key))
        this.fail([...path, key], `is not a known field here (expected ${allowed.join(', ')})`)
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
        this.onlyKeys(p, value, ['ref', 'rotate'])
        if (typeof value.ref !== 'string')
          this.fail(
            [...p, 'ref'],
            'must be a reference string such as `local://NAME` (secret values never go in this file)',
          )
        const ref = this.reference([...p, 'ref'], value.ref, providers)
        const rotate =
          value.rotate === undefined || value.rotate === null
            ? undefined
            : this.rotation([...p, 'rotate'], value.rotate)
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

  /** `rotate: {every: 30d, generate: {type: password, length: 32}, verify: './check-db'}`. */
  private rotation(p: string[], raw: unknown): RotationPolicy {
    if (!isPlainObject(raw))
      this.fail(
        p,
        'must be a mapping such as `{every: 30d, generate: {type: password, length: 32}, verify: "./check"}`',
      )
    this.onlyKeys(p, raw, ['every', 'generate', 'verify'])
    const policy: RotationPolicy = {}
    if (raw.every !== undefined) {
      const every = typeof raw.every === 'string' ? parseDuration(raw.every) : undefined
      if (every === undefined)
        this.fail(
          [...p, 'every'],
          `${JSON.stringify(raw.every)} is not a duration; write a number and a unit (s, m, h, d, w), e.g. 30d or 12h`,
        )
      policy.every = every
    }
    if (raw.verify !== undefined) {
      if (typeof raw.verify !== 'string' || raw.verify.trim() === '')
        this.fail([...p, 'verify'], 'must be a shell command as a string, e.g. `./scripts/check-db`')
      policy.verify = raw.verify
    }
    if (raw.generate !== undefined) policy.generate = this.generator([...p, 'generate'], raw.generate)
    return this.withLine(policy, p)
  }

  private generator(p: string[], raw: unknown): GeneratorSpec {
    const spec = typeof raw === 'string' ? {type: raw} : raw
    if (!isPlainObject(spec))
      this.fail(
        p,
        `must be a generator type (${GENERATOR_TYPES.join(', ')}) or a mapping such as \`{type: password, length: 32}\``,
      )
    this.onlyKeys(p, spec, ['type', 'length', 'classes', 'symbols', 'charset'])
    if (!(GENERATOR_TYPES as readonly unknown[]).includes(spec.type))
      this.fail([...p, 'type'], `must be one of ${GENERATOR_TYPES.join(', ')}`)
    const out: GeneratorSpec = {type: spec.type as GeneratorSpec['type']}
    if (spec.length !== undefined) {
      if (!Number.isInteger(spec.length) || spec.length < 8 || spec.length > 4096)
        this.fail([...p, 'length'], 'must be a whole number from 8 to 4096')
      if (spec.type === 'uuid') this.fail([...p, 'length'], 'does not apply to uuid')
      out.length = spec.length
    }
    for (const key of ['classes', 'symbols', 'charset'] as const) {
      if (spec[key] !== undefined && spec.type !== 'password')
        this.fail([...p, key], 'applies to `type: password` only')
    }
    if (spec.classes !== undefined) {
      if (
        !Array.isArray(spec.classes) ||
        spec.classes.length === 0 ||
        !spec.classes.every((c: unknown) => (PASSWORD_CLASSES as readonly unknown[]).includes(c))
      ) {
        this.fail([...p, 'classes'], `must be a list of ${PASSWORD_CLASSES.join(', ')}`)
      }
      out.classes = [...new Set(spec.classes as NonNullable<GeneratorSpec['classes']>)]
    }
    if (spec.symbols !== undefined) {
      if (
        typeof spec.symbols !== 'string' ||
        spec.symbols.length === 0 ||
        /[\s\p{L}\p{N}]/u.test(spec.symbols) ||
        !/^[\x21-\x7e]+$/.test(spec.symbols)
      ) {
        this.fail([...p, 'symbols'], 'must be printable ASCII punctuation, e.g. "!#%+-.:=@^_~"')
      }
      out.symbols = spec.symbols
    }
    if (spec.charset !== undefined) {
      if (typeof spec.charset !== 'string' || new Set(spec.charset).size < 10 || !/^[\x21-\x7e]+$/.test(spec.charset)) {
        this.fail([...p, 'charset'], 'must be a string of at least 10 distinct printable ASCII characters')
      }
      if (spec.classes !== undefined) this.fail([...p, 'charset'], 'replaces `classes`; give one or the other')
      out.charset = spec.charset
    }
    if (out.classes !== undefined && out.length !== undefined && out.classes.length > out.length)
      this.fail([...p, 'length'], 'is shorter than the number of required character classes')
    return out
  }

  /** `cache: {maxAge: 24h}` (or `cache: {}`): the offline fallback cache for every command that resolves. */
  cache(raw: unknown): {maxAgeMs?: number} | undefined {
    if (raw === undefined || raw === null) return undefined
    if (!isPlainObject(raw)) this.fail(['cache'], 'must be a mapping, e.g. `cache: {maxAge: 24h}`')
    this.onlyKeys(['cache'], raw, ['maxAge'])
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
        this.onlyKeys(p, value, ['ref', 'template', 'mode', 'name'])
        if (value.template !== undefined) {
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
            !/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(value.name) ||
            value.name.length > 255
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
          isPlainObject(value) ? [...p, 'ref'] : p,
          'must be a reference string such as `local://TLS_CERT` (secret values never go in this file)',
        )
      const clash = fileNames.get(fileName)
      if (clash !== undefined)
        this.fail(
          p,
          `writes the file ${JSON.stringify(fileName)}, as ${clash} does; give one of them another \`name:\``,
        )
      fileNames.set(fileName, name)
      const source =
        template === undefined
          ? {ref: this.reference(isPlainObject(value) ? [...p, 'ref'] : p, refText as string, providers)}
          : {template}
      out.set(name, this.withLine({name, ...source, mode, fileName}, p))
    }
    return out
  }

  private fileMode(p: string[], raw: unknown): number {
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
