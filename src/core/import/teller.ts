import {SecretsError} from '../../errors.js'
import type {ProjectConfig} from '../config/types.js'
import {ALIAS_PATTERN, ENV_NAME_PATTERN, parseReference} from '../reference.js'

/**
 * teller (v2, https://github.com/tellerops/teller) describes where each variable lives in `.teller.yml`:
 * `providers.<name>: {kind, options, maps: [{id, path, protocol, keys: {SOURCE: TARGET | '=='}}]}`.
 * This turns that description into `providers:` and `env:` entries, fetching no values. Kinds without a
 * provider here (ssm, google_secretmanager, hashicorp_consul, dotenv, inmem) are reported, not guessed.
 */

/** One provider the import adds, or finds already declared with the same type and settings. */
export interface TellerProvider {
  alias: string
  type: string
  settings: Record<string, unknown>
  status: 'add' | 'same'
  /** The teller provider it comes from. */
  from: string
}

/** One `env:` entry: `add` (new), `same` (declared with this reference), `change` (declared with another). */
export interface TellerVariable {
  name: string
  ref: string
  status: 'add' | 'same' | 'change'
  /** The reference secrets.yaml has today, for `change`. */
  current?: string
  from: string
}

export interface TellerPlan {
  providers: TellerProvider[]
  env: TellerVariable[]
  /** What could not be turned into an entry, and why (never a value: teller's file holds none we copy). */
  skipped: Array<{what: string; reason: string}>
  /** Options not copied (credentials belong in the provider's own variables) and templates evaluated. */
  notes: string[]
}

type Mapping = Record<string, unknown>
const isMapping = (v: unknown): v is Mapping => typeof v === 'object' && v !== null && !Array.isArray(v)

function invalid(file: string, what: string): never {
  throw new SecretsError('USAGE', `${file} is not a teller configuration: ${what}; nothing was imported.`, {
    suggestions: [
      'A .teller.yml has `providers:`, each with `kind:` and `maps:` of `{id, path, keys}` (teller v2). Pass the file teller itself reads.',
    ],
  })
}

/**
 * teller renders its file with Tera before reading it. The one function its configurations use in
 * practice, `get_env(name="X", default="Y")`, is evaluated the way teller does (the variable, else the
 * default); anything else is refused, since the references would be guesses.
 */
export function renderTellerTemplates(
  text: string,
  file: string,
  env: NodeJS.ProcessEnv,
): {text: string; used: string[]} {
  const used: string[] = []
  const call = /\{\{\s*get_env\(\s*name\s*=\s*"([^"]*)"\s*(?:,\s*default\s*=\s*"([^"]*)"\s*)?\)\s*\}\}/g
  const rendered = text.replace(call, (_m, name: string, fallback: string | undefined) => {
    const value = env[name]
    if (value !== undefined && value !== '') {
      used.push(`${name} (from the environment)`)
      return value
    }
    if (fallback === undefined)
      throw new SecretsError(
        'USAGE',
        `${file} uses get_env(name="${name}") without a default, and ${name} is not set; nothing was imported.`,
        {suggestions: [`Set ${name} to the value teller would see, and run the import again.`]},
      )
    used.push(`${name} (its default)`)
    return fallback
  })
  const left = rendered.split(/\r?\n/).findIndex((l) => l.includes('{{') || l.includes('{%'))
  if (left !== -1)
    throw new SecretsError(
      'USAGE',
      `${file} line ${left + 1} holds a template secrets cannot evaluate (only get_env(name=..., default=...) is); nothing was imported.`,
      {
        suggestions: [
          'Replace the template with the path it renders to (in a copy of the file), and run the import again.',
        ],
      },
    )
  return {text: rendered, used: [...new Set(used)]}
}

interface TellerMap {
  id: string
  path: string
  protocol?: string
  keys: Array<[string, string]>
}

function readMaps(file: string, name: string, raw: unknown): TellerMap[] {
  if (!Array.isArray(raw)) invalid(file, `providers.${name}.maps is not a list`)
  return raw.map((m, i) => {
    if (!isMapping(m) || typeof m.path !== 'string') invalid(file, `providers.${name}.maps[${i}] has no path`)
    const keys = m.keys === undefined || m.keys === null ? {} : m.keys
    if (!isMapping(keys) || Object.values(keys).some((v) => typeof v !== 'string'))
      invalid(file, `providers.${name}.maps[${i}].keys is not a mapping of names`)
    return {
      id: typeof m.id === 'string' ? m.id : String(i),
      path: m.path,
      protocol: typeof m.protocol === 'string' ? m.protocol : undefined,
      keys: Object.entries(keys as Record<string, string>),
    }
  })
}

const KINDS: Record<string, 'vault' | 'aws'> = {
  hashicorp: 'vault',
  // Older teller documentation spells the kind out; teller v2 itself reads `hashicorp`.
  hashicorp_vault: 'vault',
  aws_secretsmanager: 'aws',
  aws_secrets_manager: 'aws',
}

/** Settings of a provider, from teller's `options`: non-secret ones only; credentials are named, never copied. */
function settingsOf(type: 'vault' | 'aws', options: unknown, name: string, notes: string[]): Mapping {
  const o = isMapping(options) ? options : {}
  const copy: Record<string, string> =
    type === 'vault' ? {address: 'address', namespace: 'namespace'} : {region: 'region', endpoint_url: 'endpoint'}
  const settings: Mapping = {}
  const dropped: string[] = []
  for (const [key, value] of Object.entries(o)) {
    if (copy[key] !== undefined && typeof value === 'string') settings[copy[key]] = value
    else dropped.push(key)
  }
  if (dropped.length > 0)
    notes.push(
      `providers.${name}.options ${dropped.join(', ')} not copied: ${
        type === 'vault'
          ? 'a token comes from VAULT_TOKEN, ~/.vault-token or an auth: method'
          : 'credentials come from the AWS SDK chain (AWS_PROFILE, AWS_ACCESS_KEY_ID, SSO, roles)'
      }, never from secrets.yaml.`,
    )
  return settings
}

function aliasFor(name: string, taken: Set<string>): string {
  let base = name
    .toLowerCase()
    .replaceAll(/[^a-z0-9-]+/g, '-')
    .replaceAll(/^-+|-+$/g, '')
  if (!/^[a-z]/.test(base)) base = `teller-${base}`.replace(/-$/, '')
  let alias = base
  for (let n = 2; taken.has(alias) || !ALIAS_PATTERN.test(alias); n++) alias = `${base}-${n}`
  return alias
}

const sameSettings = (a: Mapping, b: Mapping): boolean => JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b))
function sortKeys(v: unknown): unknown {
  if (!isMapping(v)) return v
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, sortKeys(v[k])]),
  )
}

/** The reference of one teller key, or why there is none. */
function referenceOf(type: 'vault' | 'aws', alias: string, map: TellerMap, key: string): string | {reason: string} {
  const path = type === 'vault' ? map.path.replace(/^\/+/, '') : map.path
  if (type === 'vault' && !path.includes('/'))
    return {reason: `path ${JSON.stringify(map.path)} has no mount (teller reads "mount/path")`}
  if (type === 'aws' && path.startsWith('/'))
    return {reason: `secret name ${JSON.stringify(path)} starts with "/": write its ARN as the reference by hand`}
  const ref = `${alias}://${path}#${key}`
  try {
    parseReference(ref)
  } catch {
    return {reason: `${JSON.stringify(ref)} is not a valid reference`}
  }
  return ref
}

interface Builder {
  file: string
  config: ProjectConfig
  plan: TellerPlan
  taken: Set<string>
}

function addVariables(b: Builder, tellerName: string, type: 'vault' | 'aws', alias: string, maps: TellerMap[]): void {
  for (const map of maps) {
    const where = `providers.${tellerName}.maps[${map.id}]`
    if (map.keys.length === 0) {
      b.plan.skipped.push({
        what: `${where} (${map.path})`,
        reason:
          'no keys: teller maps every field it finds there, which only reading the secret can tell; list them under keys: and import again, or add env: entries by hand',
      })
      continue
    }
    for (const [source, target] of map.keys) {
      const name = target === '==' ? source : target
      const from = `${where} ${source}`
      if (!ENV_NAME_PATTERN.test(name) || name.startsWith('SECRETS_')) {
        b.plan.skipped.push({what: from, reason: `${JSON.stringify(name)} is not a variable name secrets can inject`})
        continue
      }
      const ref = referenceOf(type, alias, map, source)
      if (typeof ref !== 'string') {
        b.plan.skipped.push({what: from, reason: ref.reason})
        continue
      }
      if (b.plan.env.some((v) => v.name === name)) {
        b.plan.skipped.push({what: from, reason: `${name} is mapped earlier in the file (teller keeps one of them)`})
        continue
      }
      const current = b.config.env.get(name)?.ref.raw
      const status = current === undefined ? 'add' : current === ref ? 'same' : 'change'
      b.plan.env.push({name, ref, status, from, ...(status === 'change' ? {current} : {})})
    }
  }
}

function kvPins(file: string, tellerName: string, maps: TellerMap[]): Mapping | undefined {
  const kv: Record<string, number> = {}
  for (const map of maps) {
    const mount = map.path.replace(/^\/+/, '').split('/')[0]
    const version = map.protocol === undefined || map.protocol === 'kv2' ? 2 : map.protocol === 'kv1' ? 1 : undefined
    if (version === undefined) invalid(file, `providers.${tellerName} map ${map.id} has protocol ${map.protocol}`)
    if (mount !== '' && map.path.includes('/')) kv[mount] = kv[mount] ?? version
  }
  return Object.keys(kv).length === 0 ? undefined : kv
}

function addProvider(b: Builder, tellerName: string, raw: Mapping): void {
  const kind = raw.kind
  if (typeof kind !== 'string') invalid(b.file, `providers.${tellerName} has no kind`)
  const type = KINDS[kind]
  const maps = readMaps(b.file, tellerName, raw.maps ?? [])
  if (type === undefined) {
    b.plan.skipped.push({
      what: `providers.${tellerName} (kind ${kind}, ${maps.length} map${maps.length === 1 ? '' : 's'})`,
      reason:
        kind === 'dotenv'
          ? 'a .env file: import its values with `secrets import <its path>`'
          : `secrets has no ${kind} provider (it has vault, aws, azure and local)`,
    })
    return
  }
  const settings = settingsOf(type, raw.options, tellerName, b.plan.notes)
  const pins = type === 'vault' ? kvPins(b.file, tellerName, maps) : undefined
  if (pins) settings.kv = pins
  // Re-importing is a no-op: a provider declared with this type and these settings is reused.
  const existing = [...b.config.providers.values()].find(
    (p) => p.type === type && sameSettings(p.settings, {type, ...settings}),
  )
  const alias = existing?.alias ?? aliasFor(typeof raw.name === 'string' ? raw.name : tellerName, b.taken)
  b.taken.add(alias)
  b.plan.providers.push({alias, type, settings, status: existing ? 'same' : 'add', from: `providers.${tellerName}`})
  addVariables(b, tellerName, type, alias, maps)
}

/** The plan for a parsed (and template-rendered) teller file against the project's config. */
export function planTeller(file: string, root: unknown, config: ProjectConfig): TellerPlan {
  if (!isMapping(root) || !isMapping(root.providers)) invalid(file, 'it has no providers: mapping')
  const plan: TellerPlan = {providers: [], env: [], skipped: [], notes: []}
  const b: Builder = {file, config, plan, taken: new Set(config.providers.keys())}
  for (const [name, raw] of Object.entries(root.providers)) {
    if (!isMapping(raw)) invalid(file, `providers.${name} is not a mapping`)
    addProvider(b, name, raw)
  }
  return plan
}
