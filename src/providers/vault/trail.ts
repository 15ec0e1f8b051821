/**
 * Vault's trail: the JSON lines a file audit device writes (one request and one response entry per
 * request), matched to the configured secrets by API path. Fields the device HMAC'd (`hmac-sha256:...`)
 * are matched through `sys/audit-hash/<device>`, which hashes a candidate with the device's key: secrets
 * asks it for the hashes of version numbers, never of a value or a token.
 */
import {createReadStream} from 'node:fs'
import {createInterface} from 'node:readline'

import type {Reference} from '../../core/reference.js'
import {SecretsError, fsError} from '../../errors.js'
import type {TrailEvent, TrailOptions} from '../types.js'

/** What `audit trail` passes a Vault provider besides the generic options (`--vault-audit-file`, `--vault-audit-device`). */
export interface VaultTrailOptions extends TrailOptions {
  /** The log file of a file audit device, read as JSON lines. */
  auditFile?: string
  /** The audit device whose HMAC key hashed that file (`sys/audit-hash/<device>`; default `file`). */
  auditDevice?: string
}

/** What the trail needs of the Vault provider (which implements it): where a reference lives, and HMACs. */
export interface VaultTrailSource {
  location(ref: Reference): Promise<{mount: string; version: 1 | 2; rest: string}>
  auditHash(device: string, input: string): Promise<string>
}

/** The parts of an audit entry the trail reads. */
interface AuditEntry {
  time?: string
  type?: string
  error?: string
  auth?: {display_name?: string; metadata?: Record<string, string> | null; entity_id?: string; policies?: string[]}
  request?: {
    id?: string
    operation?: string
    path?: string
    data?: Record<string, unknown> | null
    remote_address?: string
    namespace?: {id?: string; path?: string}
  }
  response?: {data?: Record<string, unknown> | null} | null
}

/** How an API path relates to a secret: which KV endpoint it is. */
type Endpoint = 'data' | 'metadata' | 'delete' | 'undelete' | 'destroy' | 'v1'

const HMAC = /^hmac-sha256:[0-9a-f]{64}$/
/** Version numbers tried when a `version` parameter was HMAC'd (a secret keeps 10 versions by default). */
const MAX_VERSION_GUESS = 100

function action(endpoint: Endpoint, operation: string): string {
  const write = operation === 'create' || operation === 'update' || operation === 'patch'
  switch (endpoint) {
    case 'data':
    case 'v1':
      return operation === 'read' ? 'read' : write ? 'write' : operation === 'delete' ? 'delete' : operation
    case 'metadata':
      return operation === 'delete' ? 'destroy-all' : write ? 'write-metadata' : 'read-metadata'
    case 'delete':
      return 'delete'
    case 'undelete':
      return 'undelete'
    case 'destroy':
      return 'destroy'
  }
}

/** Vault's time has nanoseconds; keep milliseconds, in the same ISO form as the other sources. */
function isoTime(t: string | undefined): string | undefined {
  if (t === undefined) return undefined
  const ms = Date.parse(t.replace(/(\.\d{3})\d+/, '$1'))
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString()
}

/** Finds which version number an HMAC'd `version` parameter was, asking sys/audit-hash for the hashes of 1, 2, 3 ... */
class VersionHashes {
  private readonly known = new Map<string, string>()
  private tried = 0

  constructor(
    private readonly provider: VaultTrailSource,
    private readonly device: string,
  ) {}

  async version(hash: string): Promise<string | undefined> {
    while (!this.known.has(hash) && this.tried < MAX_VERSION_GUESS) {
      const from = this.tried + 1
      this.tried = Math.min(MAX_VERSION_GUESS, this.tried + 10)
      const batch = Array.from({length: this.tried - from + 1}, (_, i) => String(from + i))

      const hashes = await Promise.all(batch.map((v) => this.provider.auditHash(this.device, v)))
      for (const [i, h] of hashes.entries()) this.known.set(h, batch[i])
    }
    return this.known.get(hash)
  }
}

/** The API paths of each configured secret, with the endpoint each is (KV v2 has five per secret). */
async function pathsOf(
  provider: VaultTrailSource,
  refs: Reference[],
): Promise<Map<string, {ref: Reference; endpoint: Endpoint}>> {
  const paths = new Map<string, {ref: Reference; endpoint: Endpoint}>()
  for (const ref of refs) {
    const loc = await provider.location(ref)
    if (loc.version === 1) {
      paths.set(`${loc.mount}/${loc.rest}`, {ref, endpoint: 'v1'})
    } else {
      for (const endpoint of ['data', 'metadata', 'delete', 'undelete', 'destroy'] as const)
        paths.set(`${loc.mount}/${endpoint}/${loc.rest}`, {ref, endpoint})
    }
  }
  return paths
}

/**
 * Whether a line can be skipped unparsed. Most of a log is about other paths: a line is parsed only if it
 * names one of ours (as JSON would write it), which makes reading several times faster. Paths with
 * characters an encoder may escape turn the shortcut off. Request entries (Vault writes `time` and `type`
 * first) are skipped too.
 */
function skipper(paths: Map<string, unknown>): (line: string) => boolean {
  const shortcut = [...paths.keys()].every((p) => /^[\w./@=+-]*$/.test(p))
  const namesOurs = (line: string): boolean => {
    for (let i = line.indexOf('"path":"'); i !== -1; i = line.indexOf('"path":"', i + 8)) {
      const end = line.indexOf('"', i + 8)
      if (end === -1) return false
      if (paths.has(line.slice(i + 8, end))) return true
    }
    return false
  }
  return (line) => shortcut && (line.slice(0, 128).includes('"type":"request"') || !namesOurs(line))
}

/** A file audit device's log, read as a stream, entries about the configured secrets turned into trail events. */
export async function vaultTrail(provider: VaultTrailSource, options: VaultTrailOptions): Promise<TrailEvent[]> {
  const file = options.auditFile
  if (file === undefined) {
    throw new SecretsError(
      'USAGE',
      `Vault keeps its trail in audit devices; secrets reads a file audit device's log, so name it with --vault-audit-file.`,
      {
        suggestions: [
          'Pass the file_path of a file audit device (`vault audit list -detailed` shows it), e.g. --vault-audit-file /var/log/vault/audit.log.',
        ],
      },
    )
  }
  const device = (options.auditDevice ?? 'file').replace(/^\/+|\/+$/g, '')
  const paths = await pathsOf(provider, options.refs)
  const skippable = skipper(paths)
  const hashes = new VersionHashes(provider, device)
  const out: TrailEvent[] = []
  const stream = createReadStream(file, {encoding: 'utf8'})
  const lines = createInterface({input: stream, crlfDelay: Number.POSITIVE_INFINITY})
  let n = 0
  let unparsed: number | undefined
  try {
    for await (const line of lines) {
      n++
      if (line.trim() === '') continue
      // A line that is not JSON is corruption, unless it is the last one (the device may be writing it).
      if (unparsed !== undefined) throw notJson(file, unparsed, line)
      let entry: AuditEntry
      // Skipped unparsed; still, a line that is not one JSON object is corruption.
      if (skippable(line)) {
        const t = line.trim()
        if (!t.startsWith('{') || !t.endsWith('}')) unparsed = n
        continue
      }
      try {
        entry = JSON.parse(line) as AuditEntry
      } catch {
        unparsed = n
        continue
      }
      // Vault writes a request entry before handling and a response entry after: the response has the outcome.
      if (entry.type !== 'response') continue
      const rawPath = (entry.request?.path ?? '').replace(/^\/+/, '')
      const hit = paths.get(rawPath)
      if (hit === undefined) continue
      const time = isoTime(entry.time)
      if (time === undefined) continue
      const t = Date.parse(time)
      if (
        (options.since !== undefined && t < options.since.getTime()) ||
        (options.until !== undefined && t > options.until.getTime())
      )
        continue

      out.push(await toEvent(entry, hit, time, hashes))
    }
  } catch (error) {
    if (error instanceof SecretsError) throw error
    const mapped = fsError(error, file, 'reading the Vault audit log')
    if (mapped instanceof SecretsError && mapped.code === 'NOT_FOUND') {
      throw new SecretsError('NOT_FOUND', `The Vault audit log ${file} does not exist.`, {
        cause: error,
        suggestions: ['Check the path: `vault audit list -detailed` shows the file_path of each file audit device.'],
      })
    }
    throw mapped
  } finally {
    lines.close()
    stream.destroy()
  }
  return out
}

function notJson(file: string, line: number, next: string): SecretsError {
  return new SecretsError(
    'INTEGRITY',
    `${file}:${line} is not a JSON audit entry, so the Vault audit log is corrupt or not in the file device's JSON format.`,
    {
      suggestions: [
        next.trimStart().startsWith('<')
          ? 'This looks like the jsonx (XML) format: enable the file device with format=json.'
          : 'Point --vault-audit-file at a file audit device log (format=json), and check the file was not truncated or edited.',
      ],
    },
  )
}

async function toEvent(
  entry: AuditEntry,
  hit: {ref: Reference; endpoint: Endpoint},
  time: string,
  hashes: VersionHashes,
): Promise<TrailEvent> {
  const operation = entry.request?.operation ?? 'unknown'
  const error = entry.error
    ?.replaceAll(/\s+/g, ' ')
    .replace(/^1 error occurred: \* /, '')
    .trim()
  const responseData = entry.response?.data ?? undefined
  let outcome: TrailEvent['outcome'] = 'ok'
  if (error) outcome = /permission denied/i.test(error) ? 'denied' : 'error'
  else if (operation === 'read' && (responseData === undefined || responseData === null)) outcome = 'not_found'
  // The version read: the request's `version` parameter (HMAC'd unless log_raw), else what the response says.
  let version: string | undefined
  const asked = entry.request?.data?.version
  if (typeof asked === 'string' && HMAC.test(asked)) version = await hashes.version(asked)
  else if (typeof asked === 'string' || typeof asked === 'number') version = String(asked)
  const meta = (responseData?.metadata ?? responseData) as {version?: unknown} | undefined
  if (version === undefined && typeof meta?.version === 'number') version = String(meta.version)
  const auth = entry.auth ?? {}
  const role = auth.metadata?.role_name ?? auth.metadata?.role
  const actor = `${auth.display_name || 'unknown'}${role ? ` (role ${role})` : ''}`
  return {
    time,
    actor,
    action: action(hit.endpoint, operation),
    secret: `${hit.ref.alias}://${hit.ref.path}`,
    outcome,
    ...(version === undefined ? {} : {version}),
    ...(error ? {code: error.slice(0, 200)} : {}),
    ...(entry.request?.id === undefined ? {} : {id: entry.request.id}),
    details: {
      path: entry.request?.path,
      operation,
      ...(entry.request?.remote_address === undefined ? {} : {remoteAddress: entry.request.remote_address}),
      ...(auth.entity_id ? {entityId: auth.entity_id} : {}),
      ...(auth.policies === undefined ? {} : {policies: auth.policies}),
    },
  }
}
