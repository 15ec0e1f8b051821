import {SecretsError} from '../../errors.js'
import type {TrailEvent} from '../../providers/types.js'
import type {AuditRecord} from './record.js'
import {readAuditRecords} from './read.js'
import {secretOf} from './query.js'
import {parseReference, type Reference} from '../reference.js'
import type {Session} from '../session.js'
import {trailSources} from '../../providers/registry.js'
import {requireCapability} from '../../providers/capabilities.js'

/** One row of `secrets audit trail`: an event from the provider's own trail or from the local access log. */
export interface TrailEntry {
  time: string
  /** `provider` for the provider's own record, `local` for this machine's access log. */
  source: 'provider' | 'local'
  /** The provider alias. */
  provider: string
  actor: string
  action: string
  /** The reference (without #field) the event concerns. */
  secret: string
  outcome: TrailEvent['outcome']
  version?: string
  code?: string
  id?: string
  details?: Record<string, unknown>
}

export interface TrailRequest {
  /** The provider alias (`--provider`). */
  alias: string
  since?: Date
  until?: Date
  /** Vault: the file audit device's log (`--vault-audit-file`). */
  auditFile?: string
  /** Vault: the audit device path that wrote it, for sys/audit-hash (`--vault-audit-device`). */
  auditDevice?: string
}

/** The secrets one provider holds for this project: every `env:` and `files:` entry, in every environment, as `alias://path`. */
export function configuredRefs(session: Session, alias: string): Reference[] {
  const c = session.config
  const all = [
    ...c.env.values(),
    ...c.files.values(),
    ...[...c.environments.values()].flatMap((m) => [...m.values()]),
    ...[...c.environmentFiles.values()].flatMap((m) => [...m.values()]),
  ]
    .flatMap((e) => (e.ref === undefined ? [] : [e.ref]))
    .filter((r) => r.alias === alias)
  // One per secret: `#field`, `?version=` and other parameters name parts of the same secret.
  const seen = new Map<string, Reference>()
  for (const r of all) {
    const raw = `${r.alias}://${r.path}`
    if (!seen.has(raw)) seen.set(raw, parseReference(raw))
  }
  return [...seen.values()]
}

function inRange(time: string, since?: Date, until?: Date): boolean {
  const t = Date.parse(time)
  return (
    !Number.isNaN(t) && (since === undefined || t >= since.getTime()) && (until === undefined || t <= until.getTime())
  )
}

function fromLocal(r: AuditRecord): TrailEntry {
  return {
    time: r.time,
    source: 'local',
    provider: r.provider,
    actor: `${r.user}@${r.host}`,
    action: r.child === undefined ? `${r.action} (${r.command})` : `${r.action} (${r.command} ${r.child})`,
    secret: secretOf(r.ref),
    outcome: r.outcome,
    ...(r.version === undefined ? {} : {version: r.version}),
    ...(r.code === undefined ? {} : {code: r.code}),
  }
}

/**
 * The provider's own trail of access to the configured secrets, merged with this machine's access log
 * for the same provider, oldest first. The provider must have the `auditTrail` capability
 * (UNSUPPORTED otherwise, before any request).
 */
export async function auditTrail(
  session: Session,
  request: TrailRequest,
): Promise<{entries: TrailEntry[]; refs: string[]}> {
  const config = session.providerConfig(request.alias)
  if (request.since !== undefined && request.until !== undefined && request.since.getTime() > request.until.getTime()) {
    throw new SecretsError(
      'USAGE',
      `--since (${request.since.toISOString()}) is after --until (${request.until.toISOString()}).`,
      {suggestions: ['Swap them, or drop one.']},
    )
  }
  if (request.auditFile !== undefined && config.type !== 'vault') {
    throw new SecretsError(
      'USAGE',
      `--vault-audit-file is for a Vault provider; ${config.alias} has type ${config.type}.`,
      {suggestions: ['Drop --vault-audit-file, or name a vault provider with --provider.']},
    )
  }
  const provider = await session.provider(config.alias)
  requireCapability(
    provider,
    'trail',
    `Provider ${provider.alias} (${provider.type}) keeps no trail of its own; its accesses are in the local access log only.`,
    {suggestions: [`See them with: secrets audit log. Provider trails come from ${trailSources()}.`]},
  )
  const refs = configuredRefs(session, config.alias)
  const trail = provider.trail.bind(provider)
  const events =
    refs.length === 0
      ? []
      : await session.ui.progress(`Reading the ${provider.type} trail of ${config.alias}`, () =>
          trail({
            refs,
            ...(request.since === undefined ? {} : {since: request.since}),
            ...(request.until === undefined ? {} : {until: request.until}),
            ...(request.auditFile === undefined ? {} : {auditFile: request.auditFile}),
            ...(request.auditDevice === undefined ? {} : {auditDevice: request.auditDevice}),
            warn: (message: string) => session.ui.warn(message),
          }),
        )
  const entries: TrailEntry[] = events
    .filter((e) => inRange(e.time, request.since, request.until))
    .map((e) => ({source: 'provider', provider: config.alias, ...e}))
  for await (const r of readAuditRecords(session.env)) {
    if (r.provider === config.alias && typeof r.time === 'string' && inRange(r.time, request.since, request.until))
      entries.push(fromLocal(r))
  }
  // Stable: equal times keep provider events before local ones, each in its own order.
  entries.sort((a, b) => Date.parse(a.time) - Date.parse(b.time))
  return {entries, refs: refs.map((r) => r.raw)}
}
