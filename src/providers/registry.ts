import type {SettingsSchema} from '../core/config.js'
import type {ProviderContext, ProviderModule, SecretProvider} from './types.js'

import {SecretsError} from '../errors.js'

/** How a provider type is configured and where its module is; the module loads only when used. */
export interface ProviderTypeSpec {
  /** Allowed settings in secrets.yaml and their types (nested mappings allowed, e.g. `auth: {method: 'string'}`). */
  settings: SettingsSchema
  /** Accept settings not listed (for types whose schema is not pinned down yet). */
  openSettings?: boolean
  /** Where credentials come from instead of the file (used in error messages). */
  credentialHint: string
  load?: () => Promise<ProviderModule>
}

export const PROVIDER_TYPES: Record<string, ProviderTypeSpec> = {
  local: {
    settings: {path: 'string', inject: 'boolean'},
    credentialHint: 'SECRETS_AGE_KEY, SECRETS_IDENTITY or SECRETS_PASSPHRASE',
    load: () => import('./local/index.js'),
  },
  vault: {settings: {}, openSettings: true, credentialHint: 'VAULT_TOKEN, VAULT_ROLE_ID/VAULT_SECRET_ID or a token file'},
  aws: {
    settings: {region: 'string', profile: 'string', endpoint: 'string', recoveryWindowDays: 'number', maxAttempts: 'number', concurrency: 'number', kmsKeyId: 'string', prefix: 'string', roleArn: 'string', externalId: 'string', roleSessionName: 'string'},
    credentialHint: 'the AWS credential chain: AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, SSO or web identity',
    load: () => import('./aws/index.js'),
  },
  azure: {
    settings: {
      vaultUrl: 'string',
      vaults: 'string[]',
      vaultDomain: 'string',
      tenantId: 'string',
      clientId: 'string',
      authorityHost: 'string',
      disableChallengeResourceVerification: 'boolean',
      disableInstanceDiscovery: 'boolean',
      concurrency: 'number',
      maxRetries: 'number',
      auth: {method: 'string', tenantId: 'string', clientId: 'string', certificatePath: 'string', tokenFilePath: 'string'},
    },
    credentialHint: 'AZURE_CLIENT_ID/AZURE_TENANT_ID with AZURE_CLIENT_SECRET, a certificate or a federated token file',
    load: () => import('./azure/index.js'),
  },
}

/** Load the one provider module a reference needs and open the provider. */
export async function openProvider(ctx: ProviderContext): Promise<SecretProvider> {
  const spec = PROVIDER_TYPES[ctx.config.type]
  if (spec?.load === undefined) {
    throw new SecretsError('UNSUPPORTED', `Provider ${ctx.config.alias} has type ${ctx.config.type}, which this build of secrets cannot use yet.`, {
      suggestions: [`Upgrade secrets, or copy these secrets into the local store for now (types available: ${availableTypes().join(', ')}).`],
    })
  }
  const mod = await spec.load()
  return mod.createProvider(ctx)
}

export function availableTypes(): string[] {
  return Object.entries(PROVIDER_TYPES).filter(([, s]) => s.load !== undefined).map(([t]) => t)
}
