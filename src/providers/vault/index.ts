import type {ProviderContext, SecretProvider} from '../types.js'

import {VaultProvider} from './provider.js'

export async function createProvider(ctx: ProviderContext): Promise<SecretProvider> {
  return new VaultProvider(ctx)
}

export {VaultProvider} from './provider.js'
