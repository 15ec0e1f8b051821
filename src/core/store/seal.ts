import {createCipheriv, createDecipheriv, randomBytes} from 'node:crypto'

import {corruptStore, encryptionKey, STORE_FORMAT, type VersionEntry} from './format.js'

/**
 * One value sealed under the data key (AES-256-GCM). The store format, the secret's name and the
 * version number are its associated data, so a sealed value cannot be moved to another name or version.
 */
function aad(name: string, version: number): Buffer {
  return Buffer.from(`${STORE_FORMAT}\0${name}\0${version}`, 'utf8')
}

/** Seal `value` as version `version` of `name`. */
export function seal(dataKey: Buffer, name: string, version: number, value: Buffer): {nonce: string; data: string} {
  const nonce = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', encryptionKey(dataKey), nonce)
  cipher.setAAD(aad(name, version))
  const ct = Buffer.concat([cipher.update(value), cipher.final(), cipher.getAuthTag()])
  return {nonce: nonce.toString('base64'), data: ct.toString('base64')}
}

/** The value of version `v` of `name`; INTEGRITY when it is truncated or does not authenticate. */
export function unseal(file: string, dataKey: Buffer, name: string, v: VersionEntry): Buffer {
  const blob = Buffer.from(v.data, 'base64')
  const nonce = Buffer.from(v.nonce, 'base64')
  if (nonce.length !== 12 || blob.length < 16) throw corruptStore(file, `version ${v.version} of ${name} is truncated`)
  try {
    const decipher = createDecipheriv('aes-256-gcm', encryptionKey(dataKey), nonce)
    decipher.setAAD(aad(name, v.version))
    decipher.setAuthTag(blob.subarray(blob.length - 16))
    return Buffer.concat([decipher.update(blob.subarray(0, blob.length - 16)), decipher.final()])
  } catch {
    throw corruptStore(file, `version ${v.version} of ${name} does not authenticate`)
  }
}
