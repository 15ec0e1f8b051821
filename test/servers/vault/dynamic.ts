/**
 * Vault's database secrets engine (`creds/<role>`) and the lease endpoints (`sys/leases/renew`,
 * `revoke`, `lookup`), as ../shared/specs/vault/api-docs/{secret/databases,system/leases}.mdx describe
 * them and the README's wire facts saw against a real Vault 1.8:
 *
 * - `GET <mount>/creds/<role>` mints a fresh username and password per read, under a new lease
 *   (`<mount>/creds/<role>/<random>`) of the role's `default_ttl`, renewable up to its `max_ttl`.
 * - `PUT sys/leases/renew {lease_id, increment}` extends the lease by `increment` (default: the role's
 *   TTL) from now, capped at issue time + max TTL, and answers the granted `lease_duration`; an unknown,
 *   revoked or expired lease is 400 `lease not found`.
 * - `PUT sys/leases/revoke {lease_id}` ends the credential at once and answers 204 (also for a lease that
 *   is already gone: Vault's revocation is idempotent).
 * - Expiry is real time: a lease past its expiry is gone, and its credential with it.
 * - With a backend (a real PostgreSQL, see ../postgres.ts), `creds` runs the role's creation statements
 *   as secret/databases/postgresql.mdx gives them (`{{name}}`, `{{password}}`, `{{expiration}}`)
 *   before it answers, and revocation and expiry run its revocation statements (DROP ROLE), as Vault's
 *   database engine does.
 */
import {randomBytes} from 'node:crypto'

export interface DatabaseRole {
  /** Seconds. */
  ttl: number
  maxTtl: number
  /** Run against the backend on `creds` (default: Vault's PostgreSQL example, a role valid until the expiry). */
  creationStatements?: string[]
  /** Run on revocation and expiry (default: drop the role). */
  revocationStatements?: string[]
}

/** The database a database engine manages users in: runs SQL as its administrator. */
export interface DatabaseBackend {
  run(sql: string): Promise<void>
}

const CREATION = [`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`]
const REVOCATION = [`DROP ROLE IF EXISTS "{{name}}";`]

/** Vault's `{{expiration}}`: `2006-01-02 15:04:05+0000`, in UTC. */
function expiration(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}+0000`
}

function fill(statements: string[], l: Lease): string {
  return statements
    .map((st) =>
      st
        .replaceAll('{{name}}', l.username)
        .replaceAll('{{password}}', l.password)
        .replaceAll('{{expiration}}', expiration(l.expires)),
    )
    .join('\n')
}

export interface Lease {
  id: string
  path: string
  username: string
  password: string
  issued: number
  expires: number
  maxExpires: number
  renewals: number
  /** Set when revoked; `whileLive` says whether the lease had not expired by then. */
  revoked?: {at: number; whileLive: boolean}
}

export class LeaseError extends Error {
  constructor(
    readonly status: number,
    readonly errors: string[],
  ) {
    super(errors.join('; '))
  }
}

export class DatabaseEngine {
  readonly roles = new Map<string, DatabaseRole>()
  readonly leases = new Map<string, Lease>()
  /** Users the backend was asked to drop, in order (revocation or expiry). */
  readonly dropped: string[] = []
  private readonly expiry = new Map<string, NodeJS.Timeout>()

  constructor(
    readonly mount: string,
    readonly backend?: DatabaseBackend,
  ) {}

  /** `vault read <mount>/creds/<role>`: the response body. */
  async creds(role: string, requestId: string): Promise<Record<string, unknown>> {
    const r = this.roles.get(role)
    if (r === undefined) throw new LeaseError(400, [`unknown role: ${role}`])
    const now = Date.now()
    const lease: Lease = {
      id: `${this.mount}/creds/${role}/${randomBytes(12).toString('base64url')}`,
      path: `${this.mount}/creds/${role}`,
      username: `v-token-${role}-${randomBytes(6).toString('hex')}`,
      password: randomBytes(15).toString('base64url'),
      issued: now,
      expires: now + r.ttl * 1000,
      maxExpires: now + r.maxTtl * 1000,
      renewals: 0,
    }
    if (this.backend) {
      try {
        await this.backend.run(fill(r.creationStatements ?? CREATION, lease))
      } catch (error) {
        throw new LeaseError(500, [`1 error occurred:\n\t* ${(error as Error).message}\n\n`])
      }
      this.armExpiry(lease)
    }
    this.leases.set(lease.id, lease)
    return {
      request_id: requestId,
      lease_id: lease.id,
      renewable: true,
      lease_duration: r.ttl,
      data: {username: lease.username, password: lease.password},
      wrap_info: null,
      warnings: null,
      auth: null,
      mount_type: 'database',
    }
  }

  /** The lease, if it is live now (not revoked, not expired). */
  live(id: string): Lease | undefined {
    const l = this.leases.get(id)
    return l && l.revoked === undefined && l.expires > Date.now() ? l : undefined
  }

  /** The credentials that would work now. */
  liveCredentials(): Lease[] {
    return [...this.leases.values()].filter((l) => this.live(l.id))
  }

  renew(id: string, increment: number | undefined, requestId: string): Record<string, unknown> {
    const l = this.live(id)
    if (l === undefined) throw new LeaseError(400, ['lease not found'])
    const role = this.roles.get(l.path.split('/').pop()!)!
    const now = Date.now()
    const wanted = (increment && increment > 0 ? increment : role.ttl) * 1000
    l.expires = Math.min(now + wanted, l.maxExpires)
    l.renewals++
    if (this.backend) this.armExpiry(l)
    return {
      request_id: requestId,
      lease_id: l.id,
      renewable: l.expires < l.maxExpires,
      lease_duration: Math.max(0, Math.floor((l.expires - now) / 1000)),
      data: null,
      wrap_info: null,
      warnings: null,
      auth: null,
    }
  }

  async revoke(id: string): Promise<void> {
    const l = this.leases.get(id)
    if (l === undefined || l.revoked !== undefined) return
    l.revoked = {at: Date.now(), whileLive: l.expires > Date.now()}
    await this.end(l)
  }

  /** Stop the expiry timers (the server closes). */
  close(): void {
    for (const t of this.expiry.values()) clearTimeout(t)
    this.expiry.clear()
  }

  // Vault revokes an expired lease itself, which runs the revocation statements.
  private armExpiry(l: Lease): void {
    clearTimeout(this.expiry.get(l.id))
    const t = setTimeout(() => void this.end(l).catch(() => undefined), Math.max(0, l.expires - Date.now()))
    t.unref()
    this.expiry.set(l.id, t)
  }

  private async end(l: Lease): Promise<void> {
    clearTimeout(this.expiry.get(l.id))
    this.expiry.delete(l.id)
    if (this.backend === undefined || this.dropped.includes(l.username)) return
    this.dropped.push(l.username)
    await this.backend.run(fill(this.roles.get(l.path.split('/').pop()!)?.revocationStatements ?? REVOCATION, l))
  }

  lookup(id: string): Record<string, unknown> {
    const l = this.live(id)
    if (l === undefined) throw new LeaseError(400, ['invalid lease'])
    return {
      id: l.id,
      issue_time: new Date(l.issued).toISOString(),
      expire_time: new Date(l.expires).toISOString(),
      last_renewal_time: null,
      renewable: l.expires < l.maxExpires,
      ttl: Math.max(0, Math.floor((l.expires - Date.now()) / 1000)),
    }
  }
}
