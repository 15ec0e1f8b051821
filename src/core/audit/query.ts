import type {AuditOutcome, AuditRecord} from './record.js'
import {openAuditSnapshot, snapshotRecords} from './read.js'

/** What `audit log` keeps. Every field is optional; all given ones must match. */
export interface AuditFilter {
  since?: Date
  until?: Date
  /** A reference, or a secret (`alias://path`, or a bare local name) whose every field and version matches. */
  secret?: string
  /** OS user, or user@host. */
  actor?: string
  /** The secrets command (`get`, `exec`, `key remove`) or the child command `exec` ran. */
  command?: string
  outcome?: AuditOutcome
  /** Only records made in this project (the directory of its secrets.yaml). */
  project?: string
}

/** The secret a reference points at: `alias://path`, without `#field` and `?version`. */
export function secretOf(ref: string): string {
  const cut = ref.search(/[#?]/)
  return cut === -1 ? ref : ref.slice(0, cut)
}

export function matchesSecret(ref: string, wanted: string): boolean {
  if (ref === wanted) return true
  const secret = secretOf(ref)
  if (secret === wanted) return true
  return !wanted.includes('://') && secret.slice(secret.indexOf('://') + 3) === wanted
}

export function matchesFilter(r: AuditRecord, f: AuditFilter): boolean {
  if (f.since && Date.parse(r.time) < f.since.getTime()) return false
  if (f.until && Date.parse(r.time) > f.until.getTime()) return false
  if (f.secret !== undefined && !matchesSecret(r.ref, f.secret)) return false
  if (f.actor !== undefined && r.user !== f.actor && `${r.user}@${r.host}` !== f.actor) return false
  if (f.command !== undefined && r.command !== f.command && r.child !== f.command) return false
  if (f.outcome !== undefined && r.outcome !== f.outcome) return false
  if (f.project !== undefined && r.project !== f.project) return false
  return true
}

/** What `audit log` shows: the matching records, and what was left out. */
export interface AuditQueryResult {
  /** The matching records, oldest first (the newest `limit` of them with a limit). */
  records: AuditRecord[]
  /** Matching records that were left out by the limit. */
  omitted: number
  /**
   * Records that match every other filter but name no project (written before records named their
   * project): with a project filter they are left out and counted here.
   */
  unattributed: number
  /** The sequence number of the newest matching record (before the limit), for --follow. */
  lastSeq: number
}

/**
 * The records that match, oldest first. Lines that cannot match (they do not contain the secret, actor or
 * command asked for) are skipped before they are parsed.
 */
export async function queryAuditLog(
  filter: AuditFilter,
  options: {limit?: number} = {},
  env: NodeJS.ProcessEnv = process.env,
): Promise<AuditQueryResult> {
  const needle = filter.secret ?? filter.actor?.split('@')[0] ?? filter.command
  const snapshot = await openAuditSnapshot(env)
  const {project, ...others} = filter
  try {
    const out: AuditRecord[] = []
    let unattributed = 0
    let lastSeq = 0
    for (const r of snapshotRecords(snapshot, needle === undefined ? undefined : [needle])) {
      if (!matchesFilter(r, others)) continue
      if (project !== undefined && r.project !== project) {
        if (r.project === undefined) unattributed += 1
        continue
      }
      out.push(r)
      lastSeq = r.seq ?? lastSeq
    }
    const keep = options.limit === undefined ? out.length : Math.min(options.limit, out.length)
    return {records: out.slice(out.length - keep), omitted: out.length - keep, unattributed, lastSeq}
  } finally {
    snapshot.close()
  }
}

/** The records that match, oldest first. */
export async function queryAudit(filter: AuditFilter, env: NodeJS.ProcessEnv = process.env): Promise<AuditRecord[]> {
  return (await queryAuditLog(filter, {}, env)).records
}

const CSV_COLUMNS = [
  'time',
  'seq',
  'user',
  'host',
  'ci',
  'run',
  'command',
  'child',
  'action',
  'provider',
  'ref',
  'version',
  'outcome',
  'code',
  'fp',
  'project',
  'store',
] as const

function csvCell(value: unknown): string {
  const text = value === undefined || value === null ? '' : String(value)
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

/** RFC 4180 CSV with a header line. */
export function recordsToCsv(records: AuditRecord[]): string {
  const rows = records.map((r) =>
    CSV_COLUMNS.map((c) => csvCell(c === 'ci' ? r.ci?.system : c === 'run' ? r.ci?.runId : r[c])).join(','),
  )
  return `${[CSV_COLUMNS.join(','), ...rows].join('\r\n')}\r\n`
}
