import {currentActor} from '../../core/actor.js'
import type {ProjectConfig} from '../../core/config/types.js'
import {nonInteractive} from '../../core/interaction.js'
import {SecretsError} from '../../errors.js'
import type {KeyWrapper} from '../types.js'
import {VaultProvider} from './provider.js'

const PREFIX = 'vault-transit://'

/**
 * Vault transit as a recipient of the local store's data key: `vault-transit://<mount>/<key>`. The data
 * key is sent to `<mount>/encrypt/<key>` once, when the recipient is added, and the `vault:v1:...`
 * ciphertext is kept in the store; opening the store sends it to `<mount>/decrypt/<key>`. Vault's address,
 * TLS files and credentials come from the standard VAULT_* variables (token: VAULT_TOKEN or
 * ~/.vault-token; AppRole when VAULT_ROLE_ID is set, its token revoked after each call).
 */
export class VaultTransitWrapper implements KeyWrapper {
  readonly mount: string
  readonly key: string

  constructor(
    readonly recipient: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    const path = recipient.slice(PREFIX.length)
    const slash = path.lastIndexOf('/')
    this.mount = path.slice(0, Math.max(0, slash))
    this.key = path.slice(slash + 1)
    if (
      !recipient.startsWith(PREFIX) ||
      slash <= 0 ||
      !/^[\w.-]+$/.test(this.key) ||
      !/^[\w.-]+(\/[\w.-]+)*$/.test(this.mount)
    ) {
      throw new SecretsError(
        'USAGE',
        `${recipient} does not name a transit key: use vault-transit://<mount>/<key>, e.g. vault-transit://transit/secrets-store.`,
      )
    }
  }

  private provider(): VaultProvider {
    const ui = {...nonInteractive(), warn: (m: string) => process.stderr.write(`Warning: ${m}\n`)}
    return new VaultProvider({
      project: {dir: process.cwd()} as ProjectConfig,
      config: {
        alias: 'vault-transit',
        type: 'vault',
        settings: this.env.VAULT_ROLE_ID ? {auth: {method: 'approle'}} : {},
      },
      env: this.env,
      ui,
      actor: currentActor(this.env),
    })
  }

  private async call(op: 'encrypt' | 'decrypt', body: Record<string, string>): Promise<Record<string, unknown>> {
    const provider = this.provider()
    try {
      return await provider.transit(this.mount, op, this.key, body, this.recipient)
    } catch (error) {
      if (
        error instanceof SecretsError &&
        error.code === 'USAGE' &&
        /message authentication failed|invalid ciphertext|key version/.test(error.message)
      ) {
        throw new SecretsError(
          'INTEGRITY',
          `The store's data key wrapped for ${this.recipient} does not decrypt with that transit key: the recipient entry was altered or belongs to another key.`,
          {
            ref: this.recipient,
            suggestions: [
              'Open the store with another recipient and add the transit key again (secrets key remove, then key add).',
            ],
          },
        )
      }
      throw error
    } finally {
      await provider.close()
    }
  }

  async wrap(dataKey: Buffer): Promise<string> {
    const data = await this.call('encrypt', {plaintext: dataKey.toString('base64')})
    if (typeof data.ciphertext !== 'string')
      throw new SecretsError('UNAVAILABLE', `Vault returned no ciphertext for ${this.recipient}.`, {retryable: false})
    return data.ciphertext
  }

  async unwrap(wrapped: string): Promise<Buffer> {
    const data = await this.call('decrypt', {ciphertext: wrapped})
    if (typeof data.plaintext !== 'string')
      throw new SecretsError('UNAVAILABLE', `Vault returned no plaintext for ${this.recipient}.`, {retryable: false})
    return Buffer.from(data.plaintext, 'base64')
  }
}

export async function createKeyWrapper(recipient: string, env: NodeJS.ProcessEnv): Promise<KeyWrapper> {
  return new VaultTransitWrapper(recipient, env)
}
