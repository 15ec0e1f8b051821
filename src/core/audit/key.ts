import {createHmac, hash, randomBytes} from 'node:crypto'
import {closeSync, constants, fstatSync, fsyncSync, linkSync, openSync, readSync, unlinkSync, writeSync} from 'node:fs'
import {dirname, join} from 'node:path'

import {SecretsError, fsError} from '../../errors.js'
import {ensureDir} from '../lib/atomic-write.js'
import {userStateDir} from '../store/identity.js'

/** Keys derived from the per-installation audit key, one per purpose, so no MAC can stand in for another. */
export interface AuditKeys {
  file: string
  /** A short public id of the key (not secret), to tell "another key" apart from "tampered". */
  kid: string
  /** Links each record to the previous one. */
  chain: Buffer
  /** Fingerprints values. */
  value: Buffer
  /** Authenticates the head file (the last record's sequence number and link). */
  head: Buffer
  /** Seals a whole segment when it rolls over. */
  seal: Buffer
  /** The key file was made by this call (no record is keyed with it yet). */
  created?: boolean
}

/** `$XDG_STATE_HOME/secrets/audit.key` beside the default log, or SECRETS_AUDIT_KEY_FILE. */
export function auditKeyFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.SECRETS_AUDIT_KEY_FILE || join(userStateDir(env), 'audit.key')
}

function derive(key: Buffer, file: string): AuditKeys {
  const sub = (label: string) => createHmac('sha256', key).update(`secrets-audit-v2:${label}`).digest()
  return {
    file,
    kid: sub('key-id').toString('hex').slice(0, 16),
    chain: sub('chain'),
    value: sub('value'),
    head: sub('head'),
    seal: sub('seal'),
  }
}

/** Read the key file with one open/fstat/read: refuse it when group or others may access it. */
function readKeyFile(file: string): Buffer | undefined {
  let fd: number
  try {
    fd = openSync(file, constants.O_RDONLY)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw fsError(error, file, 'reading the audit key')
  }
  try {
    const {mode, size} = fstatSync(fd)
    if ((mode & 0o077) !== 0) {
      throw new SecretsError(
        'INSECURE_PERMISSIONS',
        `The audit key ${file} is accessible by group or others (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); refusing to use it.`,
        {
          suggestions: [
            `Run \`chmod 600 ${file}\`. Whoever could read it can rewrite the access log without detection.`,
          ],
        },
      )
    }
    const buf = Buffer.alloc(Math.min(size, 4096))
    const n = readSync(fd, buf, 0, buf.length, 0)
    const text = buf.subarray(0, n).toString('utf8').trim()
    if (!/^[0-9a-f]{64}$/.test(text)) {
      throw new SecretsError(
        'INTEGRITY',
        `The audit key ${file} is not a key written by secrets (expected 64 hex digits).`,
        {
          suggestions: ['Restore the key from a backup. Without it the access log cannot be verified or extended.'],
        },
      )
    }
    return Buffer.from(text, 'hex')
  } finally {
    closeSync(fd)
  }
}

/** Create the key file atomically with link(2), so two first users cannot end up with different keys. */
function createKeyFile(file: string): {key: Buffer; created: boolean} {
  ensureDir(dirname(file))
  const key = randomBytes(32)
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`
  try {
    const fd = openSync(tmp, 'wx', 0o600)
    try {
      writeSync(fd, `${key.toString('hex')}\n`)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    try {
      linkSync(tmp, file)
      return {key, created: true}
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      return {key: readKeyFile(file)!, created: false}
    }
  } catch (error) {
    throw fsError(error, file, 'creating the audit key')
  } finally {
    try {
      unlinkSync(tmp)
    } catch {
      // Never created.
    }
  }
}

/**
 * The audit key: 32 random bytes, hex, in a 0600 file made on first use (read afresh each time: one
 * small read, and a key file whose mode was loosened meanwhile is refused). `logExists` says whether a
 * log already holds records: then a missing key is an error (a new key would break the chain).
 */
export function loadAuditKeys(env: NodeJS.ProcessEnv, options: {create: boolean; logExists: boolean}): AuditKeys {
  const file = auditKeyFile(env)
  const key = readKeyFile(file)
  if (key === undefined) {
    if (!options.create || options.logExists) {
      throw new SecretsError(
        'IDENTITY_MISSING',
        `The audit key ${file} is missing${options.logExists ? ', but the access log already holds records keyed with it' : ''}.`,
        {
          suggestions: options.logExists
            ? [
                'Restore the key file from a backup (or point SECRETS_AUDIT_KEY_FILE at it). To start a new log instead, move the old log files aside; they can then no longer be verified.',
              ]
            : ['Run any command that reads a secret to create the log and its key, or set SECRETS_AUDIT_KEY_FILE.'],
        },
      )
    }
    const made = createKeyFile(file)
    return {...derive(made.key, file), ...(made.created ? {created: true} : {})}
  }
  return derive(key, file)
}

/**
 * HMAC-SHA256 with the key's inner and outer pads prepared once: two one-shot hashes per message,
 * about twice as fast as createHmac() for short messages (the cost is per call, not per byte).
 */
export function fastMac(key: Buffer): (data: Uint8Array) => string {
  const k = Buffer.alloc(64)
  key.copy(k)
  let scratch = Buffer.alloc(4096)
  for (let i = 0; i < 64; i++) scratch[i] = k[i] ^ 0x36
  const outer = Buffer.alloc(96)
  for (let i = 0; i < 64; i++) outer[i] = k[i] ^ 0x5c
  return (data) => {
    if (data.length + 64 > scratch.length) {
      const bigger = Buffer.alloc(Math.max(scratch.length * 2, data.length + 64))
      scratch.copy(bigger, 0, 0, 64)
      scratch = bigger
    }
    scratch.set(data, 64)
    const inner = hash('sha256', scratch.subarray(0, 64 + data.length), 'buffer') as unknown as Buffer
    outer.set(inner, 64)
    return hash('sha256', outer, 'hex')
  }
}

/** The fingerprint of a value: shows that a value changed, reveals nothing without the key. */
export function valueFingerprint(keys: AuditKeys, bytes: Buffer): string {
  return createHmac('sha256', keys.value).update(bytes).digest('hex').slice(0, 32)
}
