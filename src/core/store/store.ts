import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto'
import {existsSync, readFileSync} from 'node:fs'
import type {Decrypter} from 'age-encryption'

import {SecretsError, fsError} from '../../errors.js'
import {keyServiceOf, openKeyWrapper} from '../../providers/loader.js'
import {removeStaleTemps, writeFileAtomic} from '../lib/atomic-write.js'
import {decryptX25519} from './age-x25519.js'
import {ageLibrary, loadIdentities, type AgeIdentity} from './identity.js'
import type {Interaction} from '../interaction.js'
import {withLock} from '../lib/lock.js'
import {SecretValue} from '../secret-value.js'

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
}

export interface StoreDoc {
  format: string
  keyId: string
  recipients: RecipientEntry[]
  secrets: Record<string, SecretEntry>
  mac: string
}

/** Metadata of one secret: never its value. */
export interface LocalSecretMeta {
  name: string
  version: number
  versions: number
  updated: string
  actor: string
  created: string
}

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

function macOf(doc: Omit<StoreDoc, 'mac'>, dataKey: Buffer): string {
  const {format, keyId, recipients, secrets} = doc
  return createHmac('sha256', derive(dataKey, 'mac'))
    .update(canonicalJson({format, keyId, recipients, secrets}))
    .digest('hex')
}

function aad(name: string, version: number): Buffer {
  return Buffer.from(`${STORE_FORMAT}\0${name}\0${version}`, 'utf8')
}

function seal(dataKey: Buffer, name: string, version: number, value: Buffer): {nonce: string; data: string} {
  const nonce = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', derive(dataKey, 'encryption'), nonce)
  cipher.setAAD(aad(name, version))
  const ct = Buffer.concat([cipher.update(value), cipher.final(), cipher.getAuthTag()])
  return {nonce: nonce.toString('base64'), data: ct.toString('base64')}
}

function open(file: string, dataKey: Buffer, name: string, v: VersionEntry): Buffer {
  const blob = Buffer.from(v.data, 'base64')
  const nonce = Buffer.from(v.nonce, 'base64')
  if (nonce.length !== 12 || blob.length < 16) throw corrupt(file, `version ${v.version} of ${name} is truncated`)
  try {
    const decipher = createDecipheriv('aes-256-gcm', derive(dataKey, 'encryption'), nonce)
    decipher.setAAD(aad(name, v.version))
    decipher.setAuthTag(blob.subarray(blob.length - 16))
    return Buffer.concat([decipher.update(blob.subarray(0, blob.length - 16)), decipher.final()])
  } catch {
    throw corrupt(file, `version ${v.version} of ${name} does not authenticate`)
  }
}

function corrupt(file: string, detail: string): SecretsError {
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
    throw corrupt(file, 'it is not valid JSON (truncated or edited)')
  }
  if (!isObj(raw)) throw corrupt(file, 'the top level is not an object')
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
    throw corrupt(file, 'the "format" field is missing or unknown')
  }
  if (!isStr(raw.keyId) || !/^[0-9a-f]{16}$/.test(raw.keyId)) throw corrupt(file, 'the "keyId" field is malformed')
  if (!isStr(raw.mac) || !/^[0-9a-f]{64}$/.test(raw.mac)) throw corrupt(file, 'the "mac" field is malformed')
  if (!Array.isArray(raw.recipients) || raw.recipients.length === 0) throw corrupt(file, 'there are no recipients')
  for (const r of raw.recipients) {
    if (!isObj(r) || !isStr(r.type) || !isStr(r.wrapped) || !isStr(r.added))
      throw corrupt(file, 'a recipient entry is malformed')
  }
  if (!isObj(raw.secrets)) throw corrupt(file, 'the "secrets" field is not an object')
  for (const [name, entry] of Object.entries(raw.secrets)) {
    if (!SECRET_NAME_PATTERN.test(name)) throw corrupt(file, `the secret name ${JSON.stringify(name)} is not valid`)
    if (!isObj(entry) || !isPosInt(entry.current) || !Array.isArray(entry.versions) || entry.versions.length === 0) {
      throw corrupt(file, `the entry for ${name} is malformed`)
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
        throw corrupt(file, `a version of ${name} is malformed`)
      }
      if (v.state !== undefined && v.state !== 'pending')
        throw corrupt(file, `a version of ${name} has an unknown state`)
    }
    if (!entry.versions.some((v: VersionEntry) => v.version === entry.current))
      throw corrupt(file, `the current version of ${name} is missing`)
  }
  return raw as unknown as StoreDoc
}

/** Read a store file from disk (no decryption). */
export function readStoreFile(file: string): StoreDoc {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new SecretsError('NOT_FOUND', `The local store ${file} does not exist.`, {
        suggestions: ['Run `secrets init` to create it, or fix `path:` of the local provider in secrets.yaml.'],
      })
    }
    throw fsError(error, file, 'reading the store')
  }
  return parseStore(text, file)
}

/**
 * age decryption of a small blob, read through the stream API. `Decrypter.decrypt(bytes)` collects its
 * output with `new Response(...)`, which makes Node load its whole HTTP client (about 20 ms at every
 * start); reading the stream ourselves costs nothing. Every chunk is still authenticated.
 */
async function decryptAll(d: Decrypter, data: Uint8Array): Promise<Buffer> {
  const input = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(data)
      controller.close()
    },
  })
  const reader = (await d.decrypt(input)).getReader()
  const chunks: Uint8Array[] = []
  for (;;) {
    const {done, value} = await reader.read()
    if (done) break
    chunks.push(value)
  }
  return Buffer.concat(chunks)
}

/** Passphrase work factor (log2 N of scrypt): 18 as in age; SECRETS_SCRYPT_LOG_N may lower it to >= 12 for tests. */
function scryptLogN(): number {
  const n = Number(process.env.SECRETS_SCRYPT_LOG_N)
  return Number.isInteger(n) && n >= 12 && n <= 22 ? n : 18
}

/** How a new recipient is given: an age public key, a passphrase, or a key-service URI. */
export type RecipientSpec =
  | {type: 'age'; recipient: string; label?: string}
  | {type: 'scrypt'; passphrase: string; label?: string}
  | {type: 'service'; recipient: string; label?: string}

/** Wrap a data key for one recipient. */
export async function wrapFor(dataKey: Buffer, spec: RecipientSpec): Promise<string> {
  if (spec.type === 'service') return (await openKeyWrapper(spec.recipient, process.env)).wrap(dataKey)
  const age = await ageLibrary()
  const e = new age.Encrypter()
  if (spec.type === 'age') {
    e.addRecipient(spec.recipient)
  } else {
    e.setScryptWorkFactor(scryptLogN())
    e.setPassphrase(spec.passphrase)
  }
  return Buffer.from(await e.encrypt(dataKey)).toString('base64')
}

/** The data key in a passphrase recipient's entry, or undefined when `passphrase` is not its passphrase. */
export async function unwrapWithPassphrase(r: RecipientEntry, passphrase: string): Promise<Buffer | undefined> {
  const age = await ageLibrary()
  const d = new age.Decrypter()
  d.addPassphrase(passphrase)
  try {
    return await decryptAll(d, Buffer.from(r.wrapped, 'base64'))
  } catch {
    return undefined
  }
}

/** A fresh random data key and the id the store file shows for it. */
export function newDataKey(): {key: Buffer; keyId: string} {
  const key = randomBytes(32)
  return {key, keyId: keyIdOf(key)}
}

/**
 * Unwraps data keys with the identities and passphrase available to this process, caching them by key
 * id so a store is unwrapped once per process however many times it is opened.
 */
export class Keyring {
  private identities?: AgeIdentity[]
  private passphrase?: string
  private readonly cache = new Map<string, Buffer>()

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly ui: Interaction,
  ) {}

  async ageIdentities(): Promise<AgeIdentity[]> {
    this.identities ??= await loadIdentities(this.env)
    return this.identities
  }

  /** The passphrase this process already has (SECRETS_PASSPHRASE, or one typed earlier), without asking. */
  knownPassphrase(): string | undefined {
    return this.passphrase ?? (this.env.SECRETS_PASSPHRASE || undefined)
  }

  /** The passphrase from SECRETS_PASSPHRASE, else a hidden prompt on a TTY, else undefined. */
  async getPassphrase(prompt: string): Promise<string | undefined> {
    if (this.passphrase !== undefined) return this.passphrase
    if (this.env.SECRETS_PASSPHRASE) this.passphrase = this.env.SECRETS_PASSPHRASE
    else if (this.ui.interactive) this.passphrase = await this.ui.password(prompt)
    return this.passphrase
  }

  async unwrap(doc: StoreDoc, file: string): Promise<Buffer> {
    const cached = this.cache.get(doc.keyId)
    if (cached) return cached
    const identities = await this.ageIdentities()
    let dataKey: Buffer | undefined
    for (const r of doc.recipients) {
      if (r.type !== 'age') continue
      const id = identities.find((i) => i.recipient === r.recipient)
      if (id === undefined) continue
      try {
        dataKey = decryptX25519(Buffer.from(r.wrapped, 'base64'), id.x25519)
      } catch {
        dataKey = undefined
      }
      if (dataKey === undefined)
        throw corrupt(file, `the wrapped key for recipient ${r.recipient} does not decrypt with its identity`)
      break
    }
    // Key services (KMS) next: no prompt, but a network call with the service's own credentials.
    let serviceError: unknown
    for (const r of doc.recipients) {
      if (dataKey !== undefined) break
      if (keyServiceOf(r.recipient) === undefined || r.type !== keyServiceOf(r.recipient)) continue
      try {
        dataKey = await (await openKeyWrapper(r.recipient!, this.env)).unwrap(r.wrapped)
      } catch (error) {
        serviceError ??= error
      }
    }
    const scrypt = doc.recipients.filter((r) => r.type === 'scrypt')
    if (
      dataKey === undefined &&
      scrypt.length > 0 &&
      (serviceError === undefined || this.env.SECRETS_PASSPHRASE || this.ui.interactive)
    ) {
      const passphrase = await this.getPassphrase(`Passphrase for ${file}`)
      if (passphrase !== undefined) {
        for (const r of scrypt) {
          dataKey = await this.ui.progress('Deriving key from passphrase', () => unwrapWithPassphrase(r, passphrase))
          if (dataKey !== undefined) break // else try the next passphrase recipient
        }
        if (dataKey === undefined) {
          const mine = identities.map((i) => i.recipient)
          throw new SecretsError('DECRYPT_FAILED', `The passphrase does not open the store ${file}.`, {
            suggestions: [
              'Check SECRETS_PASSPHRASE or retype the passphrase; a holder of a key can add you with `secrets key add`.',
              ...(mine.length > 0
                ? [`Your identity (${mine.join(', ')}) is not a recipient of this store either.`]
                : []),
            ],
          })
        }
      }
    }
    if (dataKey === undefined && serviceError !== undefined) {
      // With no age identity at all (CI with only KMS), the key service's own error says what to fix,
      // unless it found no credentials of its own either: then the missing identity is the story.
      const noCredentials = serviceError instanceof SecretsError && serviceError.code === 'IDENTITY_MISSING'
      if (identities.length === 0 && !noCredentials) throw serviceError
      const e = this.noKey(doc, file, identities)
      const why = serviceError instanceof Error ? serviceError.message.split('\n')[0] : String(serviceError)
      throw new SecretsError(e.code, e.message, {
        suggestions: [...e.suggestions, `The key service recipient failed too: ${why}`],
        cause: serviceError,
      })
    }
    if (dataKey === undefined) throw this.noKey(doc, file, identities)
    if (dataKey.length !== 32 || keyIdOf(dataKey) !== doc.keyId)
      throw corrupt(file, 'the data key does not match the store')
    this.cache.set(doc.keyId, dataKey)
    return dataKey
  }

  private noKey(doc: StoreDoc, file: string, identities: AgeIdentity[]): SecretsError {
    const listed = doc.recipients
      .map((r) =>
        r.type === 'age' || keyServiceOf(r.recipient) !== undefined
          ? r.recipient
          : `${r.type}${r.label ? ` (${r.label})` : ''}`,
      )
      .join(', ')
    if (identities.length === 0) {
      return new SecretsError(
        'IDENTITY_MISSING',
        `No identity is available to open the store ${file} (it is encrypted to: ${listed}).`,
        {
          suggestions: [
            'Set SECRETS_AGE_KEY (the key itself, for CI) or SECRETS_IDENTITY (a key file), or run `secrets init` to create your default identity.',
            ...(doc.recipients.some((r) => r.type === 'scrypt')
              ? ['Or set SECRETS_PASSPHRASE for the store passphrase.']
              : []),
          ],
        },
      )
    }
    const mine = identities.map((i) => `${i.recipient} (from ${i.source})`).join(', ')
    return new SecretsError(
      'DECRYPT_FAILED',
      `Your identity cannot open the store ${file}: you have ${mine}, but the store is encrypted to: ${listed}.`,
      {
        suggestions: [
          `Ask someone who can open it to run \`secrets key add ${identities[0].recipient}\`, or use the right identity (SECRETS_IDENTITY / SECRETS_AGE_KEY).`,
        ],
      },
    )
  }
}

/** A decrypted view of a store: names and metadata in clear, values decrypted on demand. */
export class OpenStore {
  constructor(
    readonly file: string,
    private doc: StoreDoc,
    private dataKey: Buffer,
  ) {}

  get keyId(): string {
    return this.doc.keyId
  }

  names(): string[] {
    return Object.keys(this.doc.secrets)
  }

  has(name: string): boolean {
    return Object.hasOwn(this.doc.secrets, name)
  }

  meta(name: string): LocalSecretMeta {
    const entry = this.entry(name)
    const current = entry.versions.find((v) => v.version === entry.current)!
    return {
      name,
      version: entry.current,
      versions: entry.versions.length,
      updated: current.created,
      actor: current.actor,
      created: entry.versions[0].created,
    }
  }

  /** The history of one secret, without values. */
  history(name: string): Array<Omit<VersionEntry, 'nonce' | 'data'> & {current: boolean}> {
    const entry = this.entry(name)
    return entry.versions.map(({version, state, created, actor}) => ({
      version,
      state,
      created,
      actor,
      current: version === entry.current,
    }))
  }

  read(name: string, version?: number): {value: SecretValue; version: number} {
    const entry = this.entry(name)
    const want = version ?? entry.current
    const v = entry.versions.find((x) => x.version === want)
    if (v === undefined) {
      throw new SecretsError(
        'NOT_FOUND',
        `Version ${want} of ${name} does not exist in ${this.file} (versions: ${entry.versions.map((x) => x.version).join(', ')}).`,
        {
          ref: `local://${name}?version=${want}`,
        },
      )
    }
    return {value: new SecretValue(open(this.file, this.dataKey, name, v)), version: want}
  }

  /** Add a new version and make it current (or leave it pending). Returns the version number. */
  write(name: string, value: SecretValue, actor: string, options: {pending?: boolean} = {}): number {
    if (!SECRET_NAME_PATTERN.test(name)) {
      throw new SecretsError('USAGE', `${JSON.stringify(name)} is not a valid local secret name.`, {
        suggestions: [
          'Local names are letters, digits, "_", "." and "-", starting with a letter, digit or "_" (e.g. DB_PASSWORD).',
        ],
      })
    }
    const entry = this.doc.secrets[name] ?? {current: 0, versions: []}
    const version = Math.max(0, ...entry.versions.map((v) => v.version)) + 1
    const sealed = seal(this.dataKey, name, version, value.reveal())
    const v: VersionEntry = {
      version,
      ...(options.pending ? {state: 'pending' as const} : {}),
      created: new Date().toISOString(),
      actor,
      ...sealed,
    }
    const versions = [...entry.versions, v]
    this.doc.secrets[name] = {current: options.pending && entry.current > 0 ? entry.current : version, versions}
    if (options.pending && entry.current === 0) {
      // A pending first version is still the only one; it becomes current so the entry is valid.
      delete v.state
    }
    return version
  }

  /**
   * Add `value` as a pending version (a staged rotation): `current` stays where it is. CONFLICT when the
   * current version is no longer `base` or another rotation's pending version is there.
   */
  writePending(name: string, value: SecretValue, actor: string, base: number): number {
    const entry = this.entry(name)
    if (entry.current !== base) throw changed(name, this.file, `its current version is ${entry.current}, not ${base}`)
    const other = entry.versions.find((v) => v.state === 'pending')
    if (other !== undefined)
      throw changed(name, this.file, `version ${other.version} is already pending from another rotation`)
    return this.write(name, value, actor, {pending: true})
  }

  /** Make pending version `pending` current, if `base` is still current. */
  promote(name: string, pending: number, base: number): number {
    const entry = this.entry(name)
    const v = entry.versions.find((x) => x.version === pending)
    if (v?.state !== 'pending') throw changed(name, this.file, `version ${pending} is no longer pending`)
    if (entry.current !== base) throw changed(name, this.file, `its current version is ${entry.current}, not ${base}`)
    delete v.state
    entry.current = pending
    return pending
  }

  /** Remove pending versions (the one given, or all); the current version is untouched. Returns how many. */
  discardPending(name: string, pending?: number): number {
    const entry = this.entry(name)
    const keep = entry.versions.filter((v) => v.state !== 'pending' || (pending !== undefined && v.version !== pending))
    const removed = entry.versions.length - keep.length
    entry.versions = keep
    return removed
  }

  /** Make an earlier version current again (rollback), if `expected` is still current. */
  setCurrent(name: string, version: number, expected: number): number {
    const entry = this.entry(name)
    if (entry.current !== expected)
      throw changed(name, this.file, `its current version is ${entry.current}, not ${expected}`)
    const v = entry.versions.find((x) => x.version === version)
    if (v === undefined || v.state === 'pending') {
      throw new SecretsError(
        'NOT_FOUND',
        `Version ${version} of ${name} does not exist in ${this.file} (or is pending).`,
        {ref: `local://${name}?version=${version}`},
      )
    }
    entry.current = version
    return version
  }

  /** Remove a secret and its whole history. */
  remove(name: string): number {
    const entry = this.entry(name)
    delete this.doc.secrets[name]
    return entry.versions.length
  }

  recipients(): RecipientEntry[] {
    return this.doc.recipients.map((r) => ({...r}))
  }

  /** Add a recipient: the data key is wrapped for it; nothing else changes. */
  async addRecipient(spec: RecipientSpec): Promise<RecipientEntry> {
    if (spec.type !== 'scrypt' && this.doc.recipients.some((r) => r.recipient === spec.recipient)) {
      throw new SecretsError('CONFLICT', `${spec.recipient} is already a recipient of ${this.file}.`)
    }
    const entry: RecipientEntry = {
      type: spec.type === 'service' ? (keyServiceOf(spec.recipient) ?? spec.type) : spec.type,
      ...(spec.type === 'scrypt' ? {} : {recipient: spec.recipient}),
      ...(spec.label ? {label: spec.label} : spec.type === 'scrypt' ? {label: 'passphrase'} : {}),
      added: new Date().toISOString(),
      wrapped: await wrapFor(this.dataKey, spec),
    }
    this.doc.recipients.push(entry)
    return entry
  }

  /**
   * Replace the data key with `newKey`, already wrapped for each of `recipients` (the whole new list):
   * every version of every secret is decrypted and sealed again under the new key, all in memory.
   * Returns a check for the serialised result (see `checkRekeyed`). `onSecret` is called after each
   * secret, with the versions done so far, for progress and crash-test checkpoints.
   */
  rekey(
    newKey: Buffer,
    recipients: RecipientEntry[],
    onSecret?: (name: string, done: number, total: number) => void,
  ): RekeyCheck {
    const total = Object.values(this.doc.secrets).reduce((n, e) => n + e.versions.length, 0)
    const digests = new Map<string, string>()
    const secrets: Record<string, SecretEntry> = {}
    let done = 0
    for (const [name, entry] of Object.entries(this.doc.secrets)) {
      secrets[name] = {
        current: entry.current,
        versions: entry.versions.map((v) => {
          const plain = open(this.file, this.dataKey, name, v)
          digests.set(`${name}\0${v.version}`, createHash('sha256').update(plain).digest('hex'))
          const sealed = seal(newKey, name, v.version, plain)
          plain.fill(0)
          return {...v, ...sealed}
        }),
      }
      done += entry.versions.length
      onSecret?.(name, done, total)
    }
    this.doc = {
      format: STORE_FORMAT,
      keyId: keyIdOf(newKey),
      recipients: recipients.map((r) => ({...r})),
      secrets,
      mac: '',
    }
    this.dataKey = newKey
    return {keyId: this.doc.keyId, digests, versions: total}
  }

  /** Serialise with a fresh MAC: stable key order, one secret per block, for readable diffs. */
  serialize(): string {
    const body = {
      format: STORE_FORMAT,
      keyId: this.doc.keyId,
      recipients: this.doc.recipients,
      secrets: sortKeys(this.doc.secrets),
    }
    const mac = macOf(body, this.dataKey)
    return `${JSON.stringify({...body, mac}, null, 2)}\n`
  }

  private entry(name: string): SecretEntry {
    const entry = Object.hasOwn(this.doc.secrets, name) ? this.doc.secrets[name] : undefined
    if (entry === undefined) {
      throw new SecretsError('NOT_FOUND', `No secret named ${name} in the local store ${this.file}.`, {
        ref: `local://${name}`,
        suggestions: ['Run `secrets list` to see the names, or `secrets set ' + name + '` to create it.'],
      })
    }
    return entry
  }
}

/** What a re-keyed store must decrypt to: a SHA-256 of every version's value, by name and version. */
export interface RekeyCheck {
  keyId: string
  digests: Map<string, string>
  versions: number
}

/**
 * Prove that the exact text about to replace the store opens under the new key and holds every value
 * it held before, version for version, before it replaces anything: a fault in re-encryption or
 * serialisation fails here, while the old store is still in place.
 */
export function checkRekeyed(text: string, file: string, newKey: Buffer, check: RekeyCheck): void {
  const bug = (detail: string) =>
    new SecretsError(
      'INTERNAL',
      `Re-encrypting ${file} went wrong (${detail}); the store was not replaced and still opens as before.`,
    )
  let doc: StoreDoc
  try {
    doc = parseStore(text, file)
    verify(doc, newKey, file)
  } catch (error) {
    throw bug(error instanceof Error ? error.message : String(error))
  }
  if (doc.keyId !== check.keyId) throw bug('wrong key id')
  let seen = 0
  for (const [name, entry] of Object.entries(doc.secrets)) {
    for (const v of entry.versions) {
      let plain: Buffer
      try {
        plain = open(file, newKey, name, v)
      } catch {
        throw bug(`version ${v.version} of ${name} does not decrypt`)
      }
      const ok = createHash('sha256').update(plain).digest('hex') === check.digests.get(`${name}\0${v.version}`)
      plain.fill(0)
      if (!ok) throw bug(`version ${v.version} of ${name} changed`)
      seen++
    }
  }
  if (seen !== check.versions) throw bug(`${check.versions} versions became ${seen}`)
}

function changed(name: string, file: string, detail: string): SecretsError {
  return new SecretsError(
    'CONFLICT',
    `${name} in ${file} was changed by another rotation or write (${detail}); nothing was changed.`,
    {
      ref: `local://${name}`,
      suggestions: [
        'See `secrets rotate --status` and `secrets versions ' +
          name +
          '`, then run the rotation again; `secrets rotate --abandon-pending` drops a pending version whose rotation is gone.',
      ],
    },
  )
}

function sortKeys<T>(obj: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(obj).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

/** Verify the MAC of a parsed store against its data key. */
function verify(doc: StoreDoc, dataKey: Buffer, file: string): void {
  const expected = Buffer.from(macOf(doc, dataKey), 'hex')
  const actual = Buffer.from(doc.mac, 'hex')
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
    throw corrupt(
      file,
      'its integrity check (MAC) does not match, so an entry was changed, removed, reordered or swapped',
    )
  }
}

/** Open a store for reading. */
export async function openStore(file: string, keyring: Keyring): Promise<OpenStore> {
  const doc = readStoreFile(file)
  const dataKey = await keyring.unwrap(doc, file)
  verify(doc, dataKey, file)
  return new OpenStore(file, doc, dataKey)
}

/**
 * Read-modify-write a store under its exclusive lock, then write it atomically. The data key is unwrapped
 * before the lock is taken (it may need a slow passphrase derivation), so the lock is held for
 * milliseconds. Concurrent writers never lose an update; a crash leaves the old or the new file.
 */
export async function updateStore<T>(
  file: string,
  keyring: Keyring,
  change: (store: OpenStore) => Promise<T> | T,
): Promise<T> {
  if (!existsSync(file)) readStoreFile(file) // raises the NOT_FOUND error with its suggestion
  await keyring.unwrap(readStoreFile(file), file)
  return withLock(file, async () => {
    removeStaleTemps(file)
    const store = await openStore(file, keyring)
    const result = await change(store)
    writeFileAtomic(file, store.serialize(), 0o600)
    return result
  })
}

/** Create a new, empty store wrapped for the given recipients. Refuses to overwrite an existing file. */
export async function createStore(
  file: string,
  recipients: Array<
    {type: 'age'; recipient: string; label?: string} | {type: 'scrypt'; passphrase: string; label?: string}
  >,
): Promise<OpenStore> {
  if (recipients.length === 0) throw new SecretsError('USAGE', 'A store needs at least one recipient.')
  return withLock(file, async () => {
    if (existsSync(file)) throw new SecretsError('CONFLICT', `The store ${file} already exists; not overwriting it.`)
    const store = emptyStore(file)
    for (const r of recipients) {
      await store.addRecipient(r)
    }
    writeFileAtomic(file, store.serialize(), 0o600)
    return store
  })
}

/** A new, empty store in memory under a fresh data key (nothing written): for files in the store format, such as `export --encrypt`. */
export function emptyStore(file: string): OpenStore {
  const {key, keyId} = newDataKey()
  return new OpenStore(file, {format: STORE_FORMAT, keyId, recipients: [], secrets: {}, mac: ''}, key)
}
