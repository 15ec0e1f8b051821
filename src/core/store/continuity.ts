import {createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual} from 'node:crypto'
import {readFileSync, realpathSync} from 'node:fs'
import {join, resolve} from 'node:path'

import {SecretsError} from '../../errors.js'
import {writeFileAtomic} from '../lib/atomic-write.js'
import {withLock} from '../lib/lock.js'
import {continuitySecret, encryptionKey, keyIdOf, STORE_FORMAT, type LineageEntry, type StoreDoc} from './format.js'
import {userStateDir} from './identity.js'

/**
 * Data-key continuity. Anyone who can write a store file can replace it by a new store whose fresh
 * data key is wrapped to the recipients' public keys: it opens, and its MAC verifies. So each user
 * remembers, per store, the data key it last opened (a fingerprint: the SHA-256 of the key's
 * continuity secret, never the key), and a store under another key opens only when it carries a
 * lineage from the remembered key: `key rotate` and `key remove` add the old key's continuity secret
 * (sealed under the new key) and a MAC under that secret of the new key's id and fingerprint. Only a
 * holder of the old key can make that MAC, so a forger who knows only public keys cannot; rotations by
 * teammates pass silently. Anything else is KEY_CHANGED until the user runs `secrets key trust`.
 */

/** At most this many earlier keys are kept; a user who last opened an older one confirms with `key trust`. */
export const MAX_LINEAGE = 100

/** What a user remembers of one store's data key. */
export interface TrustedKey {
  keyId: string
  fingerprint: string
  /** When it was first trusted (ISO time). */
  since: string
}

interface TrustFile {
  version: 1
  stores: Record<string, TrustedKey>
}

/** The per-user file of remembered data keys: SECRETS_TRUST_FILE, else `$XDG_STATE_HOME/secrets/store-keys.json`. */
export function trustFile(env: NodeJS.ProcessEnv): string {
  return env.SECRETS_TRUST_FILE || join(userStateDir(env), 'store-keys.json')
}

/** The fingerprint users remember of a data key. */
export function fingerprintOf(dataKey: Buffer): string {
  return fingerprintOfSecret(continuitySecret(dataKey))
}

const fingerprintOfSecret = (secret: Buffer) => createHash('sha256').update(secret).digest('hex')

/** A store is known by the real path of its file, so a symlink and its target are one store. */
export function storeIdentity(file: string): string {
  try {
    return realpathSync(file)
  } catch {
    return resolve(file)
  }
}

function readTrust(env: NodeJS.ProcessEnv): TrustFile {
  try {
    const raw = JSON.parse(readFileSync(trustFile(env), 'utf8')) as Partial<TrustFile>
    if (raw.version === 1 && typeof raw.stores === 'object' && raw.stores !== null)
      return {version: 1, stores: raw.stores}
  } catch {
    // Missing or unreadable: nothing is remembered yet, so the next store opened is trusted on first use.
  }
  return {version: 1, stores: {}}
}

/** The data key remembered for a store, if any. */
export function trustedKey(file: string, env: NodeJS.ProcessEnv): TrustedKey | undefined {
  const stores = readTrust(env).stores
  const id = storeIdentity(file)
  return Object.hasOwn(stores, id) ? stores[id] : undefined
}

/** Remember `dataKey` as the key of the store in `file` (0600, atomic, under the trust file's lock). */
export async function rememberKey(file: string, dataKey: Buffer, env: NodeJS.ProcessEnv): Promise<void> {
  const path = trustFile(env)
  const entry: TrustedKey = {
    keyId: keyIdOf(dataKey),
    fingerprint: fingerprintOf(dataKey),
    since: new Date().toISOString(),
  }
  try {
    await withLock(path, () => {
      const trust = readTrust(env)
      trust.stores[storeIdentity(file)] = entry
      writeFileAtomic(path, `${JSON.stringify(trust, null, 2)}\n`, 0o600)
    })
  } catch {
    // A read-only home must not stop reads; the store is then trusted on first use again next time.
  }
}

const aad = (keyId: string) => Buffer.from(`${STORE_FORMAT}\0lineage\0${keyId}`, 'utf8')

function sealSecret(currentKey: Buffer, keyId: string, secret: Buffer): string {
  const nonce = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', encryptionKey(currentKey), nonce)
  cipher.setAAD(aad(keyId))
  return Buffer.concat([nonce, cipher.update(secret), cipher.final(), cipher.getAuthTag()]).toString('base64')
}

function unsealSecret(currentKey: Buffer, entry: LineageEntry): Buffer | undefined {
  const blob = Buffer.from(entry.secret, 'base64')
  if (blob.length !== 12 + 32 + 16) return undefined
  try {
    const decipher = createDecipheriv('aes-256-gcm', encryptionKey(currentKey), blob.subarray(0, 12))
    decipher.setAAD(aad(entry.keyId))
    decipher.setAuthTag(blob.subarray(blob.length - 16))
    return Buffer.concat([decipher.update(blob.subarray(12, blob.length - 16)), decipher.final()])
  } catch {
    return undefined
  }
}

function linkMac(secret: Buffer, fromKeyId: string, toKeyId: string, toFingerprint: string): string {
  return createHmac('sha256', secret)
    .update(`${STORE_FORMAT} link\0${fromKeyId}\0${toKeyId}\0${toFingerprint}`)
    .digest('hex')
}

/**
 * The lineage of a store whose data key goes from `oldKey` to `newKey`: the earlier entries sealed
 * again under the new key, plus one for the old key with its link to the new one.
 */
export function extendLineage(lineage: LineageEntry[] | undefined, oldKey: Buffer, newKey: Buffer): LineageEntry[] {
  const out: LineageEntry[] = []
  for (const e of lineage ?? []) {
    const secret = unsealSecret(oldKey, e)
    // An entry that does not open under the key it was sealed with is dropped, not carried forward.
    if (secret !== undefined) out.push({...e, secret: sealSecret(newKey, e.keyId, secret)})
  }
  const oldId = keyIdOf(oldKey)
  const oldSecret = continuitySecret(oldKey)
  out.push({
    keyId: oldId,
    secret: sealSecret(newKey, oldId, oldSecret),
    link: linkMac(oldSecret, oldId, keyIdOf(newKey), fingerprintOf(newKey)),
  })
  return out.slice(-MAX_LINEAGE)
}

/** Whether the store's lineage leads, link by link, from the remembered key to its current data key. */
export function linksFrom(doc: StoreDoc, dataKey: Buffer, known: TrustedKey): boolean {
  const lineage = doc.lineage ?? []
  const start = lineage.findLastIndex((e) => e.keyId === known.keyId)
  if (start < 0) return false
  let expected = known.fingerprint
  for (let i = start; i < lineage.length; i++) {
    const secret = unsealSecret(dataKey, lineage[i])
    if (secret === undefined || fingerprintOfSecret(secret) !== expected) return false
    const next = i + 1 < lineage.length ? lineage[i + 1] : undefined
    const nextId = next?.keyId ?? doc.keyId
    const nextSecret = next === undefined ? continuitySecret(dataKey) : unsealSecret(dataKey, next)
    if (nextSecret === undefined) return false
    expected = fingerprintOfSecret(nextSecret)
    const mac = Buffer.from(linkMac(secret, lineage[i].keyId, nextId, expected), 'hex')
    const given = Buffer.from(lineage[i].link, 'hex')
    if (given.length !== mac.length || !timingSafeEqual(given, mac)) return false
  }
  return expected === fingerprintOf(dataKey)
}

/**
 * Check that the store in `file` is under the data key this user last opened, or one linked from it;
 * remember the key when it is new to this user or linked. KEY_CHANGED otherwise.
 */
export async function checkContinuity(
  file: string,
  doc: StoreDoc,
  dataKey: Buffer,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  const known = trustedKey(file, env)
  if (known !== undefined && known.keyId === doc.keyId && known.fingerprint === fingerprintOf(dataKey)) return
  if (known === undefined || linksFrom(doc, dataKey, known)) {
    await rememberKey(file, dataKey, env)
    return
  }
  throw keyChanged(file, known, doc.keyId)
}

/** KEY_CHANGED: the store's data key is not the one remembered, and nothing links the two. */
export function keyChanged(file: string, known: TrustedKey, keyId: string): SecretsError {
  return new SecretsError(
    'KEY_CHANGED',
    `The data key of the store ${file} changed since you last opened it (key id ${known.keyId}, now ${keyId}), and the store holds no link made with the key you knew. Someone who can write the file but not read it may have replaced it with a store of their own; it may also be an older copy, or a rotation by a version of secrets that writes no link. No value was read.`,
    {
      suggestions: [
        `Review how the file changed (e.g. \`git log -p -- ${file}\`, and who wrote it).`,
        'If the change is expected, accept the new key with `secrets key trust` (see docs/store.md, "Data-key continuity").',
      ],
    },
  )
}
