import {defineProvider} from '../spec.js'

/** Azure Key Vault secrets, with Key Vault RSA keys as a key service and Azure Monitor Logs as its trail. */
export const azureSpec = defineProvider({
  kind: 'azure',
  title: 'Azure Key Vault',
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
  keyServices: [
    {
      scheme: 'azurekv',
      form: 'azurekv://<vault name or host>/<key>[/<version>]',
      description: "an Azure Key Vault RSA key, signed in as the project's Azure provider",
    },
  ],
  trail: {source: 'Azure Monitor Logs'},
  sdkPackages: ['@azure/*'],
  docs: 'docs/providers/azure.md',
})
