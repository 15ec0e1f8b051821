// How Azure SDK errors look, and the network and TLS failures under them (shared by errors.ts' mappings).
import {SecretsError} from '../../errors.js'

const TLS_CODES: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its certificate is signed by a CA this machine does not trust',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'its certificate is signed by a CA this machine does not trust',
  SELF_SIGNED_CERT_IN_CHAIN: 'its certificate chain ends in a self-signed CA this machine does not trust',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'it presents a self-signed certificate',
  CERT_HAS_EXPIRED: 'its certificate has expired',
  CERT_NOT_YET_VALID: 'its certificate is not valid yet',
  ERR_TLS_CERT_ALTNAME_INVALID: 'its certificate does not name this host',
}
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ECONNABORTED',
  'REQUEST_SEND_ERROR',
  'UND_ERR_SOCKET',
])

/** The body of a Key Vault or Log Analytics error answer. */
export interface ServiceErrorBody {
  code?: string
  message?: string
  innererror?: {code?: string; message?: string}
  innerError?: {code?: string; message?: string}
}

/** The fields of an SDK error (RestError, AuthenticationError, AggregateAuthenticationError ...) the mapping reads. */
export interface AzureErrorShape {
  name?: string
  message?: string
  code?: string
  statusCode?: number
  cause?: AzureErrorShape
  errors?: AzureErrorShape[]
  errorResponse?: {error?: string; errorDescription?: string}
  details?: {error?: ServiceErrorBody}
  response?: {parsedBody?: {error?: ServiceErrorBody}}
}

export function errorCode(err: AzureErrorShape | undefined): string | undefined {
  return err?.code ?? err?.cause?.code
}

/**
 * UNAVAILABLE for a TLS failure or an unreachable host (by error code, or named in the message), else
 * undefined. `setting` is what to check when the host cannot be reached.
 */
export function networkError(
  err: AzureErrorShape | undefined,
  host: string,
  ref: string | undefined,
  role: string,
  setting = `the ${role === 'vault' ? 'vaultUrl' : 'authorityHost'} setting`,
): SecretsError | undefined {
  const code = errorCode(err)
  const text = String(err?.message ?? '')
  const tls = code !== undefined ? TLS_CODES[code] : undefined
  const tlsByText = Object.entries(TLS_CODES).find(([c]) => text.includes(c))
  if (tls !== undefined || tlsByText !== undefined) {
    return new SecretsError(
      'UNAVAILABLE',
      `TLS to ${role} ${host} failed: ${tls ?? tlsByText![1]} (${code ?? tlsByText![0]}).`,
      {
        ref,
        cause: err,
        retryable: false,
        suggestions: [
          'If the server uses a private CA, give its certificate with NODE_EXTRA_CA_CERTS=/path/to/ca.pem (verification stays on).',
        ],
      },
    )
  }
  const byText = /ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|socket hang up/.exec(text)
  if ((code !== undefined && NETWORK_CODES.has(code)) || byText !== null) {
    return new SecretsError(
      'UNAVAILABLE',
      `Cannot reach ${role} ${host} (${code ?? byText?.[0] ?? 'network error'}).`,
      {
        ref,
        cause: err,
        suggestions: [`Check ${setting}, the network and any proxy, then try again.`],
      },
    )
  }
  return undefined
}
