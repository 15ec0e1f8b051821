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

import {LeasedEngine, LeaseError, type LeaseRecord} from './leased-engine.js'

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

export interface Lease extends LeaseRecord {
  username: string
  password: string
  maxExpires: number
  renewals: number
}

export {LeaseError} from './leased-engine.js'

export class DatabaseEngine extends LeasedEngine<Lease> {
  readonly roles = new Map<string, DatabaseRole>()
  /** Users the backend was asked to drop, in order (revocation or expiry). */
  readonly dropped: string[] = []
  private readonly expiry = new Map<string, NodeJS.Timeout>()

  constructor(
    mount: string,
    readonly backend?: DatabaseBackend,
  ) {
    super(mount, 'database')
  }

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
    return this.grant(lease, requestId, {
      ttl: r.ttl,
      renewable: true,
      data: {username: lease.username, password: lease.password},
    })
  }

  override renew(id: string, increment: number | undefined, requestId: string): Record<string, unknown> {
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

  protected override ended(l: Lease): Promise<void> {
    return this.end(l)
  }

  protected override renewable(l: Lease): boolean {
    return l.expires < l.maxExpires
  }

  private async end(l: Lease): Promise<void> {
    clearTimeout(this.expiry.get(l.id))
    this.expiry.delete(l.id)
    if (this.backend === undefined || this.dropped.includes(l.username)) return
    this.dropped.push(l.username)
    await this.backend.run(fill(this.roles.get(l.path.split('/').pop()!)?.revocationStatements ?? REVOCATION, l))
  }
}
