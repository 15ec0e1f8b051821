import {createHash} from 'node:crypto'
import {closeSync, fstatSync, openSync, readSync, writeSync, fsyncSync} from 'node:fs'
import {join} from 'node:path'

import {SecretsError, fsError} from '../errors.js'
import type {Actor} from './actor.js'
import {ensureDir} from './atomic-write.js'
import {userStateDir} from './identity.js'
import {withLock} from './lock.js'

/** What happened to one access. */
export type AuditOutcome = 'ok' | 'denied' | 'not_found' | 'error'

/** One access to one secret. Never holds a value, nor anything derived from one in this version. */
export interface AuditEvent {
  /** The secrets command, e.g. `get`, `set`, `export`. */
  command: string
  /** The child command for `exec`, as argv[0] only. */
  child?: string
  action: 'read' | 'write' | 'delete' | 'restore' | 'rekey'
  provider: string
  ref: string
  version?: string
  outcome: AuditOutcome
  /** The error code for outcomes other than ok. */
  code?: string
  /** `cache`: the value came from the offline fallback cache, fetched at `fetched`, `ageSeconds` old. */
  source?: 'cache'
  fetched?: string
  ageSeconds?: number
}

/** A record as written: the event, who and when, and the hash of the previous record. */
export interface AuditRecord extends AuditEvent {
  v: 1
  time: string
  user: string
  host: string
  ci?: Actor['ci']
  pid: number
  prev: string
}

export const GENESIS = '0'.repeat(64)

export function auditLogFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.SECRETS_AUDIT_LOG || join(userStateDir(env), 'audit.jsonl')
}

export function hashLine(line: string): string {
  return createHash('sha256').update(line, 'utf8').digest('hex')
}

/** The last complete line of a file, read from its tail. */
function lastLine(fd: number): string | undefined {
  const {size} = fstatSync(fd)
  if (size === 0) return undefined
  let chunk = 4096
  for (;;) {
    const start = Math.max(0, size - chunk)
    const buf = Buffer.alloc(size - start)
    readSync(fd, buf, 0, buf.length, start)
    const text = buf.toString('utf8').replace(/\n+$/, '')
    const nl = text.lastIndexOf('\n')
    if (nl !== -1 || start === 0) return text.slice(nl + 1)
    chunk *= 4
  }
}

/**
 * Append records to the access log (JSON lines, 0600, in the user's state directory), each carrying the
 * SHA-256 of the previous line, under the log's lock so concurrent processes keep one chain. A log that
 * cannot be written is an error: an access that cannot be recorded does not happen.
 */
export async function appendAudit(events: AuditEvent[], actor: Actor, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (events.length === 0) return
  const file = auditLogFile(env)
  try {
    ensureDir(join(file, '..'))
  } catch (error) {
    throw auditError(error, file)
  }
  await withLock(file, () => {
    let fd: number | undefined
    try {
      fd = openSync(file, 'a+', 0o600)
      const last = lastLine(fd)
      let prev = last === undefined ? GENESIS : hashLine(last)
      let out = ''
      for (const event of events) {
        const record: AuditRecord = {
          v: 1,
          time: new Date().toISOString(),
          user: actor.user,
          host: actor.host,
          ...(actor.ci ? {ci: actor.ci} : {}),
          pid: process.pid,
          ...event,
          prev,
        }
        const line = JSON.stringify(record)
        prev = hashLine(line)
        out += `${line}\n`
      }
      writeSync(fd, out)
      fsyncSync(fd)
    } catch (error) {
      throw auditError(error, file)
    } finally {
      if (fd !== undefined) closeSync(fd)
    }
  })
}

function auditError(error: unknown, file: string): Error {
  const mapped = fsError(error, file, 'appending to the audit log')
  if (mapped instanceof SecretsError) {
    return new SecretsError(mapped.code, `${mapped.message} The access was not performed because it could not be recorded.`, {
      cause: error,
      suggestions: [...mapped.suggestions, 'Set SECRETS_AUDIT_LOG to a writable file, or fix the state directory (XDG_STATE_HOME).'],
    })
  }
  return mapped
}
