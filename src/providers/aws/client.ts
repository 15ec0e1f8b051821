import {SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import type {fromTemporaryCredentials} from '@aws-sdk/credential-providers'

import {SecretsError} from '../../errors.js'
import type {SettingsOf} from '../spec.js'
import type {awsSpec} from './spec.js'

/** The provider's settings in secrets.yaml (all optional; the SDK's own variables and profiles fill the rest). */
export type AwsSettings = SettingsOf<typeof awsSpec.settings>

/** The Secrets Manager client of one provider, with the region and endpoint its messages name. */
export interface AwsClient {
  client: SecretsManagerClient
  region?: string
  endpoint?: string
}

/** `assume` is `fromTemporaryCredentials`, loaded by index.ts only when `roleArn:` is set. */
export function awsClient(
  alias: string,
  settings: AwsSettings,
  env: NodeJS.ProcessEnv,
  assume?: typeof fromTemporaryCredentials,
): AwsClient {
  const region = settings.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION
  const endpoint = settings.endpoint ?? env.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? env.AWS_ENDPOINT_URL
  const maxAttempts = settings.maxAttempts ?? 3
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 10) {
    throw new SecretsError('CONFIG_INVALID', `providers.${alias}.maxAttempts must be a whole number from 1 to 10.`)
  }
  // The SDK warns on stderr that it will need Node 22 from 2027; that is for us, not for the user,
  // and it would land in the middle of command output. The check runs only while the client is built.
  const quiet = process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'
  try {
    const client = new SecretsManagerClient({
      ...(region === undefined ? {} : {region}),
      ...(settings.profile === undefined ? {} : {profile: settings.profile}),
      // Without `endpoint:` the SDK itself honours AWS_ENDPOINT_URL_SECRETS_MANAGER / AWS_ENDPOINT_URL.
      ...(settings.endpoint === undefined ? {} : {endpoint: settings.endpoint}),
      retryMode: 'adaptive',
      maxAttempts,
      requestHandler: {connectionTimeout: 10_000, requestTimeout: 60_000},
      ...(settings.roleArn === undefined
        ? {}
        : {credentials: assumeRole(alias, settings, settings.roleArn, region, assume)}),
    })
    return {client, region, endpoint}
  } finally {
    if (quiet === undefined) delete process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED
    else process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = quiet
  }
}

/** Credentials of `roleArn`, assumed with whatever the SDK's default chain finds (SDK-managed refresh). */
function assumeRole(
  alias: string,
  settings: AwsSettings,
  roleArn: string,
  region: string | undefined,
  assume?: typeof fromTemporaryCredentials,
) {
  if (!/^arn:aws[\w-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(roleArn)) {
    throw new SecretsError(
      'CONFIG_INVALID',
      `providers.${alias}.roleArn must be an IAM role ARN (arn:aws:iam::<account>:role/<name>).`,
    )
  }
  if (assume === undefined) throw new Error('roleArn is set but the STS credential provider was not loaded')
  return assume({
    params: {
      RoleArn: roleArn,
      RoleSessionName: settings.roleSessionName ?? 'secrets-cli',
      ...(settings.externalId === undefined ? {} : {ExternalId: settings.externalId}),
    },
    clientConfig: {
      ...(region === undefined ? {} : {region}),
      ...(settings.profile === undefined ? {} : {profile: settings.profile}),
    },
  })
}
