import type {SettingsSchema} from '../core/config/settings-schema.js'
import type {KeyWrapper, KeyWrapperModule, ProviderContext, ProviderModule, SecretProvider} from './types.js'

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
  vault: {
    settings: {
      address: 'string',
      namespace: 'string',
      timeout: 'number',
      retries: 'number',
      caCert: 'string',
      caPath: 'string',
      clientCert: 'string',
      clientKeyFile: 'string',
      tlsServerName: 'string',
      kv: {entries: {oneOf: [1, 2]}},
      auth: {
        method: {oneOf: ['token', 'approle', 'jwt', 'kubernetes']},
        mount: 'string',
        role: 'string',
        tokenFile: 'string',
        roleIdFile: 'string',
        secretIdFile: 'string',
      },
    },
    credentialHint: 'VAULT_TOKEN, VAULT_ROLE_ID/VAULT_SECRET_ID or a token file',
    load: () => import('./vault/index.js'),
  },
  aws: {
    settings: {
      region: 'string',
      profile: 'string',
      endpoint: 'string',
      recoveryWindowDays: 'number',
      maxAttempts: 'number',
      concurrency: 'number',
      kmsKeyId: 'string',
      prefix: 'string',
      roleArn: 'string',
      externalId: 'string',
      roleSessionName: 'string',
      cloudTrailEndpoint: 'string',
    },
    credentialHint:
      'the AWS credential chain: AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, SSO or web identity',
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
      logAnalyticsWorkspaceId: 'string',
      logAnalyticsEndpoint: 'string',
      logAnalyticsTable: {oneOf: ['AzureDiagnostics', 'AZKVAuditLogs']},
      auth: {
        method: 'string',
        tenantId: 'string',
        clientId: 'string',
        certificatePath: 'string',
        tokenFilePath: 'string',
      },
    },
    credentialHint: 'AZURE_CLIENT_ID/AZURE_TENANT_ID with AZURE_CLIENT_SECRET, a certificate or a federated token file',
    load: () => import('./azure/index.js'),
  },
}

/** Load the one provider module a reference needs and open the provider. */
export async function openProvider(ctx: ProviderContext): Promise<SecretProvider> {
  const spec = PROVIDER_TYPES[ctx.config.type]
  if (spec?.load === undefined) {
    throw new SecretsError(
      'UNSUPPORTED',
      `Provider ${ctx.config.alias} has type ${ctx.config.type}, which this build of secrets cannot use yet.`,
      {
        suggestions: [
          `Upgrade secrets, or copy these secrets into the local store for now (types available: ${availableTypes().join(', ')}).`,
        ],
      },
    )
  }
  const mod = await spec.load()
  return mod.createProvider(ctx)
}

export function availableTypes(): string[] {
  return Object.entries(PROVIDER_TYPES)
    .filter(([, s]) => s.load !== undefined)
    .map(([t]) => t)
}

/** Key services that can hold the local store's data key, by recipient scheme (`awskms://...`). */
export const KEY_SERVICES: Record<string, {load: () => Promise<KeyWrapperModule>}> = {
  awskms: {load: () => import('./aws/kms.js')},
  'vault-transit': {load: () => import('./vault/transit.js')},
  azurekv: {load: () => import('./azure/keys.js')},
}

/** The scheme of a key-service recipient (`awskms`), or undefined for anything else. */
export function keyServiceOf(recipient: string | undefined): string | undefined {
  const scheme = /^([a-z][a-z0-9-]*):\/\//.exec(recipient ?? '')?.[1]
  return scheme !== undefined && scheme in KEY_SERVICES ? scheme : undefined
}

/** Load the one key-service module a recipient needs. */
export async function openKeyWrapper(recipient: string, env: NodeJS.ProcessEnv): Promise<KeyWrapper> {
  const scheme = keyServiceOf(recipient)
  if (scheme === undefined) {
    throw new SecretsError(
      'UNSUPPORTED',
      `${recipient} is not a key service this build of secrets knows (known: ${Object.keys(KEY_SERVICES)
        .map((k) => `${k}://`)
        .join(', ')}).`,
    )
  }
  return (await KEY_SERVICES[scheme].load()).createKeyWrapper(recipient, env)
}
