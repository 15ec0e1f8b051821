import {readFileSync} from 'node:fs'
import {hostname} from 'node:os'
import {join} from 'node:path'

import {SecretsError, fsError} from '../../errors.js'
import {writeFileAtomic} from '../lib/atomic-write.js'
import {isAlive, withLock} from '../lib/lock.js'
import {userStateDir} from '../store/identity.js'

/**
 * The lease ledger: every lease a run obtained, written before the child starts and removed once
 * revoked, so a run that could not revoke (SIGKILL, power loss) leaves a trace `secrets lease` can act
 * on. Lease ids, paths, aliases and times only: never a credential.
 */
export interface LedgerEntry {
  id: string
  /** The provider alias, and the secrets.yaml it is declared in (to open the provider again). */
  provider: string
  project: string
  path: string
  variables: string[]
  obtained: string
  /** When the lease ends unless renewed (ISO 8601 UTC). */
  expires: string
  renewable: boolean
  command: string
  owner: {pid: number; host: string; start?: string}
  /** The lease outlives its command on purpose (`get`, `export`, `render`): nobody revokes it but the user. */
  kept: boolean
}

export type LeaseStatus = 'active' | 'kept' | 'orphaned' | 'expired'

/** `$XDG_STATE_HOME/secrets/leases.json`, or SECRETS_LEASE_LEDGER. */
export function ledgerFile(env: NodeJS.ProcessEnv): string {
  return env.SECRETS_LEASE_LEDGER || join(userStateDir(env), 'leases.json')
}

/** When process `pid` started (Linux: field 22 of /proc/<pid>/stat, in clock ticks since boot). */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
  } catch {
    return undefined
  }
}

/** Whether the run that holds the lease is gone: its pid is dead, or reused by a process started later. */
export function ownerGone(e: LedgerEntry): boolean {
  if (e.owner.host !== hostname()) return false
  if (!isAlive(e.owner.pid)) return true
  const start = processStart(e.owner.pid)
  return e.owner.start !== undefined && start !== undefined && start !== e.owner.start
}

export function statusOf(e: LedgerEntry, now = Date.now()): LeaseStatus {
  if (Date.parse(e.expires) <= now) return 'expired'
  if (e.kept) return 'kept'
  return ownerGone(e) ? 'orphaned' : 'active'
}

export function readLedger(file: string): LedgerEntry[] {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw fsError(error, file, 'reading')
  }
  try {
    const parsed = JSON.parse(text) as {v?: number; leases?: LedgerEntry[]}
    if (parsed.v !== 1 || !Array.isArray(parsed.leases)) throw new Error('shape')
    return parsed.leases
  } catch {
    throw new SecretsError('INTEGRITY', `The lease ledger ${file} is not one secrets wrote (not its JSON shape).`, {
      suggestions: [
        'Revoke what it listed from Vault (`vault lease revoke -prefix <mount>/creds/<role>`), then move the file away.',
      ],
    })
  }
}

/** Change the ledger under its lock, written atomically (0600). */
export async function updateLedger(file: string, change: (entries: LedgerEntry[]) => LedgerEntry[]): Promise<void> {
  await withLock(file, () => {
    const next = change(readLedger(file))
    writeFileAtomic(file, `${JSON.stringify({v: 1, leases: next}, null, 2)}\n`, 0o600)
  })
}

/** This process as the owner of the leases it records. */
export function thisOwner(): LedgerEntry['owner'] {
  return {pid: process.pid, host: hostname(), start: processStart(process.pid)}
}
