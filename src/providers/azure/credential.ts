import {
  AzureCliCredential,
  ClientCertificateCredential,
  ClientSecretCredential,
  DefaultAzureCredential,
  ManagedIdentityCredential,
  WorkloadIdentityCredential,
  type TokenCredential,
} from '@azure/identity'

import {SecretsError} from '../../errors.js'
import type {SettingsOf} from '../spec.js'
import type {azureSpec} from './spec.js'

/** An Azure provider's settings in secrets.yaml. */
export type AzureSettings = SettingsOf<typeof azureSpec.settings>

export const AUTH_METHODS = [
  'default',
  'client-secret',
  'client-certificate',
  'workload-identity',
  'managed-identity',
  'azure-cli',
] as const
export type AuthMethod = (typeof AUTH_METHODS)[number]
const PUBLIC_AUTHORITIES = new Set([
  'login.microsoftonline.com',
  'login.microsoftonline.us',
  'login.chinacloudapi.cn',
  'login.partner.microsoftonline.cn',
])

/**
 * How an Azure provider (or the `azurekv://` key recipient, which signs in the same way) gets its token:
 * the `auth.method`, tenant and client ids, and authority host of its settings, with the standard AZURE_*
 * variables winning. The credential is built on first use; building it does no I/O.
 */
export class AzureSignIn {
  readonly method: AuthMethod
  /** How it signs in, for messages ("client-secret for client 1234 in tenant abcd"); never a secret. */
  readonly login: string
  private cached?: TokenCredential

  constructor(
    private readonly alias: string,
    private readonly settings: AzureSettings,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    const method = (settings.auth?.method ?? 'default') as AuthMethod
    if (!AUTH_METHODS.includes(method)) {
      throw new SecretsError(
        'CONFIG_INVALID',
        `providers.${alias}.auth.method: unknown method "${method}"; one of ${AUTH_METHODS.join(', ')}.`,
      )
    }
    this.method = method
    const clientId = this.clientId()
    const tenantId = this.tenantId()
    this.login = `${method}${clientId ? ` for client ${clientId}` : ''}${tenantId ? ` in tenant ${tenantId}` : ''}`
  }

  private tenantId(): string | undefined {
    return this.env.AZURE_TENANT_ID ?? this.settings.tenantId ?? this.settings.auth?.tenantId
  }

  private clientId(): string | undefined {
    return this.env.AZURE_CLIENT_ID ?? this.settings.clientId ?? this.settings.auth?.clientId
  }

  credential(): TokenCredential {
    this.cached ??= this.build()
    return this.cached
  }

  private build(): TokenCredential {
    const {env, settings, alias} = this
    const authorityHost: string | undefined = env.AZURE_AUTHORITY_HOST ?? settings.authorityHost
    const custom = authorityHost !== undefined && !PUBLIC_AUTHORITIES.has(new URL(authorityHost).host)
    // A custom authority (a test server, ADFS, a sovereign mirror) has no entry in Microsoft's instance
    // discovery, which MSAL would otherwise ask login.microsoftonline.com about.
    const common = {authorityHost, disableInstanceDiscovery: custom || settings.disableInstanceDiscovery === true}
    const tenantId = this.tenantId()
    const clientId = this.clientId()
    const need = (what: string, value: string | undefined, hint: string): string => {
      if (value === undefined || value === '') {
        throw new SecretsError(
          'IDENTITY_MISSING',
          `Provider ${alias} signs in with ${this.method}, which needs ${what}.`,
          {suggestions: [hint]},
        )
      }
      return value
    }
    const needIds = () => ({
      tenant: need('a tenant id', tenantId, `Set AZURE_TENANT_ID or \`tenantId\` under providers.${alias}.`),
      client: need('a client id', clientId, `Set AZURE_CLIENT_ID or \`clientId\` under providers.${alias}.`),
    })
    switch (this.method) {
      case 'client-secret': {
        const {tenant, client} = needIds()
        const secret = need(
          'AZURE_CLIENT_SECRET in the environment',
          env.AZURE_CLIENT_SECRET,
          'Export AZURE_CLIENT_SECRET (never put it in secrets.yaml).',
        )
        return new ClientSecretCredential(tenant, client, secret, common)
      }
      case 'client-certificate': {
        const {tenant, client} = needIds()
        const certificatePath = need(
          'a certificate file',
          env.AZURE_CLIENT_CERTIFICATE_PATH ?? settings.auth?.certificatePath,
          'Set AZURE_CLIENT_CERTIFICATE_PATH or `auth.certificatePath` (a PEM file with the private key and the certificate).',
        )
        return new ClientCertificateCredential(
          tenant,
          client,
          {certificatePath, certificatePassword: env.AZURE_CLIENT_CERTIFICATE_PASSWORD},
          common,
        )
      }
      case 'workload-identity': {
        const {tenant, client} = needIds()
        const tokenFilePath = need(
          'a federated token file',
          env.AZURE_FEDERATED_TOKEN_FILE ?? settings.auth?.tokenFilePath,
          'Set AZURE_FEDERATED_TOKEN_FILE (CI OIDC and AKS workload identity do) or `auth.tokenFilePath`.',
        )
        return new WorkloadIdentityCredential({tenantId: tenant, clientId: client, tokenFilePath, ...common})
      }
      case 'managed-identity': {
        return clientId ? new ManagedIdentityCredential({clientId}) : new ManagedIdentityCredential()
      }
      case 'azure-cli': {
        return new AzureCliCredential(tenantId ? {tenantId} : {})
      }
      default: {
        return new DefaultAzureCredential({
          ...common,
          ...(tenantId ? {tenantId} : {}),
          ...(clientId ? {managedIdentityClientId: clientId, workloadIdentityClientId: clientId} : {}),
        })
      }
    }
  }
}

/** Options every Key Vault client (secrets or keys) of a provider is built with. */
export function keyVaultClientOptions(settings: AzureSettings, maxRetries: number) {
  return {
    disableChallengeResourceVerification: settings.disableChallengeResourceVerification === true,
    retryOptions: {maxRetries, retryDelayInMs: 200, maxRetryDelayInMs: 4000},
    userAgentOptions: {userAgentPrefix: 'secrets-cli'},
  }
}

/** A Key Vault URL from the configuration, checked: https only, no trailing slash. */
export function checkVaultUrl(url: string, where: string): string {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw new SecretsError(
      'CONFIG_INVALID',
      `${where}: "${url}" is not a URL (expected https://<vault-name>.vault.azure.net).`,
    )
  }
  if (u.protocol !== 'https:')
    throw new SecretsError('CONFIG_INVALID', `${where}: ${url} must use https:// (Key Vault only talks TLS).`)
  return url.replace(/\/+$/, '')
}

/** The provider's `vaults:` entries (name=https://...), checked: lower-case vault name -> URL. */
export function vaultsOf(settings: AzureSettings, alias: string): Map<string, string> {
  const vaults = new Map<string, string>()
  for (const entry of (settings.vaults ?? []) as string[]) {
    const eq = entry.indexOf('=')
    if (eq < 1)
      throw new SecretsError('CONFIG_INVALID', `providers.${alias}.vaults: "${entry}" must be name=https://url.`)
    vaults.set(entry.slice(0, eq).toLowerCase(), checkVaultUrl(entry.slice(eq + 1), `providers.${alias}.vaults`))
  }
  return vaults
}

/** A vault's URL from its name: its `vaults:` entry (see vaultsOf), else https://<name>.<vaultDomain>. */
export function vaultUrlFor(name: string, settings: AzureSettings, vaults: Map<string, string>): string {
  return vaults.get(name.toLowerCase()) ?? `https://${name.toLowerCase()}.${settings.vaultDomain ?? 'vault.azure.net'}`
}

/** A count setting (concurrency, maxRetries): a non-negative integer, else `fallback`. */
export function countSetting(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : fallback
}
