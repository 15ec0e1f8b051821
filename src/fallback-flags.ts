import * as Flags from '@oclif/core/flags'

import {parseDuration} from './core/config.js'
import type {Session} from './core/session.js'
import {SecretsError} from './errors.js'

/** The offline fallback flags of the commands that resolve secrets (exec, export, get, render). */
export const fallbackFlags = {
  fallback: Flags.boolean({
    description: 'Cache every value read from a remote provider (encrypted to your identity) and use a cached value when the provider cannot be reached, within --max-age.',
    helpGroup: 'OFFLINE',
  }),
  'max-age': Flags.string({
    description: 'How old a cached value may be to be used (e.g. 1h, 7d); implies --fallback. Without it, cached values are never used silently.',
    helpGroup: 'OFFLINE',
  }),
  offline: Flags.boolean({
    description: 'Contact no remote provider: their values come only from the cache (within --max-age when given).',
    helpGroup: 'OFFLINE',
  }),
}

/**
 * Turn the flags (or `cache:` in secrets.yaml when no flag is given) into the session's fallback
 * settings. Nothing is set, and no cache code loads, when neither asks for it.
 */
export function useFallback(session: Session, flags: {fallback?: boolean; 'max-age'?: string; offline?: boolean}): void {
  let maxAgeMs: number | undefined
  if (flags['max-age'] !== undefined) {
    maxAgeMs = parseDuration(flags['max-age'])
    if (maxAgeMs === undefined || maxAgeMs <= 0) {
      throw new SecretsError('USAGE', `--max-age ${JSON.stringify(flags['max-age'])} is not a duration.`, {suggestions: ['Write it as a number with a unit: --max-age 90s, 30m, 24h or 7d.']})
    }
  }
  const asked = flags.fallback || flags.offline || maxAgeMs !== undefined
  const configured = session.config.cache
  if (!asked && configured === undefined) return
  session.fallback = {maxAgeMs: maxAgeMs ?? configured?.maxAgeMs, offline: Boolean(flags.offline)}
}
