import {dirname} from 'node:path'

import {errorBrief, SecretsError} from '../../errors.js'
import {supports} from '../../providers/capabilities.js'
import {Session} from '../session.js'
import {
  ledgerFile,
  readLedger,
  statusOf,
  thisOwner,
  updateLedger,
  type LedgerEntry,
  type LeaseStatus,
} from './ledger.js'
import {leaseTag} from './tag.js'

/** A ledger entry as `secrets lease list` shows it: with its status and the fingerprint it is named by. */
export interface LeaseView extends LedgerEntry {
  status: LeaseStatus
  tag: string
}

export function listLeases(env: NodeJS.ProcessEnv): LeaseView[] {
  const now = Date.now()
  return readLedger(ledgerFile(env)).map((e) => ({...e, status: statusOf(e, now), tag: leaseTag(e.id)}))
}

/** The entries an argument names: the lease id itself, or its fingerprint (as `lease list` shows it). */
export function pick(leases: LeaseView[], idOrTag: string): LeaseView {
  const found = leases.filter((l) => l.id === idOrTag || l.tag === idOrTag)
  if (found.length === 0)
    throw new SecretsError('NOT_FOUND', `No lease ${idOrTag} in the ledger.`, {
      suggestions: ['See the leases secrets knows of with `secrets lease list`.'],
    })
  return found[0]
}

export interface LeaseResult {
  tag: string
  path: string
  provider: string
  ok: boolean
  error?: string
}

/**
 * Revoke (or renew) `leases`, each through its own project's provider (the ledger spans projects), and
 * drop revoked ones from the ledger. Expired leases are dropped without a request: Vault ended them.
 */
export async function actOnLeases(
  base: Session,
  leases: LeaseView[],
  action: 'revoke' | 'renew',
): Promise<LeaseResult[]> {
  const sessions = new Map<string, Session>()
  const sessionFor = (project: string): Session => {
    if (project === safeProjectOf(base)) return base
    let s = sessions.get(project)
    if (s === undefined) {
      s = new Session({cwd: dirname(project), env: base.env, ui: base.ui, command: base.command, configFlag: project})
      sessions.set(project, s)
    }
    return s
  }
  const results: LeaseResult[] = []
  const done = new Set<string>()
  const expiries = new Map<string, string>()
  for (const l of leases) {
    const r: LeaseResult = {tag: l.tag, path: l.path, provider: l.provider, ok: true}
    try {
      if (l.status === 'expired') {
        if (action === 'renew') throw new SecretsError('NOT_FOUND', `The lease ${l.tag} has expired; Vault ended it.`)
      } else {
        const provider = await sessionFor(l.project).provider(l.provider)
        if (!supports(provider, 'leases'))
          throw new SecretsError('UNSUPPORTED', `Provider ${l.provider} (${provider.type}) has no leases.`)
        if (action === 'revoke') await provider.revokeLease(l.id)
        else {
          const granted = await provider.renewLease(
            l.id,
            Math.max(1, Math.round((Date.parse(l.expires) - Date.parse(l.obtained)) / 1000)),
          )
          expiries.set(l.id, new Date(Date.now() + granted.duration * 1000).toISOString())
        }
      }
      if (action === 'revoke') done.add(l.id)
    } catch (error) {
      r.ok = false
      r.error = errorBrief(error)
    }
    results.push(r)
  }
  await updateLedger(ledgerFile(base.env), (all) =>
    all.filter((e) => !done.has(e.id)).map((e) => (expiries.has(e.id) ? {...e, expires: expiries.get(e.id)!} : e)),
  )
  await Promise.all([...sessions.values()].map((s) => s.close()))
  return results
}

function safeProjectOf(s: Session): string | undefined {
  try {
    return s.config.file
  } catch {
    return undefined
  }
}

/**
 * At `exec`'s start: revoke the orphaned leases of this project (a run that was killed before it could).
 * Failures are warnings: the run goes on, and the entries stay for `secrets lease revoke --orphaned`.
 */
export async function revokeOrphans(session: Session, warn: (m: string) => void): Promise<void> {
  const project = session.config.file
  const orphans = listLeases(session.env).filter((l) => l.status === 'orphaned' && l.project === project)
  if (orphans.length === 0) return
  const results = await actOnLeases(session, orphans, 'revoke')
  const ok = results.filter((r) => r.ok).length
  if (ok > 0)
    warn(
      `Revoked ${ok === 1 ? '1 lease' : `${ok} leases`} a run that was killed had left (see \`secrets lease list\`).`,
    )
  for (const r of results.filter((x) => !x.ok))
    warn(`Could not revoke the orphaned lease ${r.tag} (${r.provider}://${r.path}): ${r.error}`)
}

/** Revoke every lease `session` obtained (a run that will not start its child), without the ledger. */
export async function revokeSessionLeases(session: Session, warn: (m: string) => void): Promise<void> {
  await Promise.all(
    [...session.leases].map(async ([id, l]) => {
      try {
        const provider = await session.provider(l.provider)
        if (supports(provider, 'leases')) await provider.revokeLease(id)
      } catch (error) {
        const why = errorBrief(error)
        warn(
          `Could not revoke the lease of ${[...l.names].join(', ')} (${l.provider}://${l.grant.path}): ${why}; it ends with its TTL.`,
        )
      }
    }),
  )
  session.leases.clear()
}

/**
 * `get`, `export` and `render` hand a dynamic credential to someone else: its lease outlives the command.
 * Each is recorded in the ledger (kept, so `exec` never revokes it as an orphan) and named on stderr.
 */
export async function keepSessionLeases(session: Session, warn: (m: string) => void): Promise<void> {
  if (session.leases.size === 0) return
  const now = Date.now()
  const entries: LedgerEntry[] = [...session.leases].map(([id, l]) => ({
    id,
    provider: l.provider,
    project: session.config.file,
    path: l.grant.path,
    variables: [...l.names],
    obtained: new Date(now).toISOString(),
    expires: new Date(now + l.grant.duration * 1000).toISOString(),
    renewable: l.grant.renewable,
    command: session.command,
    owner: thisOwner(),
    kept: true,
  }))
  await updateLedger(ledgerFile(session.env), (all) => [...all.filter((e) => !session.leases.has(e.id)), ...entries])
  for (const e of entries)
    warn(
      `${e.variables.join(', ')} (${e.provider}://${e.path}) is a dynamic credential: its lease (${leaseTag(e.id)}) outlives this command and ends in ${durationText(Math.round((Date.parse(e.expires) - now) / 1000))} unless revoked (\`secrets lease revoke ${leaseTag(e.id)}\`).`,
    )
}

function durationText(seconds: number): string {
  if (seconds < 120) return `${seconds} s`
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`
  return `${Math.round(seconds / 3600)} h`
}
