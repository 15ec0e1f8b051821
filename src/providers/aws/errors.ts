import {SecretsError} from '../../errors.js'

/** What was being done when an AWS call failed: names only, never values. */
export interface AwsErrorContext {
  /** The reference as written (`aws://prod/db#password`), if there is one. */
  ref?: string
  /** The secret id or name sent to AWS. */
  secretId?: string
  /** The IAM action the call needs, e.g. `secretsmanager:GetSecretValue`. */
  action: string
  region?: string
  endpoint?: string
  /** The provider alias, for commands the message suggests (`secrets restore aws://...`). */
  alias?: string
  /** The service named in messages (default AWS Secrets Manager). */
  service?: string
}

/** The parts of an SDK (or Node network) error the mapping looks at. */
interface ErrorShape {
  name?: string
  code?: string
  message?: string
  $fault?: 'client' | 'server'
  $metadata?: {httpStatusCode?: number; attempts?: number}
  $retryable?: unknown
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
])
const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
])

function shapeOf(err: unknown): ErrorShape {
  return err !== null && typeof err === 'object' ? (err as ErrorShape) : {message: String(err)}
}

/** AWS service messages never echo secret values, but a message is cut to one line and a bounded length. */
function awsMessage(e: ErrorShape): string {
  const m = (e.message ?? '').split('\n')[0].trim()
  return m.length > 300 ? `${m.slice(0, 300)}…` : m
}

export function errorName(error: unknown): string | undefined {
  return (error as {name?: string} | undefined)?.name
}

/** One failure being mapped: the error's parts and the words every message is built from. */
interface Failure {
  err: unknown
  e: ErrorShape
  name: string
  code: string
  ctx: AwsErrorContext
  service: string
  /** `AWS secret "<id>"`, or the service when no secret is involved. */
  what: string
  /** ` in <region>`, or nothing. */
  where: string
}

/** The message of one known error name. */
type Mapper = (f: Failure) => SecretsError
/** A check by the error's kind: the message if the failure is of that kind, otherwise undefined. */
type Rule = (f: Failure) => SecretsError | undefined

function fail(
  f: Failure,
  code: SecretsError['code'],
  message: string,
  suggestions: string[],
  retryable?: boolean,
): SecretsError {
  return new SecretsError(code, message, {
    ref: f.ctx.ref,
    suggestions,
    cause: f.err,
    ...(retryable === undefined ? {} : {retryable}),
  })
}

const accessDenied: Mapper = (f) =>
  fail(f, 'PERMISSION_DENIED', `Access denied to ${f.what}${f.where}: the caller may not ${f.ctx.action}.`, [
    `Check that the IAM policy of the role or user you run as allows ${f.ctx.action} on this secret's ARN (and that no resource policy or SCP denies it).`,
    'If the secret is encrypted with a customer managed KMS key, the caller also needs kms:Decrypt on that key.',
  ])

const notFound: Mapper = (f) =>
  fail(
    f,
    'NOT_FOUND',
    `${f.what} was not found${f.where}${/staging label|VersionId/.test(f.e.message ?? '') ? ` (${awsMessage(f.e).replace(/^Secrets Manager can't find the specified /, '')})` : ''}.`,
    [
      'Check the secret name or ARN, the region (AWS_REGION or `region:` in secrets.yaml) and the account your credentials belong to.',
    ],
  )

const invalidRequest: Mapper = (f) => {
  if (/marked for deletion|deleted/i.test(f.e.message ?? '')) {
    return fail(f, 'NOT_FOUND', `${f.what} is scheduled for deletion${f.where}.`, [
      f.ctx.alias === undefined || f.ctx.secretId === undefined
        ? `Restore it first: aws secretsmanager restore-secret --secret-id ${f.ctx.secretId ?? '<name>'}`
        : `Restore it first: secrets restore ${f.ctx.alias}://${f.ctx.secretId}`,
    ])
  }
  return fail(f, 'USAGE', `AWS rejected the request for ${f.what}: ${awsMessage(f.e)}`, [
    'Check the secret name, version id or stage in the reference.',
  ])
}

const invalidParameter: Mapper = (f) =>
  fail(f, 'USAGE', `AWS rejected a parameter for ${f.what}: ${awsMessage(f.e)}`, [
    'Check the secret name, version id or stage in the reference.',
  ])

const unknownKey: Mapper = (f) =>
  fail(
    f,
    'PERMISSION_DENIED',
    `AWS does not recognise the access key${f.where}: authentication failed before ${f.ctx.action}.`,
    [
      'Check AWS_ACCESS_KEY_ID (and AWS_SESSION_TOKEN for temporary credentials) or the profile in use (AWS_PROFILE or `profile:` in secrets.yaml).',
    ],
  )

const badSignature: Mapper = (f) => {
  if (/expired|not yet current/i.test(f.e.message ?? '')) {
    return fail(
      f,
      'PERMISSION_DENIED',
      `AWS rejected the request signature${f.where}: the request date is too far from AWS time.`,
      ["Synchronise this machine's clock (NTP) and try again."],
    )
  }
  return fail(
    f,
    'PERMISSION_DENIED',
    `AWS rejected the request signature${f.where}: the secret access key does not match the access key id.`,
    [
      "Check AWS_SECRET_ACCESS_KEY (or the profile's aws_secret_access_key) belongs to AWS_ACCESS_KEY_ID; rotate the key pair if unsure.",
    ],
  )
}

const expired: Mapper = (f) =>
  fail(f, 'PERMISSION_DENIED', `The AWS session credentials have expired${f.where}.`, [
    'Refresh them (for example `aws sso login`, or a new web identity token) and try again.',
  ])

const badIdentityToken: Mapper = (f) =>
  fail(f, 'PERMISSION_DENIED', `AWS STS rejected the web identity token: ${awsMessage(f.e)}`, [
    'Check AWS_WEB_IDENTITY_TOKEN_FILE holds a fresh OIDC token whose issuer and audience the role trusts.',
  ])

/** The error names AWS documents, each with its own message. */
const BY_NAME = new Map<string, Mapper>([
  ['AccessDeniedException', accessDenied],
  ['AccessDenied', accessDenied],
  ['ResourceNotFoundException', notFound],
  [
    'DecryptionFailure',
    (f) =>
      fail(f, 'PERMISSION_DENIED', `AWS could not decrypt ${f.what} with its KMS key.`, [
        'Check that the caller has kms:Decrypt on the KMS key that encrypts the secret, that the key is enabled, and that its key policy allows the caller.',
      ]),
  ],
  [
    'EncryptionFailure',
    (f) =>
      fail(f, 'PERMISSION_DENIED', `AWS could not encrypt the new value of ${f.what} with its KMS key.`, [
        "Check that the caller has kms:GenerateDataKey and kms:Decrypt on the secret's KMS key, and that the key is enabled.",
      ]),
  ],
  ['InvalidRequestException', invalidRequest],
  ['InvalidParameterException', invalidParameter],
  ['ValidationException', invalidParameter],
  ['InvalidNextTokenException', invalidParameter],
  ['MalformedPolicyDocumentException', invalidParameter],
  [
    'ResourceExistsException',
    (f) =>
      fail(
        f,
        'CONFLICT',
        `${f.what} already exists, or a version with this request token already has other contents.`,
        ['Run the command again: a new request gets a new token.'],
      ),
  ],
  [
    'PreconditionNotMetException',
    (f) =>
      fail(f, 'CONFLICT', `AWS refused the change to ${f.what}: ${awsMessage(f.e)}`, [
        "Check the secret's state with: aws secretsmanager describe-secret",
      ]),
  ],
  [
    'LimitExceededException',
    (f) =>
      fail(
        f,
        'UNAVAILABLE',
        `AWS refused the change to ${f.what}: a Secrets Manager quota was reached (${awsMessage(f.e)}).`,
        ['Check the quotas of your account (e.g. versions per secret).'],
        false,
      ),
  ],
  ['UnrecognizedClientException', unknownKey],
  ['InvalidClientTokenId', unknownKey],
  ['InvalidSignatureException', badSignature],
  ['SignatureDoesNotMatch', badSignature],
  ['IncompleteSignatureException', badSignature],
  ['ExpiredTokenException', expired],
  ['ExpiredToken', expired],
  ['RequestExpired', expired],
  [
    'CredentialsProviderError',
    (f) =>
      fail(f, 'IDENTITY_MISSING', `No AWS credentials found: ${awsMessage(f.e)}`, [
        'Set AWS_PROFILE (or `profile:` in secrets.yaml), AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN; run `aws sso login` for SSO profiles.',
      ]),
  ],
  ['InvalidIdentityToken', badIdentityToken],
  ['InvalidIdentityTokenException', badIdentityToken],
  ['IDPRejectedClaim', badIdentityToken],
  ['IDPRejectedClaimException', badIdentityToken],
])

/** Failures recognised before the error's name: assuming the role, and reading CloudTrail. */
const BEFORE_NAME: Rule[] = [
  (f) =>
    /sts:AssumeRole\b/.test(f.e.message ?? '') && /AccessDenied/.test(f.name)
      ? fail(f, 'PERMISSION_DENIED', `Could not assume the role in roleArn: ${awsMessage(f.e)}`, [
          "Check that the role's trust policy allows your identity (and the externalId, if one is set), and that your policy allows sts:AssumeRole on it.",
        ])
      : undefined,
  (f) =>
    f.ctx.action.startsWith('cloudtrail:') && (/AccessDenied/.test(f.name) || f.e.$metadata?.httpStatusCode === 403)
      ? fail(
          f,
          'PERMISSION_DENIED',
          `Access denied to AWS CloudTrail${f.where}: the caller may not ${f.ctx.action}, so the provider's trail cannot be read.`,
          [
            `Allow ${f.ctx.action} (resource "*") in the IAM policy of the role or user you run as; the AWS managed policy AWSCloudTrail_ReadOnlyAccess includes it.`,
          ],
        )
      : undefined,
]

const throttled: Rule = (f) => {
  if (!THROTTLING.has(f.name) && f.e.$metadata?.httpStatusCode !== 429) return undefined
  const attempts = f.e.$metadata?.attempts
  return fail(
    f,
    'UNAVAILABLE',
    `${f.service} kept throttling requests (${f.name || 'HTTP 429'})${attempts ? ` after ${attempts} attempt(s)` : ''}; ${f.ctx.action} for ${f.what} did not complete.`,
    ['Try again in a moment; fewer parallel runs help. `maxAttempts:` in secrets.yaml raises the retry bound.'],
    true,
  )
}

const unreachable: Rule = (f) => {
  const {name, code, ctx} = f
  if (!NETWORK_CODES.has(code) && !NETWORK_CODES.has(name) && name !== 'TimeoutError' && name !== 'RequestTimeout')
    return undefined
  return fail(
    f,
    'UNAVAILABLE',
    `Could not reach ${f.service}${ctx.endpoint === undefined ? f.where : ` at ${ctx.endpoint}`} (${code || name}).`,
    [
      ctx.action.startsWith('cloudtrail:')
        ? 'Check the network, proxy and endpoint (AWS_ENDPOINT_URL_CLOUDTRAIL or `cloudTrailEndpoint:` in secrets.yaml), then try again.'
        : 'Check the network, proxy and endpoint (AWS_ENDPOINT_URL_SECRETS_MANAGER or `endpoint:` in secrets.yaml), then try again.',
    ],
    true,
  )
}

const clientFault: Rule = (f) => {
  if (f.e.$fault !== 'client' && f.e.$metadata === undefined) return undefined
  if (/AccessDenied|Unauthorized|Forbidden/i.test(f.name) || f.e.$metadata?.httpStatusCode === 403) {
    return fail(f, 'PERMISSION_DENIED', `AWS refused ${f.ctx.action} for ${f.what} (${f.name}).`, [
      `Check the IAM policy allows ${f.ctx.action}.`,
    ])
  }
  return fail(f, 'USAGE', `AWS rejected ${f.ctx.action} for ${f.what} (${f.name}): ${awsMessage(f.e)}`, [
    'Check the reference and the provider settings in secrets.yaml; run with DEBUG=1 for the full AWS error.',
  ])
}

/** Failures recognised by their kind when the name is not one of BY_NAME's, in this order. */
const AFTER_NAME: Rule[] = [
  throttled,
  (f) =>
    f.name === 'IDPCommunicationErrorException' || f.name === 'RegionDisabledException'
      ? fail(
          f,
          'UNAVAILABLE',
          `AWS STS could not exchange the web identity token: ${awsMessage(f.e)}`,
          ['Try again; check that the identity provider is reachable from AWS and the STS region is enabled.'],
          true,
        )
      : undefined,
  (f) =>
    /region is missing/i.test(f.e.message ?? '')
      ? fail(f, 'CONFIG_INVALID', 'No AWS region is set for the aws provider.', [
          'Set `region:` for the provider in secrets.yaml, or AWS_REGION, or a region in the AWS profile.',
        ])
      : undefined,
  unreachable,
  (f) =>
    f.e.$fault === 'server' || (f.e.$metadata?.httpStatusCode ?? 0) >= 500 || f.name === 'InternalServiceError'
      ? fail(
          f,
          'UNAVAILABLE',
          `${f.service} failed (${f.name || `HTTP ${f.e.$metadata?.httpStatusCode}`}) during ${f.ctx.action} for ${f.what}.`,
          ['Try again later; check the AWS Health Dashboard if it persists.'],
          true,
        )
      : undefined,
  clientFault,
]

/**
 * Map an error from `@aws-sdk/client-secrets-manager` (or the network under it) to the one error tree.
 * The message names the secret and the thing to check; it never contains a value or a credential.
 */
export function awsError(err: unknown, ctx: AwsErrorContext): SecretsError {
  if (err instanceof SecretsError) return err
  const e = shapeOf(err)
  const service = ctx.service ?? 'AWS Secrets Manager'
  const f: Failure = {
    err,
    e,
    name: e.name ?? '',
    code: e.code ?? '',
    ctx,
    service,
    what: ctx.secretId === undefined ? service : `AWS secret "${ctx.secretId}"`,
    where: ctx.region === undefined ? '' : ` in ${ctx.region}`,
  }
  for (const rule of BEFORE_NAME) {
    const mapped = rule(f)
    if (mapped !== undefined) return mapped
  }
  const byName = BY_NAME.get(f.name)
  if (byName !== undefined) return byName(f)
  for (const rule of AFTER_NAME) {
    const mapped = rule(f)
    if (mapped !== undefined) return mapped
  }
  return new SecretsError(
    'INTERNAL',
    `Unexpected error during ${ctx.action} for ${f.what}: ${f.name || 'Error'}: ${awsMessage(e)}`,
    {ref: ctx.ref, cause: err},
  )
}
