import type {ProviderContext, SecretProvider} from '../types.js'

import type {AwsSettings} from './client.js'
import {AwsProvider} from './provider.js'

export async function createProvider(ctx: ProviderContext): Promise<SecretProvider> {
  // The STS credential provider loads only for a provider that assumes a role.
  const assume =
    (ctx.config.settings as AwsSettings).roleArn === undefined
      ? undefined
      : (await import('@aws-sdk/credential-providers')).fromTemporaryCredentials
  return new AwsProvider(ctx, assume)
}

export {AwsProvider} from './provider.js'
export {awsError} from './errors.js'
