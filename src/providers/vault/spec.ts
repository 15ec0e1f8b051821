import {defineProvider} from '../spec.js'

/** HashiCorp Vault (and OpenBao): KV v1/v2 secrets, transit as a key service, a file audit device as its trail. */
export const vaultSpec = defineProvider({
  kind: 'vault',
  title: 'HashiCorp Vault',
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
  keyServices: [
    {
      scheme: 'vault-transit',
      form: 'vault-transit://<mount>/<key>',
      description: 'Vault transit, VAULT_ADDR with VAULT_TOKEN or AppRole',
    },
  ],
  trail: {source: 'a file audit device'},
  entryParams: 'the parameters of the write that issues a dynamic credential, e.g. pki/issue/<role> or aws/sts/<role>',
  sdkPackages: ['node-vault'],
  docs: 'docs/providers/vault.md',
})
