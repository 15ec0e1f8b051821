import type {ProviderContext, SecretProvider} from '../types.js'

import {LocalProvider} from './provider.js'

export async function createProvider(ctx: ProviderContext): Promise<SecretProvider> {
  return new LocalProvider(ctx)
}

export {LocalProvider} from './provider.js'
