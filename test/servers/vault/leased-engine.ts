/**
 * What Vault's dynamic secrets engines (database, pki, aws) share: a credential under a lease
 * (`<mount>/<path>/<random>`), live until revoked or past its expiry, and the lease endpoints'
 * answers for it (`sys/leases/lookup`, `renew` of a lease that cannot be renewed, idempotent `revoke`),
 * as ../shared/specs/vault/api-docs/system/leases.mdx describes them.
 */

/** A failure Vault answers with `status` and `{"errors": [...]}`. */
export class LeaseError extends Error {
  constructor(
    readonly status: number,
    readonly errors: string[],
  ) {
    super(errors.join('; '))
  }
}

/** Vault's TTL strings: seconds as a number or digits, or a Go duration such as `90s`, `30m`, `2h`. */
export function seconds(ttl: unknown): number | undefined {
  if (typeof ttl === 'number') return ttl
  if (typeof ttl !== 'string' || ttl === '') return undefined
  const m = /^(\d+)([smh]?)$/.exec(ttl)
  if (!m) throw new LeaseError(400, [`error parsing ttl: invalid duration ${ttl}`])
  return Number(m[1]) * ({'': 1, s: 1, m: 60, h: 3600} as Record<string, number>)[m[2]]
}

/** What every engine's credential records of its lease. */
export interface LeaseRecord {
  id: string
  path: string
  issued: number
  expires: number
  /** Set when revoked; `whileLive` says whether the lease had not expired by then. */
  revoked?: {at: number; whileLive: boolean}
}

export abstract class LeasedEngine<L extends LeaseRecord> {
  readonly leases = new Map<string, L>()

  constructor(
    readonly mount: string,
    private readonly mountType: string,
  ) {}

  /** The lease, if it is live now (not revoked, not expired). */
  live(id: string): L | undefined {
    const l = this.leases.get(id)
    return l && l.revoked === undefined && l.expires > Date.now() ? l : undefined
  }

  /** The credentials that would work now. */
  liveCredentials(): L[] {
    return [...this.leases.values()].filter((l) => this.live(l.id))
  }

  /** `sys/leases/renew`: by default the engine's leases cannot be extended (pki, STS). */
  renew(id: string, _increment?: number, _requestId?: string): Record<string, unknown> {
    if (this.live(id) === undefined) throw new LeaseError(400, ['lease not found'])
    throw new LeaseError(400, ['lease is not renewable'])
  }

  /** `sys/leases/revoke`: ends the credential now; a lease already gone is fine (Vault's is idempotent). */
  async revoke(id: string): Promise<void> {
    const l = this.leases.get(id)
    if (l === undefined || l.revoked !== undefined) return
    l.revoked = {at: Date.now(), whileLive: l.expires > Date.now()}
    await this.ended(l)
  }

  /** `sys/leases/lookup`. */
  lookup(id: string): Record<string, unknown> {
    const l = this.live(id)
    if (l === undefined) throw new LeaseError(400, ['invalid lease'])
    return {
      id: l.id,
      issue_time: new Date(l.issued).toISOString(),
      expire_time: new Date(l.expires).toISOString(),
      last_renewal_time: null,
      renewable: this.renewable(l),
      ttl: Math.max(0, Math.floor((l.expires - Date.now()) / 1000)),
    }
  }

  /** What the engine does when a credential ends by revocation (its own cleanup: DROP ROLE, a CRL entry). */
  protected ended(_l: L): void | Promise<void> {}

  protected renewable(_l: L): boolean {
    return false
  }

  /** Record `l` and answer the read or write that made it, as Vault does. */
  protected grant(l: L, requestId: string, o: {ttl: number; renewable: boolean; data: Record<string, unknown>}) {
    this.leases.set(l.id, l)
    return {
      request_id: requestId,
      lease_id: l.id,
      renewable: o.renewable,
      lease_duration: o.ttl,
      data: o.data,
      wrap_info: null,
      warnings: null,
      auth: null,
      mount_type: this.mountType,
    }
  }
}
