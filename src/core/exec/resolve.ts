import {createHash} from 'node:crypto'
import {existsSync} from 'node:fs'

import {resolveEnvironment} from '../environment.js'
import type {Interaction} from '../interaction.js'
import {ledgerFile} from '../lease/ledger.js'
import type {Resolved, ResolvedFile} from '../resolved.js'
import type {Session} from '../session.js'

/** What one resolution of a process's environment reads: shared by `exec` and the library's load(). */
export interface ResolutionOptions {
  environment?: string
  only?: string[]
  allowMissing?: boolean
  /** Take the variables from this encrypted file (`export --encrypt`) instead of secrets.yaml. */
  fromFile?: string
  /** Also resolve the `files:` entries (default true; the library has no private directory to put them in). */
  files?: boolean
  /** Revoke the leases of this project that a killed run left (default true). */
  revokeOrphaned?: boolean
  ui: Interaction
}

/** One resolution of the environment, ready to start a child with. */
export interface Snapshot {
  resolved: Resolved[]
  files: ResolvedFile[]
  /** Variable name -> SHA-256 of its value, to tell what changed (kept in memory only). */
  fingerprint: Map<string, string>
}

function fingerprintOf(items: Resolved[]): Map<string, string> {
  return new Map(items.map((r) => [r.name, createHash('sha256').update(r.value.reveal()).digest('hex')]))
}

/** Everything one run resolves, again on each --watch poll. */
export async function resolveSnapshot(session: Session, o: ResolutionOptions): Promise<Snapshot> {
  const {resolved, files} =
    o.fromFile === undefined
      ? await resolveEnvironment(session, {
          environment: o.environment,
          only: o.only,
          allowMissing: o.allowMissing,
          files: o.files !== false,
        })
      : {resolved: await (await import('../on-demand.js')).readEncryptedEnv(session, o.fromFile, o.only), files: []}
  return {resolved, files, fingerprint: fingerprintOf([...resolved, ...files])}
}

/**
 * The first resolution of a run, as `exec` and the library do it: orphaned leases revoked, then the
 * environment resolved fail closed with its read records held back (see Session.holdReads) until the
 * caller knows whether the program gets the values; `prepare` runs inside the same guard. On failure
 * the held reads are written and the leases this resolution minted are revoked before the error goes on.
 * The caller releases the reads on success (`session.releaseReads`).
 */
export async function firstResolution<T>(
  session: Session,
  o: ResolutionOptions,
  prepare: (snapshot: Snapshot) => Promise<T>,
): Promise<{snapshot: Snapshot; prepared: T}> {
  // A ledger exists only once a dynamic credential was read: runs without one never load the lease code.
  if (o.revokeOrphaned !== false && existsSync(ledgerFile(session.env)))
    await (await import('../lease/manage.js')).revokeOrphans(session, (m) => o.ui.warn(m))
  // The first reads are recorded once it is known whether the program starts (issue 17: a missing
  // program's reads are `not_started`, not `ok`); always before the program gets a value.
  session.holdReads()
  try {
    const snapshot = await resolveSnapshot(session, o)
    return {snapshot, prepared: await prepare(snapshot)}
  } catch (error) {
    await session.releaseReads()
    // Nothing starts; credentials minted for the variables that did resolve end now, not at their TTL.
    if (session.leases.size > 0)
      await (await import('../lease/manage.js')).revokeSessionLeases(session, (m) => o.ui.warn(m))
    throw error
  }
}
