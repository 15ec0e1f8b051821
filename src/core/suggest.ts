import {distance} from 'fastest-levenshtein'

import {SecretsError} from '../errors.js'

/**
 * The few closest names by edit distance (case-insensitive), nearest first; only plausible ones: at most a
 * third of the typed length away, and never less than `floor` (variable names, 2; commands and flags, 1,
 * as @oclif/plugin-not-found: a suggestion that shares nothing with what was typed, "x" → "get", helps
 * nobody).
 */
export function closestNames(name: string, pool: Iterable<string>, {max = 3, floor = 2} = {}): string[] {
  const wanted = name.toUpperCase()
  const limit = Math.max(floor, Math.floor(name.length / 3))
  const scored = [...new Set(pool)]
    .filter((c) => c !== name)
    .map((c) => ({c, d: distance(wanted, c.toUpperCase())}))
    .filter((s) => s.d <= limit)
    .sort((a, b) => a.d - b.d || (a.c < b.c ? -1 : a.c > b.c ? 1 : 0))
  return scored.slice(0, max).map((s) => s.c)
}

/** The one closest command, topic or flag, if any is near. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  return closestNames(word, candidates, {max: 1, floor: 1})[0]
}

/** "Did you mean A, B or C?" */
export function didYouMean(near: string[]): string {
  return near.length === 0
    ? ''
    : `Did you mean ${near.slice(0, -1).join(', ')}${near.length > 1 ? ' or ' : ''}${near.at(-1)}?`
}

/** How `--only` names are checked: which variables count, and how a missing one is made. */
export interface OnlyScope {
  /** After "is not a variable": `of this environment`, `read from vault`. */
  scope: string
  /** The line that lists the variables: `Variables`, `Variables read from vault`. */
  listLabel: string
  /** How to create a missing one, when that is the fix. */
  create?: string
}

/** NOT_FOUND for `--only` names that are not variables: the closest variables, then the list and how to add one. */
export function unknownOnly(unknown: string[], variables: Iterable<string>, o: OnlyScope): SecretsError {
  const pool = [...variables].sort()
  const near = [...new Set(unknown.flatMap((n) => closestNames(n, pool)))]
  return new SecretsError(
    'NOT_FOUND',
    `--only names ${unknown.join(', ')}, which ${unknown.length === 1 ? 'is not a variable' : 'are not variables'} ${o.scope}.`,
    {
      suggestions: [
        ...(near.length > 0 ? [didYouMean(near)] : []),
        `${o.listLabel}: ${pool.join(', ') || 'none'}.`,
        ...(o.create === undefined ? [] : [o.create]),
      ],
    },
  )
}
