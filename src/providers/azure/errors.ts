import {SecretsError} from '../../errors.js'
import {networkError, type AzureErrorShape} from './network-errors.js'

/** What an operation was about, for messages (names only, never values). */
export interface AzureErrorContext {
  vault: string
  /** The secret's name, or the key's for `kind: 'key'`. */
  secret?: string
  /** What `secret` names: a secret (default) or a key (the azurekv:// store recipient). */
  kind?: 'secret' | 'key'
  ref?: string
  op: 'read' | 'list' | 'write' | 'delete' | 'recover' | 'purge' | 'check' | 'wrap' | 'unwrap'
  /** How the provider signs in (e.g. "client secret for client 1234 in tenant abcd"). */
  login?: string
}

const ROLE_FOR: Record<AzureErrorContext['op'], string> = {
  read: '"Key Vault Secrets User" role (or an access policy with secret permission get)',
  list: '"Key Vault Secrets User" role (or an access policy with secret permission list)',
  check: '"Key Vault Secrets User" role (or an access policy with secret permission list)',
  write: '"Key Vault Secrets Officer" role (or an access policy with secret permission set)',
  delete: '"Key Vault Secrets Officer" role (or an access policy with secret permission delete)',
  recover: '"Key Vault Secrets Officer" role (or an access policy with secret permission recover)',
  purge: '"Key Vault Secrets Officer" role with purge allowed (or an access policy with secret permission purge)',
  wrap: '"Key Vault Crypto Service Encryption User" role (or an access policy with key permissions get and wrapKey)',
  unwrap:
    '"Key Vault Crypto Service Encryption User" role (or an access policy with key permissions get and unwrapKey)',
}

function what(ctx: AzureErrorContext): string {
  return ctx.secret === undefined
    ? `vault ${ctx.vault}`
    : `${ctx.kind ?? 'secret'} "${ctx.secret}" in vault ${ctx.vault}`
}

const baseRef = (ctx: AzureErrorContext) => ctx.ref?.split(/[?#]/)[0] ?? 'azure://<name>'

/** Why one credential is unavailable, without the credential's name and the SDK's troubleshooting links. */
function unavailableReason(message: string): string {
  let text = message
    .replace(/^\w+Credential: /, '')
    .replace(/\s*To troubleshoot, visit \S+\.?/g, '')
    .split(/\r?\n/)[0]
    .trim()
  // MSAL wraps an identity endpoint's answer in "Error(s): ... - Description: <it> - Correlation ID: ...".
  text = / - Description: (.*?)(?: - Correlation ID:.*| - Trace ID:.*)?$/.exec(text)?.[1] ?? text
  return text.length > 300 ? `${text.slice(0, 300)}...` : text
}

/** The first line of an Entra ID error description ("AADSTS7000215: Invalid client secret provided. ..."). */
function aadLine(text: string): string {
  // Keep the code and its first sentence; the rest is timestamps, trace ids and links.
  const m = /(AADSTS\d+: [^.\r\n]*\.)/.exec(text)
  return m ? m[1] : text.split(/\r?\n/)[0].trim().slice(0, 300)
}

/** IDENTITY_MISSING or PERMISSION_DENIED for a failed sign-in (@azure/identity), else undefined. */
function signInError(
  e: AzureErrorShape,
  err: unknown,
  ctx: AzureErrorContext,
  login: string,
): SecretsError | undefined {
  const name: string = e.name ?? ''
  if (
    name === 'CredentialUnavailableError' ||
    (name === 'AggregateAuthenticationError' && (e.errors ?? []).every((x) => x?.name === 'CredentialUnavailableError'))
  ) {
    // One explicit method (managed identity, Azure CLI ...) says why it is unavailable; keep its first line.
    const reason = name === 'CredentialUnavailableError' ? unavailableReason(String(e.message ?? '')) : ''
    const method = ctx.login?.split(' ')[0]
    return new SecretsError(
      'IDENTITY_MISSING',
      `No Azure credential is available to sign in to ${ctx.vault}${login}${reason ? `: ${reason}` : '.'}`,
      {
        ref: ctx.ref,
        cause: err,
        suggestions:
          method === 'managed-identity'
            ? [
                'Run where a managed identity is available (VM, App Service, Functions, AKS ...); for a user-assigned one, set its client id in AZURE_CLIENT_ID or `clientId`, and check it is assigned to this resource.',
              ]
            : method === 'azure-cli'
              ? ['Sign in with `az login` as this user (and check `az account show`); the Azure CLI must be on PATH.']
              : [
                  'Set AZURE_TENANT_ID and AZURE_CLIENT_ID with AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH or AZURE_FEDERATED_TOKEN_FILE, or sign in with `az login`.',
                  'Or choose a method explicitly with `auth: {method: ...}` in the provider settings (see docs/providers/azure.md).',
                ],
      },
    )
  }
  if (name === 'AggregateAuthenticationError') {
    const first =
      (e.errors ?? []).find((x) => x?.name === 'AuthenticationError') ??
      (e.errors ?? []).find((x) => x?.name !== 'CredentialUnavailableError')
    return azureError(first, ctx)
  }
  if (name === 'AuthenticationError' || name === 'AuthenticationRequiredError') {
    const description: string = e.errorResponse?.errorDescription ?? e.message ?? ''
    const net = networkError(e.cause ?? e, 'authority', ctx.ref, 'the sign-in endpoint')
    if (net !== undefined && !/AADSTS/.test(description)) return net
    if (!/AADSTS/.test(description)) {
      const fromText = networkError({message: description}, 'authority', ctx.ref, 'the sign-in endpoint')
      if (fromText !== undefined) return fromText
    }
    const error: string =
      /\b(invalid_\w+|unauthorized_client|unsupported_grant_type)\b/.exec(
        `${e.errorResponse?.error ?? ''} ${description}`,
      )?.[1] ?? 'authentication failed'
    return new SecretsError(
      'PERMISSION_DENIED',
      `Azure sign-in for ${ctx.vault} failed${login}: ${error}: ${aadLine(description)}`,
      {
        ref: ctx.ref,
        cause: err,
        suggestions: [
          /7000215|invalid_client/.test(description + error)
            ? "Check AZURE_CLIENT_SECRET: it must be the secret's value (not its id) for this client id, and not expired."
            : 'Check AZURE_TENANT_ID, AZURE_CLIENT_ID and the credential (secret, certificate or federated token) that goes with them, and authorityHost.',
        ],
      },
    )
  }

  return undefined
}

/** An error without an HTTP status: a domain the challenge does not match, the network, or a bug. */
function withoutStatus(e: AzureErrorShape, err: unknown, ctx: AzureErrorContext): SecretsError {
  if (/challenge resource .* does not match the requested domain/.test(String(e?.message))) {
    return new SecretsError(
      'CONFIG_INVALID',
      `${ctx.vault} is not in the domain its sign-in challenge names, so secrets does not send it a token.`,
      {
        ref: ctx.ref,
        cause: err,
        suggestions: [
          'For a private endpoint or another host you trust, set `disableChallengeResourceVerification: true` on the Azure provider, and name the host in its `vaultUrl` or `vaults:` (azurekv:// recipients skip the check only for those).',
        ],
      },
    )
  }
  const net = networkError(e, ctx.vault, ctx.ref, 'vault')
  if (net !== undefined) return net
  return new SecretsError(
    'INTERNAL',
    `Unexpected error from Azure Key Vault ${ctx.vault}: ${e?.message ?? String(err)}`,
    {ref: ctx.ref, cause: err},
  )
}

/** What Key Vault answered: the HTTP status, the service's error code, inner code and message. */
interface Answer {
  status: number
  serviceCode: string
  innerCode: string
  serviceMessage: string
}

function answerOf(e: AzureErrorShape, status: number): Answer {
  const body = e?.details?.error ?? e?.response?.parsedBody?.error
  const serviceCode: string = body?.code ?? e.code ?? ''
  // The secrets client keeps the wire name (innererror); the generated keys client camel-cases it.
  const innerCode: string = body?.innererror?.code ?? body?.innerError?.code ?? ''
  const serviceMessage = String(body?.message ?? e.message ?? '')
  return {status, serviceCode, innerCode, serviceMessage}
}

/** NOT_FOUND and PERMISSION_DENIED (404, 403), else undefined. */
function missingOrDenied(a: Answer, err: unknown, ctx: AzureErrorContext, login: string): SecretsError | undefined {
  const {status, serviceCode, innerCode, serviceMessage} = a
  if (status === 404 && (ctx.op === 'recover' || ctx.op === 'purge')) {
    return new SecretsError(
      'NOT_FOUND',
      `There is no deleted secret "${ctx.secret}" in vault ${ctx.vault} to ${ctx.op} (${serviceCode || 'NotFound'}).`,
      {
        ref: ctx.ref,
        cause: err,
        suggestions: [
          ctx.op === 'purge'
            ? 'Only a soft-deleted secret can be purged: delete it first (`secrets delete`), or check the name; `az keyvault secret list-deleted` lists deleted secrets.'
            : "Only a soft-deleted secret can be recovered, within the vault's retention period and unless it was purged; `az keyvault secret list-deleted` lists them.",
        ],
      },
    )
  }
  if (status === 404) {
    return new SecretsError(
      'NOT_FOUND',
      `The ${what(ctx)} does not exist${ctx.ref !== undefined && ctx.ref.includes('version=') ? ' in that version' : ''} (${serviceCode || 'NotFound'}).`,
      {
        ref: ctx.ref,
        cause: err,
        suggestions: [
          ctx.kind === 'key'
            ? 'Check the key name and version (`az keyvault key list --vault-name <vault>`) and that the vault is the one the key lives in.'
            : 'Check the name (names are letters, digits and "-"; DB_PASSWORD maps to db-password) and `secrets list` for what exists; a recently deleted secret can be recovered with `secrets restore`.',
        ],
      },
    )
  }
  if (
    status === 403 &&
    (innerCode === 'SecretDisabled' || innerCode === 'KeyDisabled' || /disabled (secret|key)/i.test(serviceMessage))
  ) {
    return disabledError(ctx)
  }
  if (status === 403) {
    return new SecretsError(
      'PERMISSION_DENIED',
      `Access denied to the ${what(ctx)}${login}: the identity lacks permission to ${ctx.op} (${innerCode || serviceCode || 'Forbidden'}).`,
      {
        ref: ctx.ref,
        cause: err,
        suggestions: [`Grant this identity the ${ROLE_FOR[ctx.op]} on the vault or the ${ctx.kind ?? 'secret'}.`],
      },
    )
  }
  return undefined
}

/** 401, 409, throttling and 5xx, and anything else Key Vault refused. */
function otherAnswer(a: Answer, err: unknown, ctx: AzureErrorContext, login: string): SecretsError {
  const {status, serviceCode, innerCode, serviceMessage} = a
  if (status === 401) {
    return new SecretsError(
      'PERMISSION_DENIED',
      `Vault ${ctx.vault} rejected the sign-in token${login} (${serviceCode || 'Unauthorized'}: ${serviceMessage.split(/\r?\n/)[0].slice(0, 200)}).`,
      {
        ref: ctx.ref,
        cause: err,
        suggestions: [
          "Check that AZURE_TENANT_ID is the vault's tenant and that authorityHost matches the vault's cloud.",
        ],
      },
    )
  }
  if (status === 409) {
    return new SecretsError(
      'CONFLICT',
      `The ${what(ctx)} is deleted but recoverable, so its name cannot be reused until it is recovered or purged (${innerCode || serviceCode}).`,
      {
        ref: ctx.ref,
        cause: err,
        suggestions: [
          `Recover it (\`secrets restore ${baseRef(ctx)}\`) or purge it for good (\`secrets purge ${baseRef(ctx)}\`), then try again.`,
        ],
      },
    )
  }
  if (status === 429 || status >= 500) {
    return new SecretsError(
      'UNAVAILABLE',
      `Vault ${ctx.vault} ${status === 429 ? 'is throttling requests' : `answered ${status}`} (${serviceCode || status}) and still did after the retries.`,
      {
        ref: ctx.ref,
        cause: err,
        suggestions: [
          status === 429
            ? "Wait a moment and try again, or lower the provider's `concurrency` setting."
            : 'Try again later; check the Azure status page if it persists.',
        ],
      },
    )
  }
  return new SecretsError(
    'USAGE',
    `Vault ${ctx.vault} refused the request for the ${what(ctx)}: ${status} ${serviceCode}: ${serviceMessage.split(/\r?\n/)[0].slice(0, 200)}`,
    {ref: ctx.ref, cause: err},
  )
}

/** Map an error from @azure/keyvault-secrets or @azure/identity to the error tree. */
export function azureError(err: unknown, ctx: AzureErrorContext): SecretsError {
  if (err instanceof SecretsError) return err
  const e = (err ?? {}) as AzureErrorShape
  const login = ctx.login === undefined ? '' : ` (${ctx.login})`
  const signIn = signInError(e, err, ctx, login)
  if (signIn !== undefined) return signIn
  const status: number | undefined = e?.statusCode
  if (status === undefined) return withoutStatus(e, err, ctx)
  const answer = answerOf(e, status)
  return missingOrDenied(answer, err, ctx, login) ?? otherAnswer(answer, err, ctx, login)
}

export function disabledError(ctx: AzureErrorContext): SecretsError {
  if (ctx.kind === 'key') {
    return new SecretsError(
      'PERMISSION_DENIED',
      `The ${what(ctx)} is disabled, so it cannot ${ctx.op} the store's data key.`,
      {
        ref: ctx.ref,
        suggestions: [
          'Enable it (`az keyvault key set-attributes --enabled true`), or open the store with another recipient.',
        ],
      },
    )
  }
  return new SecretsError('PERMISSION_DENIED', `The ${what(ctx)} is disabled, so it cannot be read.`, {
    ref: ctx.ref,
    suggestions: [
      'Enable it (`az keyvault secret set-attributes --enabled true`) or read another version with ?version=<id>.',
    ],
  })
}

/** A secret outside its validity window (Key Vault returns it; secrets refuses it). */
export function validityError(ctx: AzureErrorContext, kind: 'expired' | 'not-yet-valid', at: Date): SecretsError {
  const message =
    kind === 'expired'
      ? `The ${what(ctx)} expired on ${at.toISOString()}, so it is not used.`
      : `The ${what(ctx)} is not valid until ${at.toISOString()} (not-before), so it is not used yet.`
  return new SecretsError('PERMISSION_DENIED', message, {
    ref: ctx.ref,
    suggestions: [
      kind === 'expired'
        ? 'Rotate it (set a new version), or move its expiry with `az keyvault secret set-attributes --expires`.'
        : 'Wait until then, or read an earlier version with ?version=<id>.',
    ],
  })
}

/** What a Log Analytics query was about (for `audit trail`): names only. */
export interface LogsErrorContext {
  workspace: string
  endpoint: string
  table: string
  alias: string
  login?: string
}

/** Map an error from @azure/monitor-query (or the sign-in under it) to the error tree. */
export function logsError(err: unknown, ctx: LogsErrorContext): SecretsError {
  if (err instanceof SecretsError) return err
  const e = (err ?? {}) as AzureErrorShape
  const name: string = e?.name ?? ''
  const login = ctx.login === undefined ? '' : ` (${ctx.login})`
  const where = `Log Analytics workspace ${ctx.workspace}`
  if (/Credential|Authentication/.test(name)) return azureError(err, {vault: where, op: 'read', login: ctx.login})
  const status: number | undefined = e?.statusCode
  const body = e?.details?.error ?? e?.response?.parsedBody?.error
  const code: string = body?.code ?? e?.code ?? ''
  const inner: string = body?.innererror?.message ?? body?.message ?? e?.message ?? ''
  const line = String(inner).split(/\r?\n/)[0].slice(0, 300)
  if (status === undefined) {
    const net = networkError(
      e,
      ctx.endpoint,
      undefined,
      'the Log Analytics endpoint',
      `providers.${ctx.alias}.logAnalyticsEndpoint (default https://api.loganalytics.io)`,
    )
    return (
      net ??
      new SecretsError('INTERNAL', `Unexpected error querying ${where}: ${e?.message ?? String(err)}`, {cause: err})
    )
  }
  if (status === 403) {
    return new SecretsError(
      'PERMISSION_DENIED',
      `Access denied to ${where}${login}: the identity may not query its logs (${code || 'Forbidden'}).`,
      {
        cause: err,
        suggestions: [
          'Grant this identity the "Log Analytics Reader" role (Microsoft.OperationalInsights/workspaces/query/read) on the workspace.',
        ],
      },
    )
  }
  if (status === 401) {
    return new SecretsError(
      'PERMISSION_DENIED',
      `${where} rejected the sign-in token${login} (${code || 'Unauthorized'}: ${line}).`,
      {
        cause: err,
        suggestions: ["Check that AZURE_TENANT_ID is the workspace's tenant and that authorityHost matches its cloud."],
      },
    )
  }
  if (status === 404) {
    return new SecretsError('NOT_FOUND', `${where} was not found at ${ctx.endpoint} (${code || 'NotFound'}).`, {
      cause: err,
      suggestions: [
        `Check providers.${ctx.alias}.logAnalyticsWorkspaceId: it is the workspace's "Workspace ID" (a GUID), not its name or resource id.`,
      ],
    })
  }
  if (status === 400 && /resolve table/i.test(line)) {
    return new SecretsError(
      'NOT_FOUND',
      `${where} has no ${ctx.table} table, so the vault's diagnostic logs do not reach it.`,
      {
        cause: err,
        suggestions: [
          'Add a diagnostic setting on the Key Vault that sends the AuditEvent category to this workspace.',
          `If it sends them to resource-specific tables, set providers.${ctx.alias}.logAnalyticsTable: ${ctx.table === 'AZKVAuditLogs' ? 'AzureDiagnostics' : 'AZKVAuditLogs'}.`,
        ],
      },
    )
  }
  if (status === 429 || status >= 500) {
    return new SecretsError(
      'UNAVAILABLE',
      `${where} ${status === 429 ? 'is throttling queries' : `answered ${status}`} (${code || status}) and still did after the retries.`,
      {
        cause: err,
        suggestions: ['Try again in a moment; narrow the time range with --since.'],
      },
    )
  }
  return new SecretsError('USAGE', `${where} refused the query: ${status} ${code}: ${line}`, {cause: err})
}
