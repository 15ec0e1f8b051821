import {SecretsError} from '../../errors.js'
import {supports} from '../../providers/capabilities.js'
import type {LeaseGrant} from '../../providers/types.js'
import type {Resolved} from '../resolved.js'
import type {Session} from '../session.js'
import {ledgerFile, thisOwner, updateLedger, type LedgerEntry} from './ledger.js'
import {leaseTag} from './tag.js'

interface Held extends LeaseGrant {
  provider: string
  variables: string[]
  /** The duration first granted: what each renewal asks for. */
  ttl: number
  expires: number
  timer?: NodeJS.Timeout
  /** Renewal can extend it no further (max TTL, refused, not renewable). */
  final: boolean
}

export interface KeeperOptions {
  warn: (message: string) => void
  /** Called when a lease cannot be renewed any more (`--watch` restarts the child with fresh credentials). */
  onLost?: () => void
}

const describe = (h: Held): string => `${h.variables.join(', ')} (${h.provider}://${h.path})`

/** The leases among `resolved`, one per lease id, with the variables that read under each. */
export function leasesOf(
  resolved: Resolved[],
): Map<string, {grant: LeaseGrant; provider: string; variables: string[]}> {
  const out = new Map<string, {grant: LeaseGrant; provider: string; variables: string[]}>()
  for (const r of resolved) {
    if (r.lease === undefined) continue
    const held = out.get(r.lease.id) ?? {grant: r.lease, provider: r.provider, variables: []}
    held.variables.push(r.name)
    out.set(r.lease.id, held)
  }
  return out
}

/**
 * Keeps the leases of one `exec` run alive while its child runs: each is renewed at about two thirds
 * of what is left (with jitter), recorded in the ledger before the child starts, and revoked by
 * `stop()` whatever way the child ended.
 */
export class LeaseKeeper {
  private readonly held = new Map<string, Held>()
  private stopped = false

  constructor(
    private readonly session: Session,
    private readonly o: KeeperOptions,
  ) {}

  get size(): number {
    return this.held.size
  }

  /** Take the leases of `resolved` that are new to this run: ledger first, then renewal timers. */
  async adopt(resolved: Resolved[]): Promise<void> {
    const fresh = [...leasesOf(resolved)].filter(([id]) => !this.held.has(id))
    if (fresh.length === 0) return
    const now = Date.now()
    const owner = thisOwner()
    const entries: LedgerEntry[] = fresh.map(([id, l]) => ({
      id,
      provider: l.provider,
      project: this.session.config.file,
      path: l.grant.path,
      variables: [...l.variables].sort(),
      obtained: new Date(now).toISOString(),
      expires: new Date(now + l.grant.duration * 1000).toISOString(),
      renewable: l.grant.renewable,
      command: this.session.command,
      owner,
      kept: false,
    }))
    const held: Held[] = fresh.map(([, l]) => ({
      ...l.grant,
      provider: l.provider,
      variables: l.variables,
      ttl: l.grant.duration,
      expires: now + l.grant.duration * 1000,
      final: !l.grant.renewable,
    }))
    // Held before the ledger write: if that fails, stop() still revokes them.
    for (const h of held) this.held.set(h.id, h)
    const ids = new Set(held.map((h) => h.id))
    await updateLedger(ledgerFile(this.session.env), (all) => [...all.filter((e) => !ids.has(e.id)), ...entries])
    for (const h of held) this.schedule(h)
  }

  private schedule(h: Held): void {
    const left = Math.max(0, h.expires - Date.now())
    const at = left * (2 / 3) * (0.9 + 0.2 * Math.random())
    h.timer = setTimeout(() => void (h.final ? this.lost(h) : this.renew(h)), at)
    h.timer.unref()
  }

  private async renew(h: Held): Promise<void> {
    if (this.stopped) return
    try {
      const provider = await this.session.provider(h.provider)
      if (!supports(provider, 'leases')) throw new SecretsError('UNSUPPORTED', `${h.provider} cannot renew leases.`)
      const granted = await provider.renewLease(h.id, h.ttl)
      h.expires = Date.now() + granted.duration * 1000
      // Capped by the role's max TTL: the next renewal could not extend it, so this is the last.
      h.final = !granted.renewable || granted.duration < h.ttl
      await this.record('lease-renew', h, 'ok')
      await updateLedger(ledgerFile(this.session.env), (all) =>
        all.map((e) => (e.id === h.id ? {...e, expires: new Date(h.expires).toISOString()} : e)),
      )
    } catch (error) {
      const e = error instanceof SecretsError ? error : new SecretsError('INTERNAL', String(error))
      await this.record('lease-renew', h, 'error', e.code)
      // Unreachable: try again while the lease lives; refused: it is lost.
      if (!e.retryable || Date.now() >= h.expires) return this.lost(h)
    }
    if (!this.stopped) this.schedule(h)
  }

  private async lost(h: Held): Promise<void> {
    if (this.stopped) return
    await this.record('lease-lost', h, 'error', 'EXPIRED')
    const when = new Date(h.expires).toISOString()
    if (this.o.onLost) {
      this.o.warn(
        `The lease of ${describe(h)} cannot be renewed past ${when}: restarting the command with fresh credentials.`,
      )
      // Revoking drops the held credential, so the next resolution reads a new one.
      await this.revoke(h)
      this.o.onLost()
    } else {
      this.o.warn(
        `The lease of ${describe(h)} cannot be renewed past ${when}: the credentials stop working then. Run with --watch to restart the command with fresh ones.`,
      )
    }
  }

  private async record(
    action: 'lease-renew' | 'lease-revoke' | 'lease-lost',
    h: Held,
    outcome: 'ok' | 'error',
    code?: string,
  ): Promise<void> {
    await this.session
      .audit([
        {
          command: this.session.command,
          ...(this.session.child === undefined ? {} : {child: this.session.child}),
          action,
          provider: h.provider,
          ref: `${h.provider}://${h.path}`,
          outcome,
          ...(code === undefined ? {} : {code}),
          lease: leaseTag(h.id),
          ttl: Math.max(0, Math.round((h.expires - Date.now()) / 1000)),
        },
      ])
      .catch(() => undefined)
  }

  private async revoke(h: Held): Promise<boolean> {
    clearTimeout(h.timer)
    this.held.delete(h.id)
    try {
      const provider = await this.session.provider(h.provider)
      if (!supports(provider, 'leases')) throw new SecretsError('UNSUPPORTED', `${h.provider} cannot revoke leases.`)
      await provider.revokeLease(h.id)
      await this.record('lease-revoke', h, 'ok')
      await updateLedger(ledgerFile(this.session.env), (all) => all.filter((e) => e.id !== h.id))
      return true
    } catch (error) {
      const e = error instanceof SecretsError ? error : new SecretsError('INTERNAL', String(error))
      await this.record('lease-revoke', h, 'error', e.code)
      this.o.warn(
        `Could not revoke the lease of ${describe(h)} [${e.code}] ${e.message.split('\n')[0].replace(/\.$/, '')}; it stays in the ledger until it expires (${new Date(h.expires).toISOString()}) or \`secrets lease revoke --orphaned\` revokes it.`,
      )
      return false
    }
  }

  /** Stop renewing and revoke every lease of the run (the child has ended, whichever way). */
  async stop(): Promise<void> {
    this.stopped = true
    await Promise.all([...this.held.values()].map((h) => this.revoke(h)))
  }
}
