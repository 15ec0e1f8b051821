import type {Decrypter} from 'age-encryption'

import {SecretsError} from '../../errors.js'
import {keyServiceOf, openKeyWrapper} from '../../providers/loader.js'
import {decryptX25519} from './age-x25519.js'
import {corruptStore, keyIdOf, type RecipientEntry, type StoreDoc} from './format.js'
import {ageLibrary, loadIdentities, type AgeIdentity} from './identity.js'
import type {Interaction} from '../interaction.js'

/**
 * age decryption of a small blob, read through the stream API. `Decrypter.decrypt(bytes)` collects its
 * output with `new Response(...)`, which makes Node load its whole HTTP client (about 20 ms at every
 * start); reading the stream ourselves costs nothing. Every chunk is still authenticated.
 */
async function decryptAll(d: Decrypter, data: Uint8Array): Promise<Buffer> {
  const input = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(data)
      controller.close()
    },
  })
  const reader = (await d.decrypt(input)).getReader()
  const chunks: Uint8Array[] = []
  for (;;) {
    const {done, value} = await reader.read()
    if (done) break
    chunks.push(value)
  }
  return Buffer.concat(chunks)
}

/** Passphrase work factor (log2 N of scrypt): 18 as in age; SECRETS_SCRYPT_LOG_N may lower it to >= 12 for tests. */
function scryptLogN(): number {
  const n = Number(process.env.SECRETS_SCRYPT_LOG_N)
  return Number.isInteger(n) && n >= 12 && n <= 22 ? n : 18
}

/** How many times a passphrase is asked for on a terminal: a wrong one to open a store, a weak or mistyped new one. */
export const PASSPHRASE_TRIES = 3

/** "2 tries left", "1 try left": the end of every "asked again" line. */
export function triesLeft(left: number): string {
  return `${left} ${left === 1 ? 'try' : 'tries'} left`
}

/** How a new recipient is given: an age public key, a passphrase, or a key-service URI. */
export type RecipientSpec =
  | {type: 'age'; recipient: string; label?: string}
  | {type: 'scrypt'; passphrase: string; label?: string}
  | {type: 'service'; recipient: string; label?: string}

/** Wrap a data key for one recipient. */
export async function wrapFor(dataKey: Buffer, spec: RecipientSpec): Promise<string> {
  if (spec.type === 'service') return (await openKeyWrapper(spec.recipient, process.env)).wrap(dataKey)
  const age = await ageLibrary()
  const e = new age.Encrypter()
  if (spec.type === 'age') {
    e.addRecipient(spec.recipient)
  } else {
    e.setScryptWorkFactor(scryptLogN())
    e.setPassphrase(spec.passphrase)
  }
  return Buffer.from(await e.encrypt(dataKey)).toString('base64')
}

/** The data key in a passphrase recipient's entry, or undefined when `passphrase` is not its passphrase. */
export async function unwrapWithPassphrase(r: RecipientEntry, passphrase: string): Promise<Buffer | undefined> {
  const age = await ageLibrary()
  const d = new age.Decrypter()
  d.addPassphrase(passphrase)
  try {
    return await decryptAll(d, Buffer.from(r.wrapped, 'base64'))
  } catch {
    return undefined
  }
}

/** The data key through the first age recipient this process has the identity of. */
function fromIdentity(doc: StoreDoc, file: string, identities: AgeIdentity[]): Buffer | undefined {
  for (const r of doc.recipients) {
    if (r.type !== 'age') continue
    const id = identities.find((i) => i.recipient === r.recipient)
    if (id === undefined) continue
    let dataKey: Buffer | undefined
    try {
      dataKey = decryptX25519(Buffer.from(r.wrapped, 'base64'), id.x25519)
    } catch {
      dataKey = undefined
    }
    if (dataKey === undefined)
      throw corruptStore(file, `the wrapped key for recipient ${r.recipient} does not decrypt with its identity`)
    return dataKey
  }
  return undefined
}

/**
 * Unwraps data keys with the identities and passphrase available to this process, caching them by key
 * id so a store is unwrapped once per process however many times it is opened.
 */
export class Keyring {
  private identities?: AgeIdentity[]
  private passphrase?: string
  /** Whether `passphrase` was typed at a prompt (and so may be asked for again), not SECRETS_PASSPHRASE. */
  private typed = false
  private readonly cache = new Map<string, Buffer>()
  /** Stores a typed passphrase failed to open after every try: opened again, they fail without asking again. */
  private readonly refused = new Map<string, SecretsError>()

  constructor(
    readonly env: NodeJS.ProcessEnv,
    private readonly ui: Interaction,
  ) {}

  async ageIdentities(): Promise<AgeIdentity[]> {
    this.identities ??= await loadIdentities(this.env)
    return this.identities
  }

  /** The passphrase this process already has (SECRETS_PASSPHRASE, or one typed earlier), without asking. */
  knownPassphrase(): string | undefined {
    return this.passphrase ?? (this.env.SECRETS_PASSPHRASE || undefined)
  }

  /** The passphrase from SECRETS_PASSPHRASE, else a hidden prompt on a TTY, else undefined. */
  async getPassphrase(prompt: string, why?: string): Promise<string | undefined> {
    if (this.passphrase !== undefined) return this.passphrase
    this.typed = !this.env.SECRETS_PASSPHRASE
    if (this.env.SECRETS_PASSPHRASE) this.passphrase = this.env.SECRETS_PASSPHRASE
    else if (this.ui.interactive) this.passphrase = await this.ui.password(prompt, why)
    return this.passphrase
  }

  /** The data key of a store: age identities first, then key services, then a passphrase. */
  async unwrap(doc: StoreDoc, file: string): Promise<Buffer> {
    const cached = this.cache.get(doc.keyId)
    if (cached) return cached
    const refused = this.refused.get(doc.keyId)
    if (refused) throw refused
    const identities = await this.ageIdentities()
    let dataKey = fromIdentity(doc, file, identities)
    let serviceError: unknown
    if (dataKey === undefined) ({dataKey, serviceError} = await this.fromKeyService(doc))
    if (dataKey === undefined && (serviceError === undefined || this.env.SECRETS_PASSPHRASE || this.ui.interactive)) {
      dataKey = await this.fromPassphrase(doc, file, identities)
    }
    if (dataKey === undefined && serviceError !== undefined) {
      // With no age identity at all (CI with only KMS), the key service's own error says what to fix,
      // unless it found no credentials of its own either: then the missing identity is the story.
      const noCredentials = serviceError instanceof SecretsError && serviceError.code === 'IDENTITY_MISSING'
      if (identities.length === 0 && !noCredentials) throw serviceError
      const e = this.noKey(doc, file, identities)
      const why = serviceError instanceof Error ? serviceError.message.split('\n')[0] : String(serviceError)
      throw new SecretsError(e.code, e.message, {
        suggestions: [...e.suggestions, `The key service recipient failed too: ${why}`],
        cause: serviceError,
      })
    }
    if (dataKey === undefined) throw this.noKey(doc, file, identities)
    if (dataKey.length !== 32 || keyIdOf(dataKey) !== doc.keyId)
      throw corruptStore(file, 'the data key does not match the store')
    this.cache.set(doc.keyId, dataKey)
    return dataKey
  }

  /** Key services (KMS): no prompt, but a network call with the service's own credentials. */
  private async fromKeyService(doc: StoreDoc): Promise<{dataKey?: Buffer; serviceError?: unknown}> {
    let serviceError: unknown
    for (const r of doc.recipients) {
      if (keyServiceOf(r.recipient) === undefined || r.type !== keyServiceOf(r.recipient)) continue
      try {
        return {dataKey: await (await openKeyWrapper(r.recipient!, this.env)).unwrap(r.wrapped)}
      } catch (error) {
        serviceError ??= error
      }
    }
    return {serviceError}
  }

  /**
   * The passphrase recipients, when there are any and a passphrase is at hand; DECRYPT_FAILED when it opens
   * none. A passphrase typed on a terminal is asked again, up to PASSPHRASE_TRIES times in all.
   */
  private async fromPassphrase(doc: StoreDoc, file: string, identities: AgeIdentity[]): Promise<Buffer | undefined> {
    const scrypt = doc.recipients.filter((r) => r.type === 'scrypt')
    if (scrypt.length === 0) return undefined
    let again: string | undefined
    for (let attempt = 1; ; attempt++) {
      const passphrase = await this.getPassphrase(`Passphrase for ${file}`, again)
      if (passphrase === undefined) return undefined
      for (const r of scrypt) {
        const dataKey = await this.ui.progress('Deriving key from passphrase', () =>
          unwrapWithPassphrase(r, passphrase),
        )
        if (dataKey !== undefined) return dataKey // else try the next passphrase recipient
      }
      if (!this.typed) throw this.wrongPassphrase(file, identities, 0)
      if (attempt >= PASSPHRASE_TRIES) {
        const error = this.wrongPassphrase(file, identities, attempt)
        this.refused.set(doc.keyId, error)
        this.passphrase = undefined
        throw error
      }
      this.passphrase = undefined
      const left = PASSPHRASE_TRIES - attempt
      again = `That passphrase does not open ${file}. Try again (${triesLeft(left)}).`
    }
  }

  private wrongPassphrase(file: string, identities: AgeIdentity[], tries: number): SecretsError {
    const mine = identities.map((i) => i.recipient)
    return new SecretsError(
      'DECRYPT_FAILED',
      `The passphrase does not open the store ${file}${tries > 0 ? ` (${tries} tries)` : ''}.`,
      {
        suggestions: [
          'Check SECRETS_PASSPHRASE or retype the passphrase; a holder of a key can add you with `secrets key add`.',
          ...(mine.length > 0 ? [`Your identity (${mine.join(', ')}) is not a recipient of this store either.`] : []),
        ],
      },
    )
  }

  private noKey(doc: StoreDoc, file: string, identities: AgeIdentity[]): SecretsError {
    const listed = doc.recipients
      .map((r) =>
        r.type === 'age' || keyServiceOf(r.recipient) !== undefined
          ? r.recipient
          : `${r.type}${r.label ? ` (${r.label})` : ''}`,
      )
      .join(', ')
    if (identities.length === 0) {
      return new SecretsError(
        'IDENTITY_MISSING',
        `No identity is available to open the store ${file} (it is encrypted to: ${listed}).`,
        {
          suggestions: [
            'Set SECRETS_AGE_KEY (the key itself, for CI) or SECRETS_IDENTITY (a key file), or run `secrets init` to create your default identity.',
            ...(doc.recipients.some((r) => r.type === 'scrypt')
              ? ['Or set SECRETS_PASSPHRASE for the store passphrase.']
              : []),
          ],
        },
      )
    }
    const mine = identities.map((i) => `${i.recipient} (from ${i.source})`).join(', ')
    return new SecretsError(
      'DECRYPT_FAILED',
      `Your identity cannot open the store ${file}: you have ${mine}, but the store is encrypted to: ${listed}.`,
      {
        suggestions: [
          `Ask someone who can open it to run \`secrets key add ${identities[0].recipient}\`, or use the right identity (SECRETS_IDENTITY / SECRETS_AGE_KEY).`,
        ],
      },
    )
  }
}
