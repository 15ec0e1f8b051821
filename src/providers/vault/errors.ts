import {SecretsError} from '../../errors.js'

/** What the provider was doing when a request failed; used to write an actionable message. */
export interface FailureContext {
  /** A verb for the message: "read", "write", "list", "log in to". */
  op: string
  /** The Vault API path (never a value). */
  path: string
  /** The reference the user wrote, when there is one. */
  ref?: string
  address: string
  /** The ACL capability the operation needs (for the policy hint). */
  capability?: string
}

/** The parts of a node-vault / axios error we look at. */
interface RawError {
  message?: string
  code?: string
  response?: {statusCode?: number; body?: {errors?: unknown[]}}
  cause?: {code?: string}
}

/** TLS failure codes from Node's TLS stack and what they mean, in words a user can act on. */
const TLS_PROBLEMS: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the server certificate is self-signed and not trusted',
  SELF_SIGNED_CERT_IN_CHAIN: 'the server certificate chains to a CA that is not trusted',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the server certificate is signed by a CA that is not trusted',
  UNABLE_TO_GET_ISSUER_CERT: 'the issuer of the server certificate is not trusted',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the issuer of the server certificate is not trusted',
  CERT_HAS_EXPIRED: 'the server certificate has expired',
  CERT_NOT_YET_VALID: 'the server certificate is not valid yet',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the server certificate does not name this host',
  CERT_SIGNATURE_FAILURE: 'the server certificate signature is invalid',
  CERT_REVOKED: 'the server certificate has been revoked',
}

const CLIENT_CERT_PROBLEMS =
  /certificate required|bad certificate|unknown ca|alert handshake failure|certificate unknown|closed the connection right after the TLS handshake/i

/** Replace every credential string in `text` by a marker. */
export function scrubText(text: string, scrub: string[]): string {
  return scrub.filter((x) => x.length >= 4).reduce((acc, x) => acc.split(x).join('<redacted>'), text)
}

/** The HTTP status of a Vault API error, if it is one. */
export function statusOf(error: unknown): number | undefined {
  return (error as RawError)?.response?.statusCode
}

/** Vault's own error strings ({"errors": [...]}), which never contain secret values. */
export function vaultErrors(error: unknown): string[] {
  const list = (error as RawError)?.response?.body?.errors
  return Array.isArray(list)
    ? list
        .map((e) =>
          String(e)
            .replaceAll(/\s+/g, ' ')
            .replace(/^1 error occurred: \* /, '')
            .trim(),
        )
        .filter(Boolean)
    : []
}

function codeOf(error: unknown): string | undefined {
  const e = error as RawError
  return e?.code ?? e?.cause?.code
}

/** OpenSSL's short reason ("tlsv13 alert certificate required") rather than its whole error line. */
function tlsReason(error: unknown, message: string): string {
  const e = error as {reason?: string; cause?: {reason?: string}}
  return e.reason ?? e.cause?.reason ?? /SSL routines:[^:]*:([^:]+):/.exec(message)?.[1] ?? message.split('\n')[0]
}

/** Whether another attempt may succeed: rate limits, server errors, sealed/standby and dropped connections. */
export function isRetryable(error: unknown): boolean {
  const status = statusOf(error)
  if (status !== undefined) return status === 429 || status >= 500
  const code = codeOf(error)
  return (
    code === 'ECONNRESET' ||
    code === 'ECONNREFUSED' ||
    code === 'EPIPE' ||
    code === 'EAI_AGAIN' ||
    code === 'ERR_SOCKET_CONNECTION_TIMEOUT'
  )
}

function isTimeout(error: unknown): boolean {
  const code = codeOf(error)
  return (
    code === 'ECONNABORTED' ||
    code === 'ETIMEDOUT' ||
    /timeout of \d+ms exceeded/.test((error as RawError)?.message ?? '')
  )
}

/** What every translated error carries: the reference, and of the raw error only its status and code. */
interface ErrorOptions {
  ref?: string
  cause: {status?: number; code?: string}
}

/** A 403: the token lacks a capability; name the policy that would grant it. */
function deniedError(said: string, ctx: FailureContext, opts: ErrorOptions): SecretsError {
  const cap = ctx.capability ?? 'read'
  return new SecretsError(
    'PERMISSION_DENIED',
    `Vault denied ${ctx.op} on ${ctx.path}${ctx.ref ? ` (${ctx.ref})` : ''}: ${said || 'permission denied'}.`,
    {
      ...opts,
      suggestions: [
        `Ask your Vault admin for a policy granting "${cap}" on this path, e.g. path "${ctx.path}" { capabilities = ["${cap}"] }.`,
        'Check that the token is still valid: `vault token lookup`, or log in again.',
      ],
    },
  )
}

/** 429 and 5xx, which the provider has already retried. */
function serverError(status: number, said: string, ctx: FailureContext, opts: ErrorOptions): SecretsError {
  if (status === 429)
    return new SecretsError(
      'UNAVAILABLE',
      `Vault at ${ctx.address} is rate limiting requests (429) to ${ctx.path}; gave up after retrying.`,
      {...opts, suggestions: ['Wait a moment and run the command again, or ask for a higher rate limit quota.']},
    )
  if (status === 503) {
    const sealed = /sealed/i.test(said)
    return new SecretsError(
      'UNAVAILABLE',
      `Vault at ${ctx.address} is ${sealed ? 'sealed' : 'unavailable (503: standby or maintenance)'}; gave up after retrying ${ctx.op} on ${ctx.path}.`,
      {
        ...opts,
        suggestions: [
          sealed
            ? 'Ask an operator to unseal Vault, then run the command again.'
            : 'Run the command again shortly; check `vault status`.',
        ],
      },
    )
  }
  return new SecretsError(
    'UNAVAILABLE',
    `Vault at ${ctx.address} failed with ${status} on ${ctx.op} ${ctx.path}${said ? ` (${said})` : ''}; gave up after retrying.`,
    {...opts, suggestions: ['Run the command again shortly; check `vault status` and the server logs.']},
  )
}

/** An error the Vault API answered with an HTTP status; `said` is Vault's own (scrubbed) error text. */
function httpError(status: number, said: string, ctx: FailureContext, opts: ErrorOptions): SecretsError {
  const where = ctx.ref ?? ctx.path
  if (status === 403) return deniedError(said, ctx, opts)
  if (status === 404) return new SecretsError('NOT_FOUND', `${where} does not exist in Vault (${ctx.path}).`, opts)
  if (status === 400 && /check-and-set/.test(said)) {
    return new SecretsError(
      'CONFLICT',
      `${where} was changed by someone else while secrets was writing it (Vault: ${said}); nothing was overwritten.`,
      {
        ...opts,
        suggestions: ['Read the current value again and repeat the change.'],
      },
    )
  }
  if (status === 429 || status >= 500) return serverError(status, said, ctx, opts)
  if (status === 400 || status === 405) {
    return new SecretsError(
      'USAGE',
      `Vault rejected ${ctx.op} on ${ctx.path} (${status}): ${said || 'bad request'}.`,
      opts,
    )
  }
  return new SecretsError(
    'UNAVAILABLE',
    `Vault at ${ctx.address} answered ${status} to ${ctx.op} ${ctx.path}${said ? ` (${said})` : ''}.`,
    {...opts, retryable: false},
  )
}

/** A TLS failure: an untrusted or wrong server certificate, or a client certificate the server refused. */
function tlsError(
  error: unknown,
  code: string,
  message: string,
  ctx: FailureContext,
  opts: ErrorOptions,
): SecretsError | undefined {
  if (code in TLS_PROBLEMS) {
    return new SecretsError(
      'UNAVAILABLE',
      `TLS error talking to Vault at ${ctx.address}: ${TLS_PROBLEMS[code]} (${code}).`,
      {
        ...opts,
        retryable: false,
        suggestions: [
          code === 'ERR_TLS_CERT_ALTNAME_INVALID'
            ? 'Connect with the name on the certificate, or set VAULT_TLS_SERVER_NAME to it.'
            : 'Point VAULT_CACERT (or VAULT_CAPATH) at the CA that signed the Vault server certificate.',
        ],
      },
    )
  }
  if (CLIENT_CERT_PROBLEMS.test(message) || code.startsWith('ERR_SSL_')) {
    return new SecretsError(
      'PERMISSION_DENIED',
      `TLS error talking to Vault at ${ctx.address}: the server did not accept a client certificate (${tlsReason(error, message)}).`,
      {
        ...opts,
        suggestions: [
          'This Vault requires mutual TLS: set VAULT_CLIENT_CERT and VAULT_CLIENT_KEY to a certificate signed by a CA the server trusts.',
        ],
      },
    )
  }
  return undefined
}

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
])

/** An error with no HTTP status: TLS, a timeout, an unreachable server, or something else on the way. */
function networkError(error: unknown, message: string, ctx: FailureContext, opts: ErrorOptions): SecretsError {
  const code = codeOf(error) ?? ''
  const tls = tlsError(error, code, message, ctx, opts)
  if (tls) return tls
  if (isTimeout(error)) {
    return new SecretsError('UNAVAILABLE', `Vault at ${ctx.address} did not answer ${ctx.op} ${ctx.path} in time.`, {
      ...opts,
      suggestions: [
        'Check the network path to Vault, or raise `timeout:` (seconds) for this provider or VAULT_CLIENT_TIMEOUT.',
      ],
    })
  }
  if (UNREACHABLE.has(code)) {
    return new SecretsError('UNAVAILABLE', `Cannot reach Vault at ${ctx.address} (${code}) to ${ctx.op} ${ctx.path}.`, {
      ...opts,
      suggestions: ['Check VAULT_ADDR (or `address:` in secrets.yaml) and that the server is running.'],
    })
  }
  return new SecretsError(
    'UNAVAILABLE',
    `Vault request failed (${ctx.op} ${ctx.path}): ${message}${code ? ` [${code}]` : ''}.`,
    {...opts, retryable: false},
  )
}

/**
 * Translate a node-vault / axios error into the one error tree. `scrub` lists strings (tokens, role IDs)
 * that must never appear in a message, whatever the server or the network stack put in theirs.
 */
export function toSecretsError(error: unknown, ctx: FailureContext, scrub: string[] = []): SecretsError {
  if (error instanceof SecretsError) return error
  const status = statusOf(error)
  // The raw error holds the request config, token header included: keep only its status and code.
  const opts = {ref: ctx.ref, cause: {status, code: codeOf(error)}}
  if (status !== undefined) return httpError(status, scrubText(vaultErrors(error).join('; '), scrub), ctx, opts)
  return networkError(error, scrubText((error as RawError)?.message ?? String(error), scrub), ctx, opts)
}
