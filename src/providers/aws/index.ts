import type {ProviderContext, SecretProvider} from '../types.js'

import {AwsProvider} from './provider.js'

export async function createProvider(ctx: ProviderContext): Promise<SecretProvider> {
  return new AwsProvider(ctx)
}

export {AwsProvider} from './provider.js'
export {awsError} from './errors.js'
