import {createHash} from 'node:crypto'
import {existsSync, lstatSync, readFileSync, readlinkSync, realpathSync} from 'node:fs'
import {dirname, resolve} from 'node:path'

import {SecretsError, fsError} from '../../errors.js'
import {keyServiceOf} from '../../providers/registry.js'
import {removeStaleTemps, writeFileAtomic} from '../lib/atomic-write.js'
import {withLock} from '../lib/lock.js'
import {SecretValue} from '../secret-value.js'
import {
  checkMac,
  keyIdOf,
  newDataKey,
  parseStore,
  SECRET_NAME_PATTERN,
  serializeStore,
  STORE_FORMAT,
  type RecipientEntry,
  type SecretEntry,
  type StoreDoc,
  type VersionEntry,
} from './format.js'
import {checkContinuity, extendLineage, rememberKey} from './continuity.js'
import {isReservedName} from './reserved-names.js'
import {wrapFor, type Keyring, type RecipientSpec} from './keyring.js'
import {seal, unseal} from './seal.js'

/** Metadata of one secret: never its value. */
export interface LocalSecretMeta {
  name: string
  version: number
  versions: number
  updated: string
  actor: string
  created: string
}

/**
 * The file a write of the store at `file` replaces: `file` itself, or, when it is a symlink, the file it
 * points to (even a missing one). The new store is renamed into place beside the target, so the link
 * stays a link and keeps pointing at the updated store; the lock is taken on the target too, so writers
 * through different links to one store exclude each other.
 */
export function writeTarget(file: string): string {
  try {
    if (!lstatSync(file).isSymbolicLink()) return file
  } catch {
    return file
  }
  try {
    return realpathSync(file)
  } catch {
    return resolve(dirname(file), readlinkSync(file))
  }
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
    if ((error as NodeJS.ErrnoException).code === 'EISDIR') {
      throw new SecretsError('CONFIG_INVALID', `The local store path ${file} is a directory, not a store file.`, {
        suggestions: ['Make `path:` of the local provider in secrets.yaml name the file, e.g. .secrets/store.json.'],
      })
    }
    throw fsError(error, file, 'reading the store')
  }
  return parseStore(text, file)
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
    return {value: new SecretValue(unseal(this.file, this.dataKey, name, v)), version: want}
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
    if (isReservedName(name)) {
      throw new SecretsError(
        'USAGE',
        `${name} is a reserved name: variables starting with SECRETS_ configure secrets itself, so a secret of that name would never reach a program. Nothing was changed.`,
        {suggestions: [`Pick another name, e.g. ${name.slice('SECRETS_'.length) || 'MY_SECRET'}.`]},
      )
    }
    const retired =
      this.doc.retired !== undefined && Object.hasOwn(this.doc.retired, name) ? this.doc.retired[name] : undefined
    const entry = (Object.hasOwn(this.doc.secrets, name) ? this.doc.secrets[name] : undefined) ?? {
      current: 0,
      versions: [],
      ...(retired ? {highest: retired} : {}),
    }
    if (retired !== undefined) delete this.doc.retired![name]
    // `highest` remembers numbers of discarded pending versions, so no number is ever given twice.
    const version = Math.max(entry.highest ?? 0, ...entry.versions.map((v) => v.version)) + 1
    const sealed = seal(this.dataKey, name, version, value.reveal())
    const v: VersionEntry = {
      version,
      ...(options.pending ? {state: 'pending' as const} : {}),
      created: new Date().toISOString(),
      actor,
      ...sealed,
    }
    const versions = [...entry.versions, v]
    this.doc.secrets[name] = {
      ...entry,
      current: options.pending && entry.current > 0 ? entry.current : version,
      versions,
    }
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
    if (removed > 0) entry.highest = Math.max(entry.highest ?? 0, ...entry.versions.map((v) => v.version))
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
    // Remembered so that a secret created again under this name goes on from here.
    const highest = Math.max(entry.highest ?? 0, ...entry.versions.map((v) => v.version))
    this.doc.retired = {...this.doc.retired, [name]: highest}
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
    const label = spec.label ?? (spec.type === 'scrypt' ? 'passphrase' : undefined)
    // Labels name recipients for `key remove`, so each must pick out exactly one.
    const taken = this.doc.recipients.find((r) => label !== undefined && (r.label === label || r.recipient === label))
    if (taken !== undefined) {
      throw new SecretsError('CONFLICT', `The label "${label}" is already used by a recipient of ${this.file}.`, {
        suggestions: [`Pick another label with --label (see \`secrets key list\`); nothing was changed.`],
      })
    }
    const entry: RecipientEntry = {
      type: spec.type === 'service' ? (keyServiceOf(spec.recipient) ?? spec.type) : spec.type,
      ...(spec.type === 'scrypt' ? {} : {recipient: spec.recipient}),
      ...(label === undefined ? {} : {label}),
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
    const secrets: Record<string, SecretEntry> = Object.create(null)
    let done = 0
    for (const [name, entry] of Object.entries(this.doc.secrets)) {
      secrets[name] = {
        ...entry,
        versions: entry.versions.map((v) => {
          const plain = unseal(this.file, this.dataKey, name, v)
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
      // The link from the old key lets every user who knew it accept the new one (continuity.ts).
      lineage: extendLineage(this.doc.lineage, this.dataKey, newKey),
      retired: this.doc.retired,
      mac: '',
    }
    this.dataKey = newKey
    return {keyId: this.doc.keyId, digests, versions: total}
  }

  /** Remember this store's data key as the one this user trusts (after creating or rotating it). */
  remember(env: NodeJS.ProcessEnv): Promise<void> {
    return rememberKey(this.file, this.dataKey, env)
  }

  /** Serialise with a fresh MAC: stable key order, one secret per block, for readable diffs. */
  serialize(): string {
    return serializeStore(this.doc, this.dataKey)
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

/** What a rekeyed store must decrypt to: a SHA-256 of every version's value, by name and version. */
export interface RekeyCheck {
  keyId: string
  digests: Map<string, string>
  versions: number
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

/**
 * Open a store for reading: its data key must be the one this user last opened, or linked from it
 * (see continuity.ts). `unchecked` skips that check, for `key trust` alone.
 */
export async function openStore(file: string, keyring: Keyring, o: {unchecked?: boolean} = {}): Promise<OpenStore> {
  const doc = readStoreFile(file)
  const dataKey = await keyring.unwrap(doc, file)
  checkMac(doc, dataKey, file)
  if (!o.unchecked) await checkContinuity(file, doc, dataKey, keyring.env)
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
  const target = writeTarget(file)
  return withLock(target, async () => {
    removeStaleTemps(target)
    const store = await openStore(file, keyring)
    const result = await change(store)
    writeFileAtomic(target, store.serialize(), 0o600)
    return result
  })
}

/** Create a new, empty store wrapped for the given recipients. Refuses to overwrite an existing file. */
export async function createStore(
  file: string,
  recipients: Array<Exclude<RecipientSpec, {type: 'service'}>>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<OpenStore> {
  if (recipients.length === 0) throw new SecretsError('USAGE', 'A store needs at least one recipient.')
  const target = writeTarget(file)
  return withLock(target, async () => {
    if (existsSync(target)) throw new SecretsError('CONFLICT', `The store ${file} already exists; not overwriting it.`)
    removeStaleTemps(target)
    const store = emptyStore(file)
    for (const r of recipients) {
      await store.addRecipient(r)
    }
    writeFileAtomic(target, store.serialize(), 0o600)
    await store.remember(env)
    return store
  })
}

/** A new, empty store in memory under a fresh data key (nothing written): for files in the store format, such as `export --encrypt`. */
export function emptyStore(file: string): OpenStore {
  const {key, keyId} = newDataKey()
  return new OpenStore(file, {format: STORE_FORMAT, keyId, recipients: [], secrets: Object.create(null), mac: ''}, key)
}
