import {SecretsError} from '../../errors.js'
import {openKeyWrapper} from '../../providers/loader.js'
import {recipientId, recipientInfo, type RecipientEntry, type RecipientInfo} from './format.js'
import {trustedKey} from './continuity.js'
import {checkRecipient} from './identity.js'
import type {Interaction} from '../interaction.js'
import type {Keyring, RecipientSpec} from './keyring.js'
import {openStore, updateStore} from './open-store.js'
import {rekeyStore, type RekeyProgress} from './rekey.js'

export async function listRecipients(file: string, keyring: Keyring): Promise<RecipientInfo[]> {
  const store = await openStore(file, keyring)
  return store.recipients().map(recipientInfo)
}

/** Add an age recipient, a passphrase or a key service (KMS): the data key is re-wrapped, no value is re-encrypted. */
export async function addRecipient(file: string, keyring: Keyring, spec: RecipientSpec): Promise<RecipientInfo> {
  if (spec.type === 'age') await checkRecipient(spec.recipient)
  // A key-service recipient is checked (scheme known, key named well) before the store is opened.
  if (spec.type === 'service') await openKeyWrapper(spec.recipient, process.env)
  return recipientInfo(await updateStore(file, keyring, (store) => store.addRecipient(spec)))
}

/**
 * Remove a recipient (by age public key or by label) and rekey the store, so the removed party cannot
 * read anything written from now on. Remaining passphrase recipients need their passphrase.
 */
export async function removeRecipient(
  file: string,
  keyring: Keyring,
  ui: Interaction,
  which: string,
  onProgress?: (p: RekeyProgress) => void,
): Promise<{removed: RecipientInfo; remaining: RecipientInfo[]}> {
  let removed: RecipientEntry | undefined
  const result = await rekeyStore(file, keyring, ui, {
    onProgress,
    async keep(all) {
      // By public key or URI first, then by label (any type), then by the id `key list` shows.
      const byKey = all.filter((r) => r.recipient === which)
      const byLabel = all.filter((r) => r.label === which)
      const matches =
        byKey.length > 0 ? byKey : byLabel.length > 0 ? byLabel : all.filter((r) => recipientId(r) === which)
      if (matches.length === 0) {
        throw new SecretsError('NOT_FOUND', `${which} is not a recipient of ${file}.`, {
          suggestions: ['Run `secrets key list` to see the recipients (age public keys, and labels of passphrases).'],
        })
      }
      if (matches.length > 1)
        throw new SecretsError(
          'USAGE',
          `${which} matches ${matches.length} recipients of ${file}; nothing was changed.`,
          {
            suggestions: [
              `Remove one by the RECIPIENT column of \`secrets key list\`: ${matches.map((r) => recipientId(r)).join(', ')}.`,
            ],
          },
        )
      removed = matches[0]
      const remaining = all.filter((r) => r !== removed)
      if (remaining.length === 0) {
        throw new SecretsError(
          'USAGE',
          `Refusing to remove the last recipient of ${file}: nobody could open the store afterwards.`,
          {
            suggestions: ['Add the new recipient first with `secrets key add`, then remove this one.'],
          },
        )
      }
      const mine = (await keyring.ageIdentities()).map((i) => i.recipient)
      if (!remaining.some((r) => r.type === 'scrypt' || (r.recipient !== undefined && mine.includes(r.recipient)))) {
        ui.warn(`After this change none of your own identities can open ${file}.`)
      }
      return remaining
    },
  })
  return {removed: recipientInfo(removed!), remaining: result.recipients}
}

/** What `key trust` saw: the data key remembered before and the store's current one (ids, never keys). */
export interface TrustResult {
  store: string
  keyId: string
  /** The key id remembered before, if any. */
  previousKeyId?: string
  /** Whether the remembered key changed. */
  changed: boolean
  recipients: RecipientInfo[]
}

/**
 * Accept the store's current data key as the one this user trusts (after a KEY_CHANGED the user
 * reviewed). `confirm` sees what would change and throws to decline; nothing is remembered before.
 */
export async function trustStore(
  file: string,
  keyring: Keyring,
  confirm: (r: TrustResult) => Promise<void>,
): Promise<TrustResult> {
  const store = await openStore(file, keyring, {unchecked: true})
  const known = trustedKey(file, keyring.env)
  const result: TrustResult = {
    store: file,
    keyId: store.keyId,
    ...(known === undefined ? {} : {previousKeyId: known.keyId}),
    changed: known?.keyId !== store.keyId,
    recipients: store.recipients().map(recipientInfo),
  }
  if (result.changed) await confirm(result)
  await store.remember(keyring.env)
  return result
}
