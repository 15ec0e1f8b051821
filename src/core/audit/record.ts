import {createHash, createHmac} from 'node:crypto'
import {readdirSync} from 'node:fs'
import {basename, dirname, join} from 'node:path'

import type {Actor} from '../actor.js'
import type {AuditKeys} from './key.js'
import {userStateDir} from '../store/identity.js'
import type {SecretValue} from '../secret-value.js'

// The access log's format, shared by the writer (log.ts), the reader (read.ts) and the chain check
// (check-chain.ts), so none of them imports another for it.

/** What happened to one access; `not_started`: read for a command that never ran (exec of a missing program). */
export type AuditOutcome = 'ok' | 'denied' | 'not_found' | 'error' | 'not_started'

/** One access to one secret. */
export interface AuditEvent {
  /** The secrets command, e.g. `get`, `set`, `export`. */
  command: string
  /** The child command for `exec`, as argv[0] only. */
  child?: string
  action:
    | 'read'
    | 'write'
    | 'delete'
    | 'restore'
    | 'rekey'
    | 'purge'
    | 'rotate-pending'
    | 'rotate-verified'
    | 'rotate-promoted'
    | 'rotate-rolled-back'
    | 'rollback'
    | 'lease-renew'
    | 'lease-revoke'
    | 'lease-lost'
    | 'add-recipient'
  provider: string
  ref: string
  /** The project the access was made in: the directory of its secrets.yaml (absent in older records). */
  project?: string
  /** The store the provider alias pointed at: a local store's file, or `type:address` (absent in older records). */
  store?: string
  version?: string
  outcome: AuditOutcome
  /** The error code for outcomes other than ok. */
  code?: string
  /** The value read or written: used only to compute `fp`, never written to the log. */
  value?: SecretValue
  /** `cache`: the value came from the offline fallback cache, fetched at `fetched`, `ageSeconds` old. */
  source?: 'cache'
  fetched?: string
  ageSeconds?: number
  /** A dynamic credential's lease: the id's fingerprint (leaseTag) and the seconds it was granted. */
  lease?: string
  ttl?: number
}

/**
 * A record as written: who and when, the event (without its value), the value's keyed fingerprint, its
 * sequence number, and `prev`, the HMAC of the previous record's line under the audit key.
 */
export interface AuditRecord extends Omit<AuditEvent, 'value'> {
  v: 1 | 2
  /** 1, 2, 3 ... across all segments (absent in version 1 records). */
  seq?: number
  /** On the first record of each segment file: its segment number (1, 2, 3 ...). */
  seg?: number
  /** On the first record of a segment: the HMAC of the whole previous segment, made when it was sealed. */
  seal?: string
  time: string
  user: string
  host: string
  ci?: Actor['ci']
  pid: number
  /** HMAC-SHA256 of the value under the audit key, first 128 bits in hex. */
  fp?: string
  /** Bytes of a torn, unterminated write found at the end of the log and cut off before this record. */
  torn?: number
  prev: string
}

export const GENESIS = '0'.repeat(64)
const DEFAULT_SEGMENT_BYTES = 16 * 1024 * 1024

export function auditLogFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.SECRETS_AUDIT_LOG || join(userStateDir(env), 'audit.jsonl')
}

/** The file holding the last record's sequence number and link, so removal at the end is visible. */
export function auditHeadFile(log: string): string {
  return `${log}.head`
}

/** Segment rollover size: SECRETS_AUDIT_SEGMENT_BYTES, default 16 MiB. */
export function segmentBytes(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.SECRETS_AUDIT_SEGMENT_BYTES)
  return Number.isInteger(n) && n > 0 ? n : DEFAULT_SEGMENT_BYTES
}

/** The SHA-256 of a line: the link of version 1 records, which were not keyed. */
export function hashLine(line: string | Uint8Array): string {
  return createHash('sha256').update(line).digest('hex')
}

/** The link to a line: HMAC-SHA256 under the chain key. */
export function linkOf(keys: AuditKeys, line: string | Uint8Array): string {
  return createHmac('sha256', keys.chain).update(line).digest('hex')
}

/** The head file's MAC over the last sequence number and the last line's link. */
export function headMac(keys: AuditKeys, seq: number, link: string): string {
  return createHmac('sha256', keys.head).update(`${seq}\n${link}`).digest('hex')
}

/** Sealed segments next to the log (`audit.jsonl.000001` ...), oldest first. */
export function sealedSegments(log: string): Array<{n: number; file: string}> {
  const dir = dirname(log)
  const prefix = `${basename(log)}.`
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
  return names
    .filter((n) => n.startsWith(prefix) && /^\d+$/.test(n.slice(prefix.length)))
    .map((n) => ({n: Number(n.slice(prefix.length)), file: join(dir, n)}))
    .sort((a, b) => a.n - b.n)
}

export function segmentName(log: string, n: number): string {
  return `${log}.${String(n).padStart(6, '0')}`
}

/** A line of only spaces, tabs and CRs (a stray newline): it holds no record and links nothing. */
export function isBlank(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] !== 0x20 && buf[i] !== 0x09 && buf[i] !== 0x0d) return false
  return true
}
