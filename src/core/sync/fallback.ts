import {createHash} from 'node:crypto'
import {existsSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'

import {SecretsError} from '../../errors.js'
import {actorLabel, type Actor} from '../actor.js'
import type {Interaction} from '../interaction.js'
import {formatAge} from '../lib/time.js'
import {assertPrivateFile} from '../store/identity.js'
import {Keyring} from '../store/keyring.js'
import {createStore, openStore, updateStore} from '../store/open-store.js'
import type {Resolved, Unresolved} from '../resolved.js'

/**
 * The offline fallback cache (`--fallback`, `--max-age`, `--offline`, `cache:` in secrets.yaml).
 *
 * Every value resolved from a remote provider is written to a cache file in the local store format,
 * encrypted to the user's own age identity (one file per identity, 0600, atomic writes under the
 * store lock, in `$XDG_CACHE_HOME/secrets`). Each entry is keyed by the project file and the
 * reference, and its version's `created` time is the time it was fetched. When a provider cannot be
 * reached (UNAVAILABLE: unreachable, 5xx after retries, timeouts; never NOT_FOUND or
 * PERMISSION_DENIED), a cached value no older than `--max-age` is used instead, and the run says so
 * on stderr and in the access log. Without a max age the cache is never used silently.
 */
export interface FallbackSettings {
  /** How old a cached value may be; undefined: cached values are not used (unless --offline). */
  maxAgeMs?: number
  /** Contact no remote provider at all: every remote value comes from the cache. */
  offline?: boolean
}

/** `$XDG_CACHE_HOME/secrets`, or `~/.cache/secrets`. */
export function userCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'), 'secrets')
}

/** The cache file of one identity (by its public key, so a different identity never reads another's cache). */
export function cacheFileFor(recipient: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(userCacheDir(env), `cache-${createHash('sha256').update(recipient).digest('hex').slice(0, 16)}.json`)
}

/** The entry name of one reference of one project (store names cannot hold `://`). */
function entryName(project: string, ref: string): string {
  return `v-${createHash('sha256').update(`${project}\0${ref}`).digest('hex').slice(0, 48)}`
}

/** Whether a failure may fall back to the cache: the provider could not be reached, nothing else. */
export function isUnavailable(error: SecretsError): boolean {
  return error.code === 'UNAVAILABLE'
}

/** The error `--offline` gives a remote reference before the cache is consulted. */
export function offlineError(alias: string): SecretsError {
  return new SecretsError('UNAVAILABLE', `--offline: provider ${alias} was not contacted`)
}

/** What the fallback cache needs from the session: keys and prompts, the project, which providers are remote. */
export interface FallbackSession {
  readonly env: NodeJS.ProcessEnv
  readonly ui: Interaction
  readonly actor: Actor
  readonly config: {readonly file: string}
  providerConfig(alias: string): {type: string}
}

/**
 * Replace UNAVAILABLE failures of remote references by cached values (within the max age), then cache
 * every value freshly read from a remote provider. Changes `results` in place.
 */
export async function applyFallback(
  session: FallbackSession,
  results: Array<Resolved | Unresolved>,
  settings: FallbackSettings,
): Promise<void> {
  const isRemote = (alias: string) => session.providerConfig(alias).type !== 'local'
  const failed = results
    .map((r, i) => [r, i] as const)
    .filter(
      (x): x is readonly [Unresolved, number] =>
        'error' in x[0] && isRemote(x[0].provider) && isUnavailable(x[0].error),
    )
  // A dynamic credential (under a lease) is never cached: it is revoked when its run ends, and a copy
  // served later would be a dead credential, or a live one outliving its lease's owner.
  const fresh = results.filter((r): r is Resolved => !('error' in r) && isRemote(r.provider) && r.lease === undefined)
  // Nothing remote was read: the cache is neither needed nor touched.
  if (failed.length === 0 && fresh.length === 0) return
  const cache = await openCache(session)
  if (failed.length > 0) {
    const store = cache.exists ? await openStore(cache.file, cache.keyring) : undefined
    const now = Date.now()
    for (const [r, index] of failed) results[index] = fromCache(session, r, store, settings, now)
  }
  if (fresh.length > 0) await storeFresh(session, cache, fresh)
}

/** The cache file of the user's age identity, checked to be private if it exists. */
interface CacheFile {
  file: string
  exists: boolean
  keyring: Keyring
  recipient: string
}

async function openCache(session: FallbackSession): Promise<CacheFile> {
  const keyring = new Keyring(session.env, session.ui)
  const [identity] = await keyring.ageIdentities()
  if (identity === undefined) {
    throw new SecretsError(
      'IDENTITY_MISSING',
      'The offline cache is encrypted to your age identity, and none is available.',
      {
        suggestions: [
          'Run `secrets init` to create your identity, or set SECRETS_IDENTITY / SECRETS_AGE_KEY; or run without --fallback, --offline and `cache:`.',
        ],
      },
    )
  }
  const file = cacheFileFor(identity.recipient, session.env)
  const exists = existsSync(file)
  if (exists) assertPrivateFile(file, 'The offline cache')
  return {file, exists, keyring, recipient: identity.recipient}
}

type CacheStore = Awaited<ReturnType<typeof openStore>>

/** One failed read answered from the cache, or its error saying why the cache could not answer. */
function fromCache(
  session: FallbackSession,
  r: Unresolved,
  cache: CacheStore | undefined,
  settings: FallbackSettings,
  now: number,
): Resolved | Unresolved {
  const name = entryName(session.config.file, r.ref.raw)
  const first = r.error.message.split('\n')[0].replace(/\.$/, '')
  if (cache === undefined || !cache.has(name)) {
    return {
      ...r,
      error: new SecretsError('UNAVAILABLE', `${first}; the offline cache has no value for ${r.ref.raw}.`, {
        ref: r.ref.raw,
        suggestions: [
          ...r.error.suggestions,
          'Run once with --fallback while the provider is reachable, to fill the cache.',
        ],
      }),
    }
  }
  const {value} = cache.read(name)
  const fetched = cache.meta(name).updated
  const ageMs = now - Date.parse(fetched)
  const age = formatAge(ageMs)
  if (settings.maxAgeMs === undefined && !settings.offline) {
    return {
      ...r,
      error: new SecretsError(
        'UNAVAILABLE',
        `${first}; a cached value from ${age} ago exists, but the cache is used only within a maximum age.`,
        {
          ref: r.ref.raw,
          suggestions: [
            ...r.error.suggestions,
            'Pass --max-age (e.g. --max-age 24h) or set `cache: {maxAge: 24h}` in secrets.yaml to use cached values that recent.',
          ],
        },
      ),
    }
  }
  if (settings.maxAgeMs !== undefined && ageMs > settings.maxAgeMs) {
    return {
      ...r,
      error: new SecretsError(
        'UNAVAILABLE',
        `${first}; the cached value is ${age} old (fetched ${fetched}), older than the maximum age of ${formatAge(settings.maxAgeMs)}, so it was not used.`,
        {
          ref: r.ref.raw,
          suggestions: [
            'Run again when the provider is reachable, or raise --max-age if a value that old is acceptable.',
          ],
        },
      ),
    }
  }
  session.ui.warn(
    `${r.name} (${r.ref.raw}) came from the offline cache: fetched ${fetched}, ${age} ago (${settings.offline ? '--offline' : `provider ${r.provider} could not be reached`}).`,
  )
  return {
    name: r.name,
    ref: r.ref,
    provider: r.provider,
    value,
    cached: {fetched, ageSeconds: Math.floor(ageMs / 1000)},
  }
}

/** Cache the values freshly read from remote providers; a cache that cannot be written is a warning. */
async function storeFresh(session: FallbackSession, cache: CacheFile, fresh: Resolved[]): Promise<void> {
  const {file, keyring} = cache
  try {
    if (!existsSync(file)) {
      await createStore(file, [{type: 'age', recipient: cache.recipient, label: 'offline cache'}]).catch(
        (error: unknown) => {
          // Another process created it first: fine, it is updated below.
          if (!(error instanceof SecretsError && error.code === 'CONFLICT')) throw error
        },
      )
    }
    const actor = actorLabel(session.actor)
    await updateStore(file, keyring, (store) => {
      for (const r of fresh) {
        const name = entryName(session.config.file, r.ref.raw)
        // One version per entry: its time is the fetch time, and no history of old values is kept.
        if (store.has(name)) store.remove(name)
        store.write(name, r.value, actor)
      }
    })
  } catch (error) {
    if (!(error instanceof SecretsError)) throw error
    session.ui.warn(
      `Could not update the offline cache ${file} [${error.code}] ${error.message.split('\n')[0]}; the values were used but not cached.`,
    )
  }
}
