// What `secrets list` shows without an argument: the variables the app would get, built by the same
// Session calls `exec` uses, with where each comes from and, where the provider can say so from metadata
// alone, its version and last change. No value is read.
import {SecretsError} from '../../errors.js'
import {supports} from '../../providers/capabilities.js'
import type {SecretMeta} from '../../providers/types.js'
import type {FileEntry} from '../config/types.js'
import type {Reference} from '../reference.js'
import type {Session} from '../session.js'

/** One variable of the environment as `secrets list` reports it; never a value. */
export interface InventoryEntry {
  /** The variable the app sees (for a `files:` entry: the variable that holds the file's path). */
  name: string
  /** The reference it resolves, as written in secrets.yaml; absent for a template. */
  ref?: string
  /** The provider alias and its type; absent for a template. */
  provider?: string
  kind?: string
  /** `env:`, `files:`, `environments.<name>`, `environments.<name>.files` or `implicit` (a local store's secret). */
  from: string
  /** For a `files:` entry: the file name in the private directory, and the template it renders, if any. */
  file?: string
  template?: string
  version?: string
  updated?: string
  /** The local secret of the same name that a mapping hides from the app. */
  shadows?: string
  /** Why the metadata could not be read (the secret is missing, access denied ...). */
  error?: {code: string; message: string}
}

/** The environment `exec` would build, as `secrets list` shows it. */
export interface Inventory {
  /** The selected environment (`--env` / SECRETS_ENV), or null for the base `env:`. */
  environment: string | null
  variables: InventoryEntry[]
}

const FIELDS = [
  'name',
  'ref',
  'provider',
  'kind',
  'from',
  'file',
  'template',
  'version',
  'updated',
  'shadows',
  'error',
] as const satisfies ReadonlyArray<keyof InventoryEntry>

/** One key order for `--json`, whatever order the fields were filled in. */
function ordered(e: InventoryEntry): InventoryEntry {
  return Object.fromEntries(FIELDS.filter((k) => e[k] !== undefined).map((k) => [k, e[k]])) as unknown as InventoryEntry
}

/** How many metadata requests run at once per provider. */
const CONCURRENCY = 8

/** Where a variable of the selected environment is declared (the names come from Session.variables/files). */
function origin(session: Session, name: string, environment: string | undefined, isFile: boolean): string {
  const config = session.config
  if (isFile)
    return environment && config.environmentFiles.get(environment)?.has(name)
      ? `environments.${environment}.files`
      : 'files:'
  if (environment && config.environments.get(environment)?.has(name)) return `environments.${environment}`
  if (config.env.has(name)) return 'env:'
  return 'implicit'
}

/** The local secrets each local store would inject under their own names (to name what a mapping shadows). */
async function implicitNames(session: Session): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  for (const p of session.config.providers.values()) {
    if (p.type !== 'local') continue
    const implicit = (await (await session.provider(p.alias)).implicitEnv?.()) ?? new Map<string, Reference>()
    for (const [name, ref] of implicit) if (!out.has(name)) out.set(name, ref.raw)
  }
  return out
}

function entryFor(session: Session, name: string, ref: Reference, from: string, file?: FileEntry): InventoryEntry {
  return {
    name,
    ref: ref.raw,
    provider: ref.alias,
    kind: session.providerConfig(ref.alias).type,
    from,
    ...(file === undefined ? {} : {file: file.fileName}),
  }
}

/** Fill in version and last change from each provider's `describe` (metadata only), providers in parallel. */
async function describeAll(session: Session, entries: Array<{entry: InventoryEntry; ref: Reference}>): Promise<void> {
  const byAlias = new Map<string, Array<{entry: InventoryEntry; ref: Reference}>>()
  for (const e of entries) byAlias.set(e.ref.alias, [...(byAlias.get(e.ref.alias) ?? []), e])
  await Promise.all(
    [...byAlias].map(async ([alias, group]) => {
      const fail = (entry: InventoryEntry, error: unknown) => {
        if (!(error instanceof SecretsError)) throw error
        entry.error = {code: error.code, message: error.message.split('\n')[0]}
      }
      let provider
      try {
        provider = await session.provider(alias)
      } catch (error) {
        for (const {entry} of group) fail(entry, error)
        return
      }
      if (!supports(provider, 'describe')) return
      let next = 0
      const worker = async (): Promise<void> => {
        while (next < group.length) {
          const {entry, ref} = group[next++]
          try {
            const meta: SecretMeta = await provider.describe(ref)
            // A reference that pins a version or stage gets that one, not the current version described.
            if (Object.keys(ref.params).length > 0) {
              if (ref.params.version !== undefined) entry.version = ref.params.version
            } else {
              if (meta.version !== undefined) entry.version = meta.version
              if (meta.updated !== undefined) entry.updated = meta.updated
            }
          } catch (error) {
            fail(entry, error)
          }
        }
      }
      await Promise.all(Array.from({length: Math.min(CONCURRENCY, group.length)}, worker))
    }),
  )
}

/**
 * The variables and `files:` entries of the selected environment, sorted by name: the same Session calls
 * `exec` resolves (so a mapping wins over a local secret of the same name, and a `files:` variable holds
 * a path), described by metadata calls alone.
 */
export async function environmentInventory(session: Session, environment?: string): Promise<Inventory> {
  const env = environment === '' ? undefined : environment
  const vars = await session.variables(env)
  const files = session.files(env)
  const implicit = await implicitNames(session)
  const described: Array<{entry: InventoryEntry; ref: Reference}> = []
  const out: InventoryEntry[] = []
  for (const [name, ref] of vars) {
    const entry = entryFor(session, name, ref, origin(session, name, env, false))
    const local = implicit.get(name)
    if (local !== undefined && local !== ref.raw && entry.from !== 'implicit') entry.shadows = local
    out.push(entry)
    described.push({entry, ref})
  }
  for (const [name, file] of files) {
    const from = origin(session, name, env, true)
    if (file.ref === undefined) {
      out.push({name, from, file: file.fileName, ...(file.template === undefined ? {} : {template: file.template})})
      continue
    }
    const entry = entryFor(session, name, file.ref, from, file)
    out.push(entry)
    described.push({entry, ref: file.ref})
  }
  await describeAll(session, described)
  out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  return {environment: env ?? null, variables: out.map(ordered)}
}
