import {createHmac, randomBytes} from 'node:crypto'

import {SecretsError} from '../../errors.js'
import {unknownOnly} from '../suggest.js'
import {parseReference, type Reference} from '../reference.js'
import type {SecretValue} from '../secret-value.js'
import type {Session} from '../session.js'
import {requireCapability} from '../../providers/capabilities.js'
import {revokeSessionLeases} from '../lease/manage.js'

/** What `sync` does with one variable: write it anew, overwrite a different value, or leave it. */
export type SyncStatus = 'add' | 'change' | 'same'

/** One line of the diff: names, references and versions, never a value. */
export interface SyncItem {
  name: string
  from: string
  fromVersion?: string
  to: string
  toVersion?: string
  status: SyncStatus
  /** The destination's version after the write (set by applySync). */
  written?: string
}

/** The diff, and the values to write (kept out of anything printable). */
export interface SyncPlan {
  from: string
  to: string
  items: SyncItem[]
  readonly values: ReadonlyMap<string, SecretValue>
}

export interface SyncOptions {
  /** A provider alias (`aws`) or a reference prefix (`vault://secret/myapp`): which variables to copy. */
  from: string
  /** A provider alias (`local`: `local://NAME`) or a reference prefix (`vault://secret/app`: `#NAME`; `aws://prod/`: `prod/NAME`). */
  to: string
  only?: string[]
  environment?: string
  /** False for a read-only comparison (`drift`): the destination need not be writable. Default true. */
  forWrite?: boolean
}

/** Keyed fingerprints under a key made per comparison, kept in memory only. */
export function fingerprinter(): (v: SecretValue) => string {
  const key = randomBytes(32)
  return (v) => createHmac('sha256', key).update(v.reveal()).digest('base64')
}

/**
 * Where variable `name` goes in the destination: `alias` gives `alias://NAME`; a prefix ending in `/`
 * gives `prefix` + NAME; any other prefix names one secret whose field NAME holds it (`vault://secret/app#NAME`).
 */
export function destinationOf(to: string, name: string): string {
  if (!to.includes('://')) return `${to}://${name}`
  if (to.endsWith('://') || to.endsWith('/')) return `${to}${name}`
  return `${to}#${name}`
}

/** Check a `--from`/`--to` provider alias or reference prefix; returns the alias. */
export function checkTarget(session: Session, text: string, flag: string): string {
  const alias = text.includes('://') ? text.slice(0, text.indexOf('://')) : text
  if (text.includes('://') && !text.endsWith('://')) {
    // Validate the prefix as a reference (with the trailing "/" a prefix may have).
    const probe = text.endsWith('/') ? `${text}x` : text
    try {
      parseReference(probe)
    } catch (error) {
      if (error instanceof SecretsError)
        throw new SecretsError(
          'USAGE',
          `${flag} ${text} is not a provider alias or a reference prefix: ${error.message}`,
          {suggestions: error.suggestions},
        )
      throw error
    }
    if (flag === '--to' && (probe.includes('#') || probe.includes('?'))) {
      throw new SecretsError(
        'USAGE',
        `${flag} ${text} may not hold #field or ?parameters: sync adds the variable name itself.`,
        {
          suggestions: [
            'Write --to vault://secret/app (fields of one secret), --to aws://prod/ (one secret per variable) or --to local.',
          ],
        },
      )
    }
  }
  session.providerConfig(alias)
  return alias
}

/**
 * Compare the variables whose reference uses `from` with their copies in `to`: every source is read
 * (failing closed), every destination read too, and the two compared by keyed fingerprints in memory. Nothing is
 * written here.
 */
export async function planSync(session: Session, o: SyncOptions): Promise<SyncPlan> {
  const fromAlias = checkTarget(session, o.from, '--from')
  const toAlias = checkTarget(session, o.to, '--to')
  const all = await session.references(o.environment)
  // A prefix matches whole path segments: vault://secret/app takes vault://secret/app#k and vault://secret/app/db, not vault://secret/app2.
  const matches = (ref: Reference): boolean => {
    if (!o.from.includes('://')) return ref.alias === fromAlias
    if (o.from.endsWith('/') || o.from.endsWith('://')) return ref.raw.startsWith(o.from)
    return ref.raw === o.from || (ref.raw.startsWith(o.from) && '/#?'.includes(ref.raw[o.from.length]))
  }
  const sources = new Map([...all].filter(([, ref]) => matches(ref)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  if (o.only && o.only.length > 0) {
    const unknown = o.only.filter((n) => !sources.has(n))
    if (unknown.length > 0)
      throw unknownOnly(unknown, sources.keys(), {
        scope: `read from ${o.from}`,
        listLabel: `Variables read from ${o.from}`,
      })
    for (const name of [...sources.keys()]) if (!o.only.includes(name)) sources.delete(name)
  }
  if (sources.size === 0) {
    const used = [...new Set([...all.values()].map((r) => r.alias))].sort()
    throw new SecretsError(
      'NOT_FOUND',
      `No variable of this environment is read from ${o.from}, so there is nothing to sync.`,
      {
        suggestions: [
          `Providers the variables use: ${used.join(', ') || 'none'}. Map variables to ${fromAlias}:// references under env: in ${session.config.file}.`,
        ],
      },
    )
  }
  const destinations = new Map(
    [...sources.keys()].map((name) => [name, session.toReference(destinationOf(o.to, name))]),
  )
  for (const [name, ref] of sources) {
    if (ref.raw === destinations.get(name)!.raw)
      throw new SecretsError('USAGE', `${name} would be copied onto itself (${ref.raw}).`, {
        suggestions: ['Choose a --to that differs from --from.'],
      })
  }
  const destination = await session.provider(toAlias)
  if (o.forWrite !== false)
    requireCapability(
      destination,
      'write',
      `Provider ${toAlias} (${destination.type}) cannot write secrets, so it cannot be the destination of a sync.`,
    )
  const source = await session.resolve(sources)
  const current = await session.resolve(destinations, {allowMissing: true})
  if (session.leases.size > 0) throw await refuseDynamic(session)
  const existing = new Map(current.resolved.map((r) => [r.name, r]))
  const values = new Map<string, SecretValue>()
  const hashOf = fingerprinter()
  const items = source.resolved.map((s): SyncItem => {
    const d = existing.get(s.name)
    values.set(s.name, s.value)
    const status: SyncStatus = d === undefined ? 'add' : hashOf(d.value) === hashOf(s.value) ? 'same' : 'change'
    return {
      name: s.name,
      from: s.ref.raw,
      fromVersion: s.version,
      to: destinations.get(s.name)!.raw,
      toVersion: d?.version,
      status,
    }
  })
  items.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  return {from: o.from, to: o.to, items, values}
}

/**
 * UNSUPPORTED for a variable read from a dynamic secrets engine: Vault made its credential for this read,
 * so there is no stored value to copy or compare (a copy would be a credential that dies with its lease).
 * The leases just obtained are revoked at once.
 */
async function refuseDynamic(session: Session): Promise<SecretsError> {
  const names = [...new Set([...session.leases.values()].flatMap((l) => [...l.names]))].sort()
  const notes: string[] = []
  await revokeSessionLeases(session, (m) => notes.push(m))
  const one = names.length === 1
  return new SecretsError(
    'UNSUPPORTED',
    `${names.join(', ')} ${one ? 'is' : 'are'} read from a dynamic secrets engine: Vault makes ${one ? 'its credential' : 'their credentials'} anew on each read, under a lease, so there is no stored value to sync or compare. The ${one ? 'credential' : 'credentials'} just read ${one ? 'was' : 'were'} revoked.`,
    {
      suggestions: [
        ...notes,
        'Leave dynamic references out with --only, and read them through `secrets exec`, which renews their leases while the command runs and revokes them at the end.',
      ],
    },
  )
}

/**
 * Write what the plan says differs, one audited write each, in name order. A failure stops the sync
 * and says which variables were written already (a second run writes only what still differs).
 */
export async function applySync(session: Session, plan: SyncPlan): Promise<SyncItem[]> {
  const written: SyncItem[] = []
  for (const item of plan.items) {
    if (item.status === 'same') continue
    try {
      const {version} = await session.set(item.to, plan.values.get(item.name)!)
      item.written = version
      written.push(item)
    } catch (error) {
      if (!(error instanceof SecretsError)) throw error
      const done =
        written.length === 0 ? 'Nothing was written' : `Already written: ${written.map((w) => w.name).join(', ')}`
      throw new SecretsError(error.code, `Sync stopped at ${item.name} (${item.to}): ${error.message} ${done}.`, {
        ref: item.to,
        cause: error,
        suggestions: [...error.suggestions, 'Run the same sync again once fixed: it writes only what still differs.'],
        retryable: error.retryable,
      })
    }
  }
  return written
}

/** The diff as text lines: `+` new, `~` changed, `=` unchanged; names, references and versions only. */
export function formatPlan(plan: SyncPlan): string[] {
  const mark = {add: '+', change: '~', same: '='} as const
  const v = (version: string | undefined) => (version === undefined ? '' : ` (v${version})`)
  const nameWidth = Math.max(...plan.items.map((i) => i.name.length))
  const fromWidth = Math.max(...plan.items.map((i) => `${i.from}${v(i.fromVersion)}`.length))
  return plan.items.map((i) => {
    const to = i.status === 'add' ? `${i.to} (new)` : `${i.to}${v(i.toVersion)}`
    return `${mark[i.status]} ${i.name.padEnd(nameWidth)}  ${`${i.from}${v(i.fromVersion)}`.padEnd(fromWidth)}  ${i.status === 'same' ? '=' : '→'} ${to}`
  })
}
