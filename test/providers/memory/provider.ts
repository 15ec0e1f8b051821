// An in-memory provider for tests only: registered in-process (src/providers/loader.ts registerProvider),
// never built into the CLI. The read-write variant has write, delete, versions, rollback and staged
// rotation; the read-only one reads and lists only, so the suites' UNSUPPORTED branches run against it.
import {checkParams, type Reference} from '../../../src/core/reference.js'
import {SecretValue} from '../../../src/core/secret-value.js'
import {SecretsError} from '../../../src/errors.js'
import {registerProvider} from '../../../src/providers/loader.js'
import {defineProvider, type SettingsOf} from '../../../src/providers/spec.js'
import type {
  ProviderContext,
  ReadOutcome,
  SecretMeta,
  SecretProvider,
  VersionInfo,
} from '../../../src/providers/types.js'

export const memorySpec = defineProvider({
  kind: 'memory',
  title: 'an in-memory store (tests only)',
  settings: {store: 'string', readOnly: 'boolean'},
  credentialHint: 'nothing (tests only)',
  keyServices: [],
  sdkPackages: [],
  docs: 'test/providers/memory/provider.ts',
})

type MemorySettings = SettingsOf<typeof memorySpec.settings>

interface Version {
  value: string
  created: string
}

/** One named store: every secret's versions (1-based) and which is current, plus a pending one. */
interface Secret {
  versions: Version[]
  current: number
  pending?: number
}

/** The stores by name, shared by every provider opened on them in this process; `counts` by operation. */
export const stores = new Map<string, Map<string, Secret>>()
export const counts: Record<string, number> = {}

function storeOf(name: string): Map<string, Secret> {
  let s = stores.get(name)
  if (s === undefined) stores.set(name, (s = new Map()))
  return s
}

function count(op: string): void {
  counts[op] = (counts[op] ?? 0) + 1
}

function notFound(ref: Reference): SecretsError {
  return new SecretsError('NOT_FOUND', `${ref.raw} does not exist.`, {ref: ref.raw})
}

function conflict(ref: Reference, why: string): SecretsError {
  return new SecretsError('CONFLICT', `${ref.raw}: ${why}.`, {ref: ref.raw})
}

/** Put a value in as another client would (a fixture's seed). */
export function seed(store: string, name: string, value: string): void {
  const s = storeOf(store)
  const secret = s.get(name) ?? {versions: [], current: 0}
  secret.versions.push({value, created: new Date().toISOString()})
  secret.current = secret.versions.length
  s.set(name, secret)
}

function readOne(secrets: Map<string, Secret>, ref: Reference): ReadOutcome {
  const secret = secrets.get(ref.path)
  const n = ref.params.version === undefined ? secret?.current : Number(ref.params.version)
  const v = n === undefined ? undefined : secret?.versions[n - 1]
  if (v === undefined || n === secret?.pending) return {ok: false, ref, error: notFound(ref)}
  return {ok: true, ref, value: new SecretValue(v.value), version: String(n)}
}

function readOnlyProvider(ctx: ProviderContext, secrets: Map<string, Secret>): SecretProvider {
  return {
    alias: ctx.config.alias,
    type: 'memory',
    capabilities: {batchSize: Number.POSITIVE_INFINITY, params: ['version']},
    async read(refs) {
      count('read')
      for (const ref of refs) checkParams(ref, ['version'])
      return refs.map((ref) => readOne(secrets, ref))
    },
    async list(): Promise<SecretMeta[]> {
      count('list')
      return [...secrets.entries()]
        .filter(([, s]) => s.current > 0)
        .map(([name, s]) => ({
          name,
          ref: `${ctx.config.alias}://${name}`,
          version: String(s.current),
          versions: s.versions.length,
        }))
    },
    async check() {
      return `in memory: ${secrets.size} secret(s)`
    },
  }
}

function staged(
  secrets: Map<string, Secret>,
): Pick<Required<SecretProvider>, 'writePending' | 'readPending' | 'promote' | 'discardPending'> {
  const existing = (ref: Reference): Secret => {
    const s = secrets.get(ref.path)
    if (s === undefined) throw notFound(ref)
    return s
  }
  return {
    async writePending(ref, value, o) {
      count('writePending')
      const s = existing(ref)
      if (String(s.current) !== o.base) throw conflict(ref, `version ${o.base} is no longer current`)
      if (s.pending !== undefined) throw conflict(ref, 'another rotation is pending')
      s.versions.push({value: value.text(), created: new Date().toISOString()})
      s.pending = s.versions.length
      return {pending: String(s.pending)}
    },
    async readPending(ref, pending) {
      const s = existing(ref)
      if (s.pending === undefined || String(s.pending) !== pending) throw notFound(ref)
      return new SecretValue(s.versions[s.pending - 1].value)
    },
    async promote(ref, o) {
      count('promote')
      const s = existing(ref)
      if (String(s.current) !== o.base || String(s.pending) !== o.pending)
        throw conflict(ref, 'the rotation is no longer current')
      s.current = s.pending!
      s.pending = undefined
      return {version: String(s.current)}
    },
    async discardPending(ref) {
      count('discardPending')
      existing(ref).pending = undefined
    },
  }
}

function readWriteProvider(ctx: ProviderContext, secrets: Map<string, Secret>, store: string): SecretProvider {
  return {
    ...readOnlyProvider(ctx, secrets),
    async write(ref, value) {
      count('write')
      seed(store, ref.path, value.text())
      return {version: String(secrets.get(ref.path)!.current)}
    },
    async delete(ref) {
      count('delete')
      const s = secrets.get(ref.path)
      if (s === undefined) throw notFound(ref)
      secrets.delete(ref.path)
      return {versions: s.versions.length}
    },
    async versions(ref): Promise<VersionInfo[]> {
      const s = secrets.get(ref.path)
      if (s === undefined) throw notFound(ref)
      return s.versions
        .map((v, i) => ({
          version: String(i + 1),
          created: v.created,
          current: i + 1 === s.current,
          ...(i + 1 === s.pending ? {pending: true} : {}),
        }))
        .reverse()
    },
    async restoreVersion(ref, o) {
      const s = secrets.get(ref.path)
      if (s === undefined) throw notFound(ref)
      if (String(s.current) !== o.expected) throw conflict(ref, `version ${o.expected} is no longer current`)
      s.current = Number(o.version)
      return {version: o.version}
    },
    ...staged(secrets),
  }
}

/** Register the `memory` kind in this process (both variants: `readOnly: true` in secrets.yaml); returns the undo. */
export function registerMemoryProvider(): () => void {
  return registerProvider(memorySpec, {
    async createProvider(ctx) {
      const settings = ctx.config.settings as MemorySettings
      const store = settings.store ?? ctx.config.alias
      const secrets = storeOf(store)
      return settings.readOnly === true ? readOnlyProvider(ctx, secrets) : readWriteProvider(ctx, secrets, store)
    },
  })
}
