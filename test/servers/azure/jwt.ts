import {createSign, createVerify, type KeyObject} from 'node:crypto'

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url')

/** Sign a JWT with RS256 (or PS256). */
export function signJwt(claims: Record<string, unknown>, key: KeyObject, header: Record<string, unknown> = {}): string {
  const head = b64url(JSON.stringify({alg: 'RS256', typ: 'JWT', ...header}))
  const body = b64url(JSON.stringify(claims))
  const sig = createSign('RSA-SHA256').update(`${head}.${body}`).sign(key)
  return `${head}.${body}.${b64url(sig)}`
}

/** Decode a JWT without checking it. */
export function decodeJwt(token: string): {header: Record<string, any>; claims: Record<string, any>} | undefined {
  const parts = token.split('.')
  if (parts.length !== 3) return undefined
  try {
    return {
      header: JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')),
      claims: JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')),
    }
  } catch {
    return undefined
  }
}

/** Check a JWT's RS256/PS256 signature with `key`; returns the claims, or undefined. */
export function verifyJwt(token: string, key: KeyObject): Record<string, any> | undefined {
  const decoded = decodeJwt(token)
  if (decoded === undefined) return undefined
  const [head, body, sig] = token.split('.')
  const alg = decoded.header.alg
  const signature = Buffer.from(sig, 'base64url')
  let ok = false
  if (alg === 'RS256') ok = createVerify('RSA-SHA256').update(`${head}.${body}`).verify(key, signature)
  else if (alg === 'PS256')
    ok = createVerify('RSA-SHA256').update(`${head}.${body}`).verify({key, padding: 6, saltLength: 32}, signature)
  return ok ? decoded.claims : undefined
}
