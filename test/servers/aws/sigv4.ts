import {createHash, createHmac, timingSafeEqual} from 'node:crypto'
import type {IncomingHttpHeaders} from 'node:http'

/** A credential the test server accepts, and the identity it stands for (used by the deny list). */
export interface TestCredential {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
  /** The caller's ARN, as IAM would name it in an AccessDeniedException. */
  arn: string
}

/** Why a request was refused, in the shape the real service answers with. */
export interface AuthFailure {
  status: number
  type: string
  message: string
}

export const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex')
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest()

/** `20261123T130000Z` for a Date. */
export function amzDate(d: Date): string {
  return d
    .toISOString()
    .replaceAll(/[-:]/g, '')
    .replace(/\.\d{3}/, '')
}

function parseAmzDate(s: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s)
  return m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])) : undefined
}

function encodeRfc3986(s: string): string {
  return encodeURIComponent(s).replaceAll(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

function canonicalQuery(search: string): string {
  if (search === '') return ''
  return [...new URLSearchParams(search)]
    .map(([k, v]) => [encodeRfc3986(k), encodeRfc3986(v)])
    .sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&')
}

const coral = (type: string, message: string, status = 400): AuthFailure => ({
  status,
  type: `com.amazon.coral.service#${type}`,
  message,
})

/**
 * Verify an AWS Signature Version 4 `Authorization` header by recomputing the signature from the
 * request, as the service does. Returns the credential on success, or the error the real service sends.
 */
export function verifySigV4(o: {
  method: string
  url: string
  headers: IncomingHttpHeaders
  body: Buffer
  service: string
  region: string
  credentials: TestCredential[]
  now: Date
}): TestCredential | AuthFailure {
  const auth = o.headers.authorization
  if (typeof auth !== 'string' || auth === '')
    return coral('MissingAuthenticationTokenException', 'Missing Authentication Token')
  const m = /^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/.exec(auth)
  if (!m)
    return coral(
      'IncompleteSignatureException',
      `Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters. Authorization=${auth.split(' ')[0]}`,
    )
  const [, credential, signedHeaderList, signature] = m
  const [akid, scopeDate, scopeRegion, scopeService, terminator] = credential.split('/')
  const cred = o.credentials.find((c) => c.accessKeyId === akid)
  if (cred === undefined)
    return coral('UnrecognizedClientException', 'The security token included in the request is invalid.')
  if (cred.sessionToken !== undefined && o.headers['x-amz-security-token'] !== cred.sessionToken) {
    return coral('UnrecognizedClientException', 'The security token included in the request is invalid.')
  }
  const dateHeader = o.headers['x-amz-date']
  const when = typeof dateHeader === 'string' ? parseAmzDate(dateHeader) : undefined
  if (when === undefined)
    return coral(
      'IncompleteSignatureException',
      "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
    )
  if (terminator !== 'aws4_request' || scopeService !== o.service) {
    return coral('InvalidSignatureException', `Credential should be scoped to correct service: '${o.service}'. `)
  }
  if (scopeRegion !== o.region)
    return coral('InvalidSignatureException', `Credential should be scoped to a valid region. `)
  if (scopeDate !== dateHeader!.slice(0, 8))
    return coral(
      'InvalidSignatureException',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${dateHeader!.slice(0, 8)}', from '${dateHeader}'.`,
    )
  const skew = when.getTime() - o.now.getTime()
  if (skew < -5 * 60_000) {
    const limit = new Date(o.now.getTime() - 5 * 60_000)
    return coral(
      'InvalidSignatureException',
      `Signature expired: ${dateHeader} is now earlier than ${amzDate(limit)} (${amzDate(o.now)} - 5 min.)`,
    )
  }
  if (skew > 5 * 60_000) {
    const limit = new Date(o.now.getTime() + 5 * 60_000)
    return coral(
      'InvalidSignatureException',
      `Signature not yet current: ${dateHeader} is still later than ${amzDate(limit)} (${amzDate(o.now)} + 5 min.)`,
    )
  }
  const signed = signedHeaderList.split(';')
  if (!signed.includes('host'))
    return coral(
      'InvalidSignatureException',
      "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
    )
  const canonicalHeaders = signed
    .map((h) => {
      const v = o.headers[h]
      const value = Array.isArray(v) ? v.join(',') : (v ?? '')
      return `${h}:${value.trim().replaceAll(/\s+/g, ' ')}\n`
    })
    .join('')
  const url = new URL(o.url, 'http://localhost')
  const canonicalRequest = [
    o.method,
    url.pathname
      .split('/')
      .map((s) => encodeRfc3986(decodeURIComponent(s)))
      .join('/'),
    canonicalQuery(url.search),
    canonicalHeaders,
    signedHeaderList,
    sha256(o.body),
  ].join('\n')
  const scope = `${scopeDate}/${scopeRegion}/${scopeService}/aws4_request`
  const stringToSign = ['AWS4-HMAC-SHA256', dateHeader, scope, sha256(canonicalRequest)].join('\n')
  const key = hmac(
    hmac(hmac(hmac(`AWS4${cred.secretAccessKey}`, scopeDate), scopeRegion), scopeService),
    'aws4_request',
  )
  const expected = createHmac('sha256', key).update(stringToSign, 'utf8').digest()
  if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) {
    return coral(
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    )
  }
  return cred
}
