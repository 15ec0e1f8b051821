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

/**
 * Map an error from `@aws-sdk/client-secrets-manager` (or the network under it) to the one error tree.
 * The message names the secret and the thing to check; it never contains a value or a credential.
 */
export function awsError(err: unknown, ctx: AwsErrorContext): SecretsError {
  if (err instanceof SecretsError) return err
  const e = shapeOf(err)
  const name = e.name ?? ''
  const code = e.code ?? ''
  const service = ctx.service ?? 'AWS Secrets Manager'
  const what = ctx.secretId === undefined ? service : `AWS secret "${ctx.secretId}"`
  const where = ctx.region === undefined ? '' : ` in ${ctx.region}`
  const opts = (suggestions: string[], retryable?: boolean) => ({
    ref: ctx.ref,
    suggestions,
    cause: err,
    ...(retryable === undefined ? {} : {retryable}),
  })

  if (/sts:AssumeRole\b/.test(e.message ?? '') && /AccessDenied/.test(name)) {
    return new SecretsError(
      'PERMISSION_DENIED',
      `Could not assume the role in roleArn: ${awsMessage(e)}`,
      opts([
        "Check that the role's trust policy allows your identity (and the externalId, if one is set), and that your policy allows sts:AssumeRole on it.",
      ]),
    )
  }
  if (ctx.action.startsWith('cloudtrail:') && (/AccessDenied/.test(name) || e.$metadata?.httpStatusCode === 403)) {
    return new SecretsError(
      'PERMISSION_DENIED',
      `Access denied to AWS CloudTrail${where}: the caller may not ${ctx.action}, so the provider's trail cannot be read.`,
      opts([
        `Allow ${ctx.action} (resource "*") in the IAM policy of the role or user you run as; the AWS managed policy AWSCloudTrail_ReadOnlyAccess includes it.`,
      ]),
    )
  }
  switch (name) {
    case 'AccessDeniedException':
    case 'AccessDenied':
      return new SecretsError(
        'PERMISSION_DENIED',
        `Access denied to ${what}${where}: the caller may not ${ctx.action}.`,
        opts([
          `Check that the IAM policy of the role or user you run as allows ${ctx.action} on this secret's ARN (and that no resource policy or SCP denies it).`,
          'If the secret is encrypted with a customer managed KMS key, the caller also needs kms:Decrypt on that key.',
        ]),
      )
    case 'ResourceNotFoundException':
      return new SecretsError(
        'NOT_FOUND',
        `${what} was not found${where}${/staging label|VersionId/.test(e.message ?? '') ? ` (${awsMessage(e).replace(/^Secrets Manager can't find the specified /, '')})` : ''}.`,
        opts([
          'Check the secret name or ARN, the region (AWS_REGION or `region:` in secrets.yaml) and the account your credentials belong to.',
        ]),
      )
    case 'DecryptionFailure':
      return new SecretsError(
        'PERMISSION_DENIED',
        `AWS could not decrypt ${what} with its KMS key.`,
        opts([
          'Check that the caller has kms:Decrypt on the KMS key that encrypts the secret, that the key is enabled, and that its key policy allows the caller.',
        ]),
      )
    case 'EncryptionFailure':
      return new SecretsError(
        'PERMISSION_DENIED',
        `AWS could not encrypt the new value of ${what} with its KMS key.`,
        opts([
          "Check that the caller has kms:GenerateDataKey and kms:Decrypt on the secret's KMS key, and that the key is enabled.",
        ]),
      )
    case 'InvalidRequestException':
      if (/marked for deletion|deleted/i.test(e.message ?? '')) {
        return new SecretsError(
          'NOT_FOUND',
          `${what} is scheduled for deletion${where}.`,
          opts([
            ctx.alias === undefined || ctx.secretId === undefined
              ? `Restore it first: aws secretsmanager restore-secret --secret-id ${ctx.secretId ?? '<name>'}`
              : `Restore it first: secrets restore ${ctx.alias}://${ctx.secretId}`,
          ]),
        )
      }
      return new SecretsError(
        'USAGE',
        `AWS rejected the request for ${what}: ${awsMessage(e)}`,
        opts(['Check the secret name, version id or stage in the reference.']),
      )
    case 'InvalidParameterException':
    case 'ValidationException':
    case 'InvalidNextTokenException':
    case 'MalformedPolicyDocumentException':
      return new SecretsError(
        'USAGE',
        `AWS rejected a parameter for ${what}: ${awsMessage(e)}`,
        opts(['Check the secret name, version id or stage in the reference.']),
      )
    case 'ResourceExistsException':
      return new SecretsError(
        'CONFLICT',
        `${what} already exists, or a version with this request token already has other contents.`,
        opts(['Run the command again: a new request gets a new token.']),
      )
    case 'PreconditionNotMetException':
      return new SecretsError(
        'CONFLICT',
        `AWS refused the change to ${what}: ${awsMessage(e)}`,
        opts(["Check the secret's state with: aws secretsmanager describe-secret"]),
      )
    case 'LimitExceededException':
      return new SecretsError(
        'UNAVAILABLE',
        `AWS refused the change to ${what}: a Secrets Manager quota was reached (${awsMessage(e)}).`,
        opts(['Check the quotas of your account (e.g. versions per secret).'], false),
      )
    case 'UnrecognizedClientException':
    case 'InvalidClientTokenId':
      return new SecretsError(
        'PERMISSION_DENIED',
        `AWS does not recognise the access key${where}: authentication failed before ${ctx.action}.`,
        opts([
          'Check AWS_ACCESS_KEY_ID (and AWS_SESSION_TOKEN for temporary credentials) or the profile in use (AWS_PROFILE or `profile:` in secrets.yaml).',
        ]),
      )
    case 'InvalidSignatureException':
    case 'SignatureDoesNotMatch':
    case 'IncompleteSignatureException':
      if (/expired|not yet current/i.test(e.message ?? '')) {
        return new SecretsError(
          'PERMISSION_DENIED',
          `AWS rejected the request signature${where}: the request date is too far from AWS time.`,
          opts(["Synchronise this machine's clock (NTP) and try again."]),
        )
      }
      return new SecretsError(
        'PERMISSION_DENIED',
        `AWS rejected the request signature${where}: the secret access key does not match the access key id.`,
        opts([
          "Check AWS_SECRET_ACCESS_KEY (or the profile's aws_secret_access_key) belongs to AWS_ACCESS_KEY_ID; rotate the key pair if unsure.",
        ]),
      )
    case 'ExpiredTokenException':
    case 'ExpiredToken':
    case 'RequestExpired':
      return new SecretsError(
        'PERMISSION_DENIED',
        `The AWS session credentials have expired${where}.`,
        opts(['Refresh them (for example `aws sso login`, or a new web identity token) and try again.']),
      )
    case 'CredentialsProviderError':
      return new SecretsError(
        'IDENTITY_MISSING',
        `No AWS credentials found: ${awsMessage(e)}`,
        opts([
          'Set AWS_PROFILE (or `profile:` in secrets.yaml), AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN; run `aws sso login` for SSO profiles.',
        ]),
      )
    case 'InvalidIdentityToken':
    case 'InvalidIdentityTokenException':
    case 'IDPRejectedClaim':
    case 'IDPRejectedClaimException':
      return new SecretsError(
        'PERMISSION_DENIED',
        `AWS STS rejected the web identity token: ${awsMessage(e)}`,
        opts(['Check AWS_WEB_IDENTITY_TOKEN_FILE holds a fresh OIDC token whose issuer and audience the role trusts.']),
      )
    default:
      break
  }
  if (THROTTLING.has(name) || e.$metadata?.httpStatusCode === 429) {
    const attempts = e.$metadata?.attempts
    return new SecretsError(
      'UNAVAILABLE',
      `${service} kept throttling requests (${name || 'HTTP 429'})${attempts ? ` after ${attempts} attempt(s)` : ''}; ${ctx.action} for ${what} did not complete.`,
      opts(
        ['Try again in a moment; fewer parallel runs help. `maxAttempts:` in secrets.yaml raises the retry bound.'],
        true,
      ),
    )
  }
  if (name === 'IDPCommunicationErrorException' || name === 'RegionDisabledException') {
    return new SecretsError(
      'UNAVAILABLE',
      `AWS STS could not exchange the web identity token: ${awsMessage(e)}`,
      opts(['Try again; check that the identity provider is reachable from AWS and the STS region is enabled.'], true),
    )
  }
  if (/region is missing/i.test(e.message ?? '')) {
    return new SecretsError(
      'CONFIG_INVALID',
      'No AWS region is set for the aws provider.',
      opts(['Set `region:` for the provider in secrets.yaml, or AWS_REGION, or a region in the AWS profile.']),
    )
  }
  if (NETWORK_CODES.has(code) || NETWORK_CODES.has(name) || name === 'TimeoutError' || name === 'RequestTimeout') {
    return new SecretsError(
      'UNAVAILABLE',
      `Could not reach ${service}${ctx.endpoint === undefined ? where : ` at ${ctx.endpoint}`} (${code || name}).`,
      opts(
        [
          ctx.action.startsWith('cloudtrail:')
            ? 'Check the network, proxy and endpoint (AWS_ENDPOINT_URL_CLOUDTRAIL or `cloudTrailEndpoint:` in secrets.yaml), then try again.'
            : 'Check the network, proxy and endpoint (AWS_ENDPOINT_URL_SECRETS_MANAGER or `endpoint:` in secrets.yaml), then try again.',
        ],
        true,
      ),
    )
  }
  if (e.$fault === 'server' || (e.$metadata?.httpStatusCode ?? 0) >= 500 || name === 'InternalServiceError') {
    return new SecretsError(
      'UNAVAILABLE',
      `${service} failed (${name || `HTTP ${e.$metadata?.httpStatusCode}`}) during ${ctx.action} for ${what}.`,
      opts(['Try again later; check the AWS Health Dashboard if it persists.'], true),
    )
  }
  if (e.$fault === 'client' || e.$metadata !== undefined) {
    if (/AccessDenied|Unauthorized|Forbidden/i.test(name) || e.$metadata?.httpStatusCode === 403) {
      return new SecretsError(
        'PERMISSION_DENIED',
        `AWS refused ${ctx.action} for ${what} (${name}).`,
        opts([`Check the IAM policy allows ${ctx.action}.`]),
      )
    }
    return new SecretsError(
      'USAGE',
      `AWS rejected ${ctx.action} for ${what} (${name}): ${awsMessage(e)}`,
      opts(['Check the reference and the provider settings in secrets.yaml; run with DEBUG=1 for the full AWS error.']),
    )
  }
  return new SecretsError(
    'INTERNAL',
    `Unexpected error during ${ctx.action} for ${what}: ${name || 'Error'}: ${awsMessage(e)}`,
    {ref: ctx.ref, cause: err},
  )
}
