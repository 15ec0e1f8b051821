import type {ProviderContext, SecretProvider} from '../types.js'

import {AzureProvider} from './provider.js'

export async function createProvider(ctx: ProviderContext): Promise<SecretProvider> {
  return new AzureProvider(ctx)
}

export {AzureProvider} from './provider.js'
