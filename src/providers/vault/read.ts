import {checkParams, type Reference} from '../../core/reference.js'
import {SecretValue} from '../../core/secret-value.js'
import {SecretsError} from '../../errors.js'
import type {ReadOutcome} from '../types.js'
import {readDynamic, type DynamicHost} from './dynamic.js'
import type {VaultHost} from './host.js'
import {readMap} from './kv.js'
import type {Location} from './location.js'
import {locateRead} from './mounts.js'
import {parseVersionParam} from './settings.js'

/** The references that read one (path, version): one request however many #fields reference it. */
export interface ReadGroup {
  path: string
  version?: number
  indexes: number[]
}

/** Group `refs` by (path, version); a reference with bad parameters gets its outcome in `outcomes` at once. */
export function groupReads(
  refs: Reference[],
  outcomes: ReadOutcome[],
  params: readonly string[],
): Map<string, ReadGroup> {
  const groups = new Map<string, {path: string; version?: number; indexes: number[]}>()
  for (const [i, ref] of refs.entries()) {
    try {
      checkParams(ref, params)
      const version = parseVersionParam(ref.params.version, ref.raw)
      const key = `${ref.path}\0${version ?? ''}`
      const g = groups.get(key) ?? {path: ref.path, version, indexes: []}
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
  if ('engine' in loc) return readDynamicGroup(v, refs, outcomes, g, fail)
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
    const r = await readDynamic(v, g.path, first.raw)
    const value = new SecretValue(JSON.stringify(r.data))
    for (const i of g.indexes)
      outcomes[i] = {ok: true, ref: refs[i], value, ...(r.lease === undefined ? {} : {lease: r.lease})}
  } catch (error) {
    if (!(error instanceof SecretsError)) throw error
    fail(error)
  }
}

/** Read `refs`, one request per (path, version) however many #fields reference it. */
export async function readSecrets(
  v: DynamicHost,
  refs: Reference[],
  params: readonly string[],
): Promise<ReadOutcome[]> {
  await v.authenticated()
  const outcomes: ReadOutcome[] = Array.from({length: refs.length})
  const groups = groupReads(refs, outcomes, params)
  const located = await locateGroups(v, refs, groups)
  await Promise.all([...groups.values()].map((g) => readGroup(v, refs, outcomes, g, located.get(g.path)!)))
  return outcomes
}
