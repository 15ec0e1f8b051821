import {checkParams, type EntryParam, type Reference} from '../../core/reference.js'
import {SecretValue} from '../../core/secret-value.js'
import {SecretsError} from '../../errors.js'
import type {ReadOutcome} from '../types.js'
import {readDynamic, requestKey, type DynamicHost} from './dynamic.js'
import type {VaultHost} from './host.js'
import {readMap} from './kv.js'
import type {Location} from './location.js'
import {locateRead} from './mounts.js'
import {parseVersionParam} from './settings.js'

/**
 * The references that read one (path, version, request parameters): one request however many #fields
 * reference it. `request`: the query's parameters but `version`, with the entry's `params:` (a write
 * that issues a dynamic credential takes them; on a KV path they are refused once the mount is known).
 */
export interface ReadGroup {
  path: string
  version?: number
  request: Record<string, EntryParam>
  indexes: number[]
}

/** The parameters of the request a dynamic reference makes: the query's (but `version`) and the entry's. */
export function requestParams(ref: Reference): Record<string, EntryParam> {
  const out: Record<string, EntryParam> = {}
  for (const [k, v] of [...Object.entries(ref.params), ...Object.entries(ref.entryParams ?? {})])
    if (k !== 'version') Object.defineProperty(out, k, {value: v, enumerable: true, writable: true, configurable: true})
  return out
}

/** Group `refs` by (path, version, parameters); a reference with bad parameters gets its outcome in `outcomes` at once. */
export function groupReads(refs: Reference[], outcomes: ReadOutcome[]): Map<string, ReadGroup> {
  const groups = new Map<string, ReadGroup>()
  for (const [i, ref] of refs.entries()) {
    try {
      const version = parseVersionParam(ref.params.version, ref.raw)
      const request = requestParams(ref)
      const key = `${ref.path}\0${version ?? ''}\0${requestKey(request)}`
      const g = groups.get(key) ?? {path: ref.path, version, request, indexes: []}
      g.indexes.push(i)
      groups.set(key, g)
    } catch (error) {
      outcomes[i] = {ok: false, ref, error: error as SecretsError}
    }
  }
  return groups
}

/** The error of the first reference of a group, as the error of another reference in it. */
export function forReference(error: SecretsError, first: Reference, ref: Reference): SecretsError {
  return error.ref === ref.raw
    ? error
    : new SecretsError(error.code, error.message.replace(first.raw, ref.raw), {
        ref: ref.raw,
        suggestions: error.suggestions,
        retryable: error.retryable,
      })
}

type Located = Location | {engine: string; mount: string} | SecretsError

/** Locate each group's path once; a path that cannot be located keeps its error for its references. */
async function locateGroups(
  v: VaultHost,
  refs: Reference[],
  groups: Map<string, ReadGroup>,
): Promise<Map<string, Located>> {
  const located = new Map<string, Located>()
  for (const g of groups.values()) {
    if (located.has(g.path)) continue
    try {
      located.set(g.path, await locateRead(v, g.path, refs[g.indexes[0]].raw))
    } catch (error) {
      if (!(error instanceof SecretsError)) throw error
      located.set(g.path, error)
    }
  }
  return located
}

/** Read one group (one request) and set the outcome of each of its references. */
async function readGroup(
  v: DynamicHost,
  refs: Reference[],
  outcomes: ReadOutcome[],
  g: ReadGroup,
  loc: Located,
  params: readonly string[],
): Promise<void> {
  const first = refs[g.indexes[0]]
  const fail = (error: SecretsError): void => {
    for (const i of g.indexes)
      outcomes[i] = {
        ok: false,
        ref: refs[i],
        error: forReference(error, first, refs[i]),
      }
  }
  if (loc instanceof SecretsError) return fail(loc)
  if ('engine' in loc) return readDynamicGroup(v, refs, outcomes, g, loc, fail)
  const kvParams = kvRequestError(refs, g, params, loc)
  if (kvParams !== undefined) return fail(kvParams)
  if (loc.version === 1 && g.version !== undefined) {
    return fail(
      new SecretsError(
        'UNSUPPORTED',
        `${first.raw} asks for a version, but ${loc.mount} is a KV v1 mount, which keeps no versions.`,
        {ref: first.raw},
      ),
    )
  }
  try {
    const r = await readMap(v, loc, g.version, first.raw)
    if (r.data === undefined) {
      const what =
        g.version === undefined ? first.raw.split('#')[0].split('?')[0] : `Version ${g.version} of ${first.path}`
      return fail(
        new SecretsError('NOT_FOUND', `${what} does not exist in Vault (or was deleted).`, {
          ref: first.raw,
          suggestions: [`See what exists with \`secrets list ${v.alias}\`.`],
        }),
      )
    }
    const value = new SecretValue(JSON.stringify(r.data))
    for (const i of g.indexes)
      outcomes[i] = {
        ok: true,
        ref: refs[i],
        value,
        version: r.version === undefined ? undefined : String(r.version),
      }
  } catch (error) {
    if (!(error instanceof SecretsError)) throw error
    fail(error)
  }
}

/** A group in another secrets engine: one read (so one credential, one lease) for all its references. */
async function readDynamicGroup(
  v: DynamicHost,
  refs: Reference[],
  outcomes: ReadOutcome[],
  g: ReadGroup,
  loc: {engine: string},
  fail: (error: SecretsError) => void,
): Promise<void> {
  const first = refs[g.indexes[0]]
  if (g.version !== undefined)
    return fail(
      new SecretsError('UNSUPPORTED', `${first.raw} asks for a version, but dynamic credentials have none.`, {
        ref: first.raw,
      }),
    )
  try {
    const r = await readDynamic(
      v,
      {path: g.path, request: g.request, write: needsWrite(loc.engine, g.request)},
      first.raw,
    )
    const value = new SecretValue(JSON.stringify(r.data))
    for (const i of g.indexes)
      outcomes[i] = {ok: true, ref: refs[i], value, ...(r.lease === undefined ? {} : {lease: r.lease})}
  } catch (error) {
    if (!(error instanceof SecretsError)) throw error
    fail(error)
  }
}

/**
 * A pki mount issues (`issue/<role>`, `sign/<role>`) only on a write; elsewhere a reference with
 * parameters writes them (`aws/sts/<role>` with a `ttl`), one without reads, as `vault read` does.
 */
export function needsWrite(engine: string, request: Readonly<Record<string, EntryParam>>): boolean {
  return engine === 'pki' || Object.keys(request).length > 0
}

/** Parameters on a KV path: a query one the provider does not know, or an entry's `params:`, which KV takes none of. */
function kvRequestError(
  refs: Reference[],
  g: ReadGroup,
  params: readonly string[],
  loc: Location,
): SecretsError | undefined {
  const first = refs[g.indexes[0]]
  try {
    checkParams(first, params)
  } catch (error) {
    return error as SecretsError
  }
  if (Object.keys(g.request).length === 0) return undefined
  return new SecretsError(
    'CONFIG_INVALID',
    `${first.raw} has \`params:\` in secrets.yaml, but ${loc.mount}/ is a KV v${loc.version} mount, which reads secrets and takes no parameters: \`params:\` is for paths that issue a credential on a write (pki/issue/<role>, aws/sts/<role>).`,
    {ref: first.raw, suggestions: ['Remove `params:` from this entry in secrets.yaml.']},
  )
}

/** Read `refs`, one request per (path, version) however many #fields reference it. */
export async function readSecrets(
  v: DynamicHost,
  refs: Reference[],
  params: readonly string[],
): Promise<ReadOutcome[]> {
  await v.authenticated()
  const outcomes: ReadOutcome[] = Array.from({length: refs.length})
  const groups = groupReads(refs, outcomes)
  const located = await locateGroups(v, refs, groups)
  await Promise.all([...groups.values()].map((g) => readGroup(v, refs, outcomes, g, located.get(g.path)!, params)))
  return outcomes
}
