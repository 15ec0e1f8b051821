import {createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual} from 'node:crypto'

import {SecretsError} from '../../errors.js'

/**
 * The local encrypted store: one JSON file, safe to commit. Names are in clear; each version of each
 * value is sealed with AES-256-GCM under a random 256-bit data key, with the store format, the secret's
 * name and the version number as associated data, so a value cannot be moved to another name or
 * version. An HMAC over everything else (recipients and all entries, canonically serialised) detects
 * removed, reordered, swapped or edited entries. The data key is wrapped once per recipient.
 */
export const STORE_FORMAT = 'secrets-store/1'

export const SECRET_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/

/**
 * A recipient of the data key. `age` and `scrypt` are built in; a key service (`awskms`) wraps the key
 * through its provider module; other types are kept as they are.
 */
export interface RecipientEntry {
  type: string
  /** For `age`: the public key (age1...); for a key service: its URI (awskms://alias/secrets). */
  recipient?: string
  label?: string
  added: string
  /** The data key, wrapped for this recipient (base64 of an age file). */
  wrapped: string
  [extra: string]: unknown
}

export interface VersionEntry {
  version: number
  /** Absent for normal versions; `pending` for a staged rotation not yet promoted. */
  state?: 'pending'
  created: string
  actor: string
  nonce: string
  data: string
}

export interface SecretEntry {
  /** The version number `get` returns by default. */
  current: number
  versions: VersionEntry[]
  /** The highest version number ever given, when a discarded pending version held it. */
  highest?: number
}

/**
 * One earlier data key of a store, written by `key rotate` / `key remove`: its continuity secret sealed
 * under the current data key, and a MAC under that secret of the key that replaced it. Not covered
 * by the store MAC: each entry authenticates itself (see continuity.ts).
 */
export interface LineageEntry {
  keyId: string
  /** The earlier key's continuity secret, AES-256-GCM under the current data key (base64 nonce + data). */
  secret: string
  /** HMAC-SHA256 (hex) under that secret of the next key's id and fingerprint. */
  link: string
}

export interface StoreDoc {
  format: string
  keyId: string
  recipients: RecipientEntry[]
  secrets: Record<string, SecretEntry>
  /** Earlier data keys, oldest first; absent in stores never rotated by a version that writes it. */
  lineage?: LineageEntry[]
  /** Deleted names and the highest version each reached, so a name created again does not reuse them. */
  retired?: Record<string, number>
  /** HMAC of `retired` (it is outside the store MAC, so older versions still read the store). */
  retiredMac?: string
  mac: string
}

/** A recipient as shown to users: never the wrapped key. */
export interface RecipientInfo {
  type: string
  recipient?: string
  /** For a recipient without a public key: `type:hash`, which `key remove` accepts. */
  id?: string
  label?: string
  added: string
}

/**
 * A short name for a recipient that has no public key (a passphrase): its type and a hash of its
 * wrapped key. It tells apart entries a label cannot (stores written before labels were unique).
 */
export const recipientId = (r: RecipientEntry): string =>
  r.recipient ?? `${r.type}:${createHash('sha256').update(r.wrapped).digest('hex').slice(0, 8)}`

/** The user-facing view of a recipient entry. */
export const recipientInfo = (r: RecipientEntry): RecipientInfo => ({
  type: r.type,
  ...(r.recipient ? {recipient: r.recipient} : {id: recipientId(r)}),
  ...(r.label ? {label: r.label} : {}),
  added: r.added,
})

/** Canonical JSON: object keys sorted, no whitespace. Used as MAC input. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value)
}

/** Derived keys, per data key and purpose: opening 50 secrets derives the encryption key once. */
const derived = new Map<string, Buffer>()

function derive(dataKey: Buffer, purpose: string, length = 32): Buffer {
  const id = `${dataKey.toString('base64')} ${purpose} ${length}`
  let key = derived.get(id)
  if (key === undefined) {
    key = Buffer.from(hkdfSync('sha256', dataKey, Buffer.alloc(0), `${STORE_FORMAT} ${purpose}`, length))
    derived.set(id, key)
  }
  return key
}

/** The id of a data key, as written in the store's `keyId` field. */
export function keyIdOf(dataKey: Buffer): string {
  return derive(dataKey, 'key id', 8).toString('hex')
}

/** A fresh random data key and the id the store file shows for it. */
export function newDataKey(): {key: Buffer; keyId: string} {
  const key = randomBytes(32)
  return {key, keyId: keyIdOf(key)}
}

/**
 * A secret derived from a data key that proves its holder knew the key without revealing it: the
 * store's lineage keeps it for earlier keys (see continuity.ts), and users remember only its hash.
 */
export function continuitySecret(dataKey: Buffer): Buffer {
  return derive(dataKey, 'continuity')
}

/** The key derived from a data key to seal values with (AES-256-GCM). */
export function encryptionKey(dataKey: Buffer): Buffer {
  return derive(dataKey, 'encryption')
}

function storeMac(doc: Omit<StoreDoc, 'mac'>, dataKey: Buffer): string {
  const {format, keyId, recipients, secrets} = doc
  return createHmac('sha256', derive(dataKey, 'mac'))
    .update(canonicalJson({format, keyId, recipients, secrets}))
    .digest('hex')
}

function retiredMac(keyId: string, retired: Record<string, number>, dataKey: Buffer): string {
  return createHmac('sha256', derive(dataKey, 'retired')).update(canonicalJson({keyId, retired})).digest('hex')
}

const sameHex = (a: string, b: string | undefined): boolean => {
  const x = Buffer.from(a, 'hex')
  const y = Buffer.from(b ?? '', 'hex')
  return x.length === y.length && timingSafeEqual(x, y)
}

/** Check the MAC of a parsed store against its data key: INTEGRITY when any entry was changed. */
export function checkMac(doc: StoreDoc, dataKey: Buffer, file: string): void {
  const retiredOk = doc.retired === undefined || sameHex(retiredMac(doc.keyId, doc.retired, dataKey), doc.retiredMac)
  if (!sameHex(storeMac(doc, dataKey), doc.mac) || !retiredOk) {
    throw corruptStore(
      file,
      'its integrity check (MAC) does not match, so an entry was changed, removed, reordered or swapped',
    )
  }
}

/** The text of a store with a fresh MAC: stable key order, one secret per block, for readable diffs. */
export function serializeStore(doc: Omit<StoreDoc, 'mac'>, dataKey: Buffer): string {
  const body = {
    format: STORE_FORMAT,
    keyId: doc.keyId,
    recipients: doc.recipients,
    secrets: sortKeys(doc.secrets),
  }
  const mac = storeMac(body, dataKey)
  const lineage = doc.lineage && doc.lineage.length > 0 ? {lineage: doc.lineage} : {}
  const retired =
    doc.retired && Object.keys(doc.retired).length > 0
      ? {retired: sortKeys(doc.retired), retiredMac: retiredMac(doc.keyId, doc.retired, dataKey)}
      : {}
  return `${JSON.stringify({...body, ...lineage, ...retired, mac}, null, 2)}\n`
}

function sortKeys<T>(obj: Record<string, T>): Record<string, T> {
  const sorted: Record<string, T> = Object.create(null)
  for (const [k, v] of Object.entries(obj).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) sorted[k] = v
  return sorted
}

/** The INTEGRITY error for a store file that does not parse, authenticate or match its key. */
export function corruptStore(file: string, detail: string): SecretsError {
  return new SecretsError(
    'INTEGRITY',
    `The store ${file} is corrupt or has been tampered with: ${detail}. Nothing was decrypted.`,
    {
      suggestions: [`Restore ${file} from version control or a backup (\`git checkout -- ${file}\`), then retry.`],
    },
  )
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x)
const isStr = (x: unknown): x is string => typeof x === 'string'
const isPosInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x > 0

/** Parse and structurally validate a store file; nothing is decrypted here. */
export function parseStore(text: string, file: string): StoreDoc {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    throw corruptStore(file, 'it is not valid JSON (truncated or edited)')
  }
  if (!isObj(raw)) throw corruptStore(file, 'the top level is not an object')
  if (raw.format !== STORE_FORMAT) {
    const newer = isStr(raw.format) ? /^secrets-store\/([2-9]|[1-9]\d+)$/.exec(raw.format) : null
    if (newer) {
      throw new SecretsError(
        'UNSUPPORTED',
        `The store ${file} has format ${raw.format}, which this version of secrets does not read.`,
        {
          suggestions: ['Upgrade secrets to the version that wrote this store.'],
        },
      )
    }
    throw corruptStore(file, 'the "format" field is missing or unknown')
  }
  if (!isStr(raw.keyId) || !/^[0-9a-f]{16}$/.test(raw.keyId)) throw corruptStore(file, 'the "keyId" field is malformed')
  if (!isStr(raw.mac) || !/^[0-9a-f]{64}$/.test(raw.mac)) throw corruptStore(file, 'the "mac" field is malformed')
  if (!Array.isArray(raw.recipients) || raw.recipients.length === 0) throw corruptStore(file, 'there are no recipients')
  for (const r of raw.recipients) {
    if (!isObj(r) || !isStr(r.type) || !isStr(r.wrapped) || !isStr(r.added))
      throw corruptStore(file, 'a recipient entry is malformed')
  }
  if (raw.lineage !== undefined) {
    const ok = (e: unknown) =>
      isObj(e) && isStr(e.keyId) && /^[0-9a-f]{16}$/.test(e.keyId) && isStr(e.secret) && isStr(e.link)
    if (!Array.isArray(raw.lineage) || !raw.lineage.every(ok))
      throw corruptStore(file, 'the "lineage" field is malformed')
  }
  if (raw.retired !== undefined) {
    if (!isObj(raw.retired) || !Object.values(raw.retired).every(isPosInt) || !isStr(raw.retiredMac))
      throw corruptStore(file, 'the "retired" field is malformed')
  }
  if (!isObj(raw.secrets)) throw corruptStore(file, 'the "secrets" field is not an object')
  for (const [name, entry] of Object.entries(raw.secrets)) {
    if (!SECRET_NAME_PATTERN.test(name))
      throw corruptStore(file, `the secret name ${JSON.stringify(name)} is not valid`)
    if (!isObj(entry) || !isPosInt(entry.current) || !Array.isArray(entry.versions) || entry.versions.length === 0) {
      throw corruptStore(file, `the entry for ${name} is malformed`)
    }
    for (const v of entry.versions) {
      if (
        !isObj(v) ||
        !isPosInt(v.version) ||
        !isStr(v.nonce) ||
        !isStr(v.data) ||
        !isStr(v.created) ||
        !isStr(v.actor)
      ) {
        throw corruptStore(file, `a version of ${name} is malformed`)
      }
      if (v.state !== undefined && v.state !== 'pending')
        throw corruptStore(file, `a version of ${name} has an unknown state`)
    }
    if (entry.highest !== undefined && !isPosInt(entry.highest))
      throw corruptStore(file, `the highest version of ${name} is malformed`)
    if (!entry.versions.some((v: VersionEntry) => v.version === entry.current))
      throw corruptStore(file, `the current version of ${name} is missing`)
  }
  // Secret names are user text (`constructor`, `__proto__`): a map without a prototype holds any of them.
  const retired = raw.retired === undefined ? {} : {retired: Object.assign(Object.create(null), raw.retired)}
  return {...raw, secrets: Object.assign(Object.create(null), raw.secrets), ...retired} as unknown as StoreDoc
}
