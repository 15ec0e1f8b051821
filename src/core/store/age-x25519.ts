import {
  createDecipheriv,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  hkdfSync,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto'

/**
 * The read side of age (https://age-encryption.org/v1) for X25519 identities, on Node's native crypto:
 * derive an identity's recipient, and open an age file encrypted to it. Every command that reads the
 * local store needs only this, and the pure-JS age library (with its curve, hash and post-quantum
 * dependencies) costs about 35 ms to load and run at every start, so it now loads only to write, to
 * generate keys or for passphrases. Checked against that library in test/core/age-x25519.test.ts.
 */

const BECH32_CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l'
const GENERATORS = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3]

function polymod(values: number[]): number {
  let chk = 1
  for (const v of values) {
    const top = chk >>> 25
    chk = ((chk & 0x1ffffff) << 5) ^ v
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GENERATORS[i]
  }
  return chk
}

function hrpExpand(hrp: string): number[] {
  const out: number[] = []
  for (const c of hrp) out.push(c.charCodeAt(0) >>> 5)
  out.push(0)
  for (const c of hrp) out.push(c.charCodeAt(0) & 31)
  return out
}

function convertBits(data: Iterable<number>, from: number, to: number, pad: boolean): number[] {
  let acc = 0
  let bits = 0
  const out: number[] = []
  const max = (1 << to) - 1
  for (const v of data) {
    acc = (acc << from) | v
    bits += from
    while (bits >= to) {
      bits -= to
      out.push((acc >>> bits) & max)
    }
  }
  if (pad) {
    if (bits > 0) out.push((acc << (to - bits)) & max)
  } else if (bits >= from || ((acc << (to - bits)) & max) !== 0) {
    throw new Error('bech32: bad padding')
  }
  return out
}

/** Decode a bech32 string (either case, not mixed) into its lowercase HRP and bytes. */
export function bech32Decode(text: string): {hrp: string; bytes: Buffer} {
  if (text !== text.toLowerCase() && text !== text.toUpperCase()) throw new Error('bech32: mixed case')
  const s = text.toLowerCase()
  const sep = s.lastIndexOf('1')
  if (sep < 1 || sep + 7 > s.length) throw new Error('bech32: no separator')
  const hrp = s.slice(0, sep)
  const data: number[] = []
  for (const c of s.slice(sep + 1)) {
    const v = BECH32_CHARSET.indexOf(c)
    if (v === -1) throw new Error('bech32: bad character')
    data.push(v)
  }
  if (polymod([...hrpExpand(hrp), ...data]) !== 1) throw new Error('bech32: bad checksum')
  return {hrp, bytes: Buffer.from(convertBits(data.slice(0, -6), 5, 8, false))}
}

/** Encode bytes as bech32 with a lowercase HRP. */
export function bech32Encode(hrp: string, bytes: Uint8Array): string {
  const data = convertBits(bytes, 8, 5, true)
  const mod = polymod([...hrpExpand(hrp), ...data, 0, 0, 0, 0, 0, 0]) ^ 1
  const checksum = Array.from({length: 6}, (_, i) => (mod >>> (5 * (5 - i))) & 31)
  return `${hrp}1${[...data, ...checksum].map((v) => BECH32_CHARSET[v]).join('')}`
}

// Raw X25519 keys are imported as JWK, not as DER: OpenSSL 3 then sets the raw key directly instead of
// running its DER decoder, which costs about 1 ms of a start (two decodes per run, cold).

/** An X25519 identity parsed from `AGE-SECRET-KEY-1...`. */
export interface X25519Identity {
  privateKey: KeyObject
  /** The 32-byte public key. */
  publicKey: Buffer
  /** The `age1...` recipient string. */
  recipient: string
}

export function parseX25519Identity(text: string): X25519Identity {
  const {hrp, bytes} = bech32Decode(text.trim())
  if (hrp !== 'age-secret-key-' || bytes.length !== 32) throw new Error('not an age X25519 identity')
  // A private JWK needs an `x` member; Node ignores it and derives the public key from `d`.
  const privateKey = createPrivateKey({
    key: {kty: 'OKP', crv: 'X25519', d: bytes.toString('base64url'), x: ''},
    format: 'jwk',
  })
  const publicKey = Buffer.from(privateKey.export({format: 'jwk'}).x!, 'base64url')
  return {privateKey, publicKey, recipient: bech32Encode('age', publicKey)}
}

function hkdf(ikm: Uint8Array, salt: Uint8Array, info: string, length = 32): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, salt, info, length))
}

function openChaCha(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array): Buffer | undefined {
  if (sealed.length < 16) return undefined
  const d = createDecipheriv('chacha20-poly1305', key, nonce, {authTagLength: 16})
  d.setAuthTag(sealed.subarray(sealed.length - 16))
  try {
    return Buffer.concat([d.update(sealed.subarray(0, sealed.length - 16)), d.final()])
  } catch {
    return undefined
  }
}

/** age's unpadded standard base64, strictly (no padding, canonical). */
function b64(text: string): Buffer {
  if (!/^[A-Za-z0-9+/]*$/.test(text)) throw new Error('age: bad base64')
  const out = Buffer.from(text, 'base64')
  if (out.toString('base64').replace(/=+$/, '') !== text) throw new Error('age: non-canonical base64')
  return out
}

interface Stanza {
  type: string
  args: string[]
  body: Buffer
}

/** Parse an age header; returns the stanzas, the MAC, the bytes the MAC covers, and the payload. */
function parseHeader(file: Buffer): {stanzas: Stanza[]; mac: Buffer; macInput: Buffer; payload: Buffer} {
  const lines: string[] = []
  let at = 0
  const nextLine = (): string => {
    const nl = file.indexOf(0x0a, at)
    if (nl === -1) throw new Error('age: truncated header')
    const line = file.subarray(at, nl).toString('latin1')
    at = nl + 1
    lines.push(line)
    return line
  }
  if (nextLine() !== 'age-encryption.org/v1') throw new Error('age: not an age v1 file')
  const stanzas: Stanza[] = []
  let line = nextLine()
  while (line.startsWith('-> ')) {
    const [type, ...args] = line.slice(3).split(' ')
    const body: Buffer[] = []
    for (;;) {
      const bodyLine = nextLine()
      if (bodyLine.length > 64) throw new Error('age: stanza line too long')
      body.push(b64(bodyLine))
      if (bodyLine.length < 64) break
    }
    stanzas.push({type, args, body: Buffer.concat(body)})
    line = nextLine()
  }
  if (!line.startsWith('--- ')) throw new Error('age: malformed header')
  const macStart = at - line.length - 1 + 3
  return {stanzas, mac: b64(line.slice(4)), macInput: file.subarray(0, macStart), payload: file.subarray(at)}
}

const X25519_LABEL = 'age-encryption.org/v1/X25519'
const CHUNK = 64 * 1024

/**
 * Open an age file with an X25519 identity. Returns undefined when the file has no stanza for this
 * identity; throws when the file is malformed or fails authentication (header MAC or any payload chunk).
 */
export function decryptX25519(file: Buffer, identity: X25519Identity): Buffer | undefined {
  const {stanzas, mac, macInput, payload} = parseHeader(file)
  let fileKey: Buffer | undefined
  for (const s of stanzas) {
    if (s.type !== 'X25519') continue
    if (s.args.length !== 1 || s.body.length !== 32) throw new Error('age: malformed X25519 stanza')
    const share = b64(s.args[0])
    if (share.length !== 32) throw new Error('age: malformed X25519 share')
    const shared = diffieHellman({
      privateKey: identity.privateKey,
      publicKey: createPublicKey({key: {kty: 'OKP', crv: 'X25519', x: share.toString('base64url')}, format: 'jwk'}),
    })
    if (shared.every((b) => b === 0)) throw new Error('age: low-order X25519 share')
    const wrapKey = hkdf(shared, Buffer.concat([share, identity.publicKey]), X25519_LABEL)
    fileKey = openChaCha(wrapKey, Buffer.alloc(12), s.body)
    if (fileKey !== undefined) break
  }
  if (fileKey === undefined) return undefined
  const expected = createHmac('sha256', hkdf(fileKey, Buffer.alloc(0), 'header'))
    .update(macInput)
    .digest()
  if (mac.length !== 32 || !timingSafeEqual(mac, expected)) throw new Error('age: header MAC mismatch')
  if (payload.length < 16 + 16) throw new Error('age: truncated payload')
  const streamKey = hkdf(fileKey, payload.subarray(0, 16), 'payload')
  const body = payload.subarray(16)
  const out: Buffer[] = []
  for (let offset = 0, counter = 0; ; counter++) {
    const end = Math.min(body.length, offset + CHUNK + 16)
    const last = end === body.length
    const nonce = Buffer.alloc(12)
    nonce.writeUIntBE(counter, 5, 6)
    if (last) nonce[11] = 1
    const chunk = openChaCha(streamKey, nonce, body.subarray(offset, end))
    if (chunk === undefined || (last && chunk.length === 0 && counter > 0))
      throw new Error('age: payload authentication failed')
    out.push(chunk)
    if (last) break
    offset = end
  }
  return Buffer.concat(out)
}
