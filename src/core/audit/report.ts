import {SecretsError} from '../../errors.js'
import type {AuditRecord} from './record.js'
import {secretOf} from './query.js'
import {openAuditSnapshot, snapshotRecords} from './read.js'
import {selectEnvironment, selectFiles} from '../config/select.js'
import type {ProjectConfig} from '../config/types.js'
import type {Session} from '../session.js'
import {supports} from '../../providers/capabilities.js'

const DAY = 86_400_000

/** One secret's line in `audit report`. */
export interface ReportRow {
  /** `alias://path` */
  secret: string
  provider: string
  /** Variables of the project that use it. */
  variables: string[]
  /** The latest record of any kind (a denied or failed attempt counts). */
  lastAccess?: {time: string; by: string; command: string; action: string; outcome: string}
  /** The latest successful read. */
  lastRead?: string
  /** Distinct user@host that read it successfully. */
  readers: number
  reads: number
  /** The latest successful write or rotation in the log, else the provider's last update. */
  lastRotation?: string
  rotationSource?: 'log' | 'provider'
  /** Whole days since the last rotation. */
  ageDays?: number
  /** The rotation policy (`rotation.every` of its variable), in days. */
  policyDays?: number
  overdue: boolean
  neverRotated: boolean
  /** Not read successfully within the `unreadDays` window (or never). */
  unread: boolean
}

export interface ReportInput {
  now: Date
  /** Rotation policy per secret (`alias://path`), in milliseconds. */
  policies: Map<string, number>
  /** The provider's last update per secret, from its listing. */
  updated: Map<string, string>
  /** The configured secrets and the variables that use each. */
  configured: Map<string, string[]>
  unreadDays: number
}

/** The rotation policy of each variable that declares one (`rotate: {every: 30d}` in secrets.yaml), in milliseconds. */
export function rotationEvery(config: ProjectConfig): Map<string, number> {
  const out = new Map<string, number>()
  for (const [name, policy] of config.rotation)
    if (policy.every !== undefined && policy.every > 0) out.set(name, policy.every)
  return out
}

/**
 * Is this action a change of the current value: a write, a one-step `rotate`, or a rotation's promote
 * step (`rotate-promote` ...)? Staging a value that is not current yet is not.
 */
function isRotation(action: string): boolean {
  return action === 'write' || action === 'rotate' || /promot/.test(action)
}

/** Build the per-secret report from the log (oldest first) and the inputs; rows sorted by secret. */
export function buildReport(records: Iterable<AuditRecord>, input: ReportInput): ReportRow[] {
  const rows = new Map<string, ReportRow & {readerSet: Set<string>}>()
  const row = (secret: string, provider: string) => {
    let r = rows.get(secret)
    if (r === undefined) {
      r = {
        secret,
        provider,
        variables: input.configured.get(secret) ?? [],
        readers: 0,
        reads: 0,
        overdue: false,
        neverRotated: false,
        unread: false,
        readerSet: new Set(),
      }
      rows.set(secret, r)
    }
    return r
  }
  for (const [secret] of input.configured) row(secret, secret.slice(0, secret.indexOf('://')))
  for (const rec of records) {
    if (!rec.ref.includes('://')) continue
    const r = row(secretOf(rec.ref), rec.provider)
    const by = `${rec.user}@${rec.host}`
    r.lastAccess = {
      time: rec.time,
      by,
      command: rec.child ? `${rec.command} (${rec.child})` : rec.command,
      action: rec.action,
      outcome: rec.outcome,
    }
    if (rec.outcome !== 'ok') continue
    if (rec.action === 'read') {
      r.reads += 1
      r.lastRead = rec.time
      r.readerSet.add(by)
    } else if (isRotation(rec.action)) {
      r.lastRotation = rec.time
      r.rotationSource = 'log'
    } else if (rec.action === 'delete') {
      r.lastRotation = undefined
      r.rotationSource = undefined
    }
  }
  const now = input.now.getTime()
  const out: ReportRow[] = []
  for (const r of rows.values()) {
    const {readerSet, ...rest} = r
    rest.readers = readerSet.size
    if (rest.lastRotation === undefined && input.updated.has(rest.secret)) {
      rest.lastRotation = input.updated.get(rest.secret)
      rest.rotationSource = 'provider'
    }
    const every = input.policies.get(rest.secret)
    if (every !== undefined) rest.policyDays = every / DAY
    if (rest.lastRotation === undefined) {
      rest.neverRotated = true
      rest.overdue = every !== undefined
    } else {
      const age = now - Date.parse(rest.lastRotation)
      rest.ageDays = Math.floor(age / DAY)
      rest.overdue = every !== undefined && age > every
    }
    rest.unread = rest.lastRead === undefined || now - Date.parse(rest.lastRead) > input.unreadDays * DAY
    out.push(rest)
  }
  return out.sort((a, b) => a.secret.localeCompare(b.secret))
}

/** The status words of a row, most urgent first. */
export function rowStatus(r: ReportRow, unreadDays: number): string[] {
  const out: string[] = []
  if (r.overdue) out.push('overdue')
  if (r.neverRotated) out.push('never rotated')
  if (r.unread) out.push(r.lastRead === undefined ? 'never read' : `not read in ${unreadDays} days`)
  return out.length > 0 ? out : ['ok']
}

/**
 * Everything `audit report` needs, gathered for a session: the configured variables and their policies
 * (when there is a secrets.yaml), each provider's listing for last-update times (a provider that cannot
 * be listed is skipped with a warning, or all are with `offline`), and the log.
 */
export async function sessionReport(
  session: Session,
  options: {now: Date; unreadDays: number; environment?: string; offline?: boolean},
): Promise<ReportRow[]> {
  const configured = new Map<string, string[]>()
  const policies = new Map<string, number>()
  const updated = new Map<string, string>()
  const use = (secret: string, variable: string) =>
    configured.set(secret, [...new Set([...(configured.get(secret) ?? []), variable])])
  let config: ProjectConfig | undefined
  try {
    config = session.config
  } catch (error) {
    if (!(error instanceof SecretsError && error.code === 'CONFIG_NOT_FOUND')) throw error
  }
  if (config !== undefined) {
    const bound = new Map<string, string>()
    for (const [name, entry] of selectEnvironment(config, options.environment))
      bound.set(name, `${entry.ref.alias}://${entry.ref.path}`)
    // A template entry (no ref) renders several secrets; those appear under their own references.
    for (const [name, entry] of selectFiles(config, options.environment))
      if (entry.ref) bound.set(name, `${entry.ref.alias}://${entry.ref.path}`)
    for (const [name, secret] of bound) use(secret, name)
    for (const p of options.offline ? [] : config.providers.values()) {
      try {
        const provider = await session.provider(p.alias)
        if (!supports(provider, 'list')) continue

        for (const m of await provider.list()) {
          const secret = secretOf(m.ref)
          if (m.updated) updated.set(secret, m.updated)
          if (p.type === 'local') use(secret, m.name)
        }
      } catch (error) {
        session.ui.warn(
          `Could not list ${p.alias}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)} Its secrets' last update times come from the log only.`,
        )
      }
    }
    let localAlias: string | undefined
    try {
      localAlias = session.defaultLocalAlias()
    } catch {
      // No local store: every policy must name a variable from `env:` or `files:`.
    }
    for (const [variable, every] of rotationEvery(config)) {
      const secret = bound.get(variable) ?? (localAlias === undefined ? undefined : `${localAlias}://${variable}`)
      if (secret !== undefined) {
        policies.set(secret, every)
        use(secret, variable)
      }
    }
  }
  const snapshot = await openAuditSnapshot(session.env)
  try {
    return buildReport(snapshotRecords(snapshot), {
      now: options.now,
      policies,
      updated,
      configured,
      unreadDays: options.unreadDays,
    })
  } finally {
    snapshot.close()
  }
}
