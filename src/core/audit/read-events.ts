import {SecretsError} from '../../errors.js'
import {leaseTag} from '../lease/tag.js'
import type {Resolved, Unresolved} from '../resolved.js'
import type {AuditEvent, AuditOutcome} from './record.js'

/** The audit outcome of a failed operation: not_found, denied (no permission, key or identity) or error. */
export function outcomeOf(error: unknown): AuditOutcome {
  if (error instanceof SecretsError) {
    if (error.code === 'NOT_FOUND') return 'not_found'
    if (error.code === 'PERMISSION_DENIED' || error.code === 'DECRYPT_FAILED' || error.code === 'IDENTITY_MISSING')
      return 'denied'
  }
  return 'error'
}

/** One `read` record per resolution result: the value only as the record's fingerprint, a lease by its tag. */
export function readEvents(out: Array<Resolved | Unresolved>, command: string, child?: string): AuditEvent[] {
  const base = {command, ...(child === undefined ? {} : {child}), action: 'read' as const}
  return out.map((r): AuditEvent =>
    'error' in r
      ? {...base, provider: r.provider, ref: r.ref.raw, outcome: outcomeOf(r.error), code: r.error.code}
      : {
          ...base,
          provider: r.provider,
          ref: r.ref.raw,
          version: r.version,
          outcome: 'ok',
          value: r.value,
          ...(r.cached ? {source: 'cache' as const, ...r.cached} : {}),
          ...(r.lease ? {lease: leaseTag(r.lease.id), ttl: r.lease.duration} : {}),
        },
  )
}
