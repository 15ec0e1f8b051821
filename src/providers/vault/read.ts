import {checkParams, type Reference} from '../../core/reference.js'
import {SecretsError} from '../../errors.js'
import type {ReadOutcome} from '../types.js'
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
