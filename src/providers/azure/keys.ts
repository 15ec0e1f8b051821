import {CryptographyClient} from '@azure/keyvault-keys'

import {loadConfig} from '../../core/config/load.js'
import {SecretsError} from '../../errors.js'
import type {KeyWrapper} from '../types.js'
import {
  type AzureSettings,
  AzureSignIn,
  countSetting,
  keyVaultClientOptions,
  vaultUrlFor,
  vaultsOf,
} from './credential.js'
import {azureError, type AzureErrorContext} from './errors.js'

const PREFIX = 'azurekv://'
/** RSA-OAEP with SHA-256: Key Vault does it server-side (the SDK's local RSA provider does only SHA-1 OAEP). */
const ALGORITHM = 'RSA-OAEP-256'
const VAULT_NAME = /^[A-Za-z0-9-]{3,24}$/
const VAULT_HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$/
const KEY_NAME = /^[0-9A-Za-z-]{1,127}$/
const KEY_VERSION = /^[0-9A-Za-z]{1,64}$/
const FORMAT = 'use azurekv://<vault-name or host>/<key-name>[/<version>], e.g. azurekv://acme-kv/secrets-store'

/**
 * An Azure Key Vault key (RSA) as a recipient of the local store's data key:
 * `azurekv://<vault-name or vault host>/<key-name>[/<version>]`. The data key is wrapped with `wrapKey`
 * (RSA-OAEP-256) when the recipient is added; the store keeps `<key version>:<base64 of the wrapped key>`,
 * so opening it unwraps with exactly the key version that wrapped it, even after the key is rotated.
 * Sign-in, vault names and TLS are those of the project's Azure provider (see settingsFor).
 */
export class AzureKeyWrapper implements KeyWrapper {
  readonly vaultUrl: string
  readonly keyName: string
  readonly version?: string
  private readonly signIn: AzureSignIn

  private readonly settings: AzureSettings

  constructor(
    readonly recipient: string,
    env: NodeJS.ProcessEnv,
    settings: AzureSettings = {},
    alias = 'azure',
  ) {
    const parts = recipient.startsWith(PREFIX) ? recipient.slice(PREFIX.length).split('/') : []
    const [vault, key, version] = parts
    if (
      parts.length < 2 ||
      parts.length > 3 ||
      !KEY_NAME.test(key ?? '') ||
      (version !== undefined && !KEY_VERSION.test(version))
    ) {
      throw new SecretsError('USAGE', `${recipient} does not name a Key Vault key: ${FORMAT}.`)
    }
    const vaults = vaultsOf(settings, alias)
    if (VAULT_NAME.test(vault)) {
      this.vaultUrl = vaultUrlFor(vault, settings, vaults)
    } else if (VAULT_HOST.test(vault) && /[.:]/.test(vault)) {
      this.vaultUrl = `https://${vault.toLowerCase()}`
    } else {
      throw new SecretsError(
        'USAGE',
        `${recipient}: "${vault}" is neither a Key Vault name (3-24 letters, digits and "-") nor a host: ${FORMAT}.`,
      )
    }
    this.keyName = key
    this.version = version
    // The recipient URI sits in a file that is committed and edited in pull requests. Skipping the check
    // that a vault's challenge names its own domain (private endpoints, test servers) is for the vaults
    // the provider itself names; any other host gets the check, so no edited entry can collect a token.
    const named = [env.AZURE_KEYVAULT_URL, settings.vaultUrl, ...vaults.values()].flatMap((u) =>
      typeof u === 'string' && URL.canParse(u) ? [new URL(u).host] : [],
    )
    this.settings = named.includes(new URL(this.vaultUrl).host)
      ? settings
      : {...settings, disableChallengeResourceVerification: false}
    this.signIn = new AzureSignIn(alias, settings, env)
  }

  private client(version: string | undefined): CryptographyClient {
    const id = `${this.vaultUrl}/keys/${this.keyName}${version ? `/${version}` : ''}`
    return new CryptographyClient(
      id,
      this.signIn.credential(),
      keyVaultClientOptions(this.settings, countSetting(this.settings.maxRetries, 3)),
    )
  }

  private context(op: 'wrap' | 'unwrap'): AzureErrorContext {
    return {vault: this.vaultUrl, secret: this.keyName, kind: 'key', ref: this.recipient, op, login: this.signIn.login}
  }

  async wrap(dataKey: Buffer): Promise<string> {
    try {
      const r = await this.client(this.version).wrapKey(ALGORITHM, dataKey)
      // The key id of the result names the version used (the latest, when the recipient names none).
      const used = /\/keys\/[^/]+\/([0-9A-Za-z]+)$/.exec(r.keyID ?? '')?.[1] ?? this.version ?? ''
      return `${used}:${Buffer.from(r.result).toString('base64')}`
    } catch (error) {
      throw this.error(error, 'wrap')
    }
  }

  async unwrap(wrapped: string): Promise<Buffer> {
    const m = /^([0-9A-Za-z]{0,64}):([A-Za-z0-9+/]+={0,2})$/.exec(wrapped)
    if (m === null) throw this.integrity()
    try {
      const r = await this.client(m[1] || this.version).unwrapKey(ALGORITHM, Buffer.from(m[2], 'base64'))
      return Buffer.from(r.result)
    } catch (error) {
      throw this.error(error, 'unwrap')
    }
  }

  private integrity(cause?: unknown): SecretsError {
    return new SecretsError(
      'INTEGRITY',
      `The store's data key wrapped for ${this.recipient} does not unwrap with that Key Vault key: the recipient entry was altered or belongs to another key.`,
      {
        ref: this.recipient,
        cause,
        suggestions: [
          'Open the store with another recipient and add the key again (secrets key remove, then key add).',
        ],
      },
    )
  }

  private error(error: unknown, op: 'wrap' | 'unwrap'): SecretsError {
    const e = error as {statusCode?: number; name?: string; message?: string}
    // Key Vault answers 400 (BadParameter) to a ciphertext its key cannot decrypt.
    if (op === 'unwrap' && e?.statusCode === 400) return this.integrity(error)
    // The SDK checks the key's own attributes (expiry, not-before, allowed operations) before calling.
    if (
      e?.statusCode === undefined &&
      /can't be used before|expired at|is not supported on key/.test(e?.message ?? '')
    ) {
      const why = /expired at/.test(e.message!)
        ? 'has expired'
        : /before/.test(e.message!)
          ? 'is not valid yet (not-before)'
          : `does not allow ${op === 'wrap' ? 'wrapKey' : 'unwrapKey'} (its key_ops)`
      return new SecretsError(
        'PERMISSION_DENIED',
        `The Key Vault key "${this.keyName}" in vault ${this.vaultUrl} ${why}, so it cannot ${op} the store's data key.`,
        {
          ref: this.recipient,
          cause: error,
          suggestions: [
            "Fix the key's attributes (`az keyvault key set-attributes`), or open the store with another recipient.",
          ],
        },
      )
    }
    return azureError(error, this.context(op))
  }
}

/**
 * The settings the key recipient signs in with: those of the project's Azure provider (the one named
 * `azure`, else the first of type azure) in the secrets.yaml found from here, so `auth`, `tenantId`,
 * `clientId`, `authorityHost`, `vaults:` and `disableChallengeResourceVerification` mean the same for both.
 * Without a secrets.yaml or an Azure provider: DefaultAzureCredential and the AZURE_* variables.
 */
export function settingsFor(env: NodeJS.ProcessEnv): {alias: string; settings: AzureSettings} {
  let providers
  try {
    providers = [...loadConfig({cwd: process.cwd(), env}).providers.values()]
  } catch (error) {
    if (error instanceof SecretsError && error.code === 'CONFIG_NOT_FOUND') return {alias: 'azurekv', settings: {}}
    throw error
  }
  const azure = providers.filter((p) => p.type === 'azure')
  const chosen = azure.find((p) => p.alias === 'azure') ?? azure[0]
  return chosen === undefined
    ? {alias: 'azurekv', settings: {}}
    : {alias: chosen.alias, settings: chosen.settings as AzureSettings}
}

export async function createKeyWrapper(recipient: string, env: NodeJS.ProcessEnv): Promise<KeyWrapper> {
  const {alias, settings} = settingsFor(env)
  return new AzureKeyWrapper(recipient, env, settings, alias)
}
