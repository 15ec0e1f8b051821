import {isAbsolute, join} from 'node:path'

import {SecretsError} from '../errors.js'
import {keyServiceOf, openKeyWrapper} from '../providers/registry.js'
import type {ProjectConfig, ProviderConfig} from './config.js'
import {checkRecipient} from './identity.js'
import type {Interaction} from './interaction.js'
import {Keyring, openStore, updateStore, wrapFor, type RecipientEntry, type RecipientSpec} from './store.js'

export const DEFAULT_STORE_PATH = '.secrets/store.json'

/** The store file of a local provider: its `path:` relative to secrets.yaml, or the default. */
export function localStoreFile(project: ProjectConfig, provider: ProviderConfig): string {
  const p = typeof provider.settings.path === 'string' ? provider.settings.path : DEFAULT_STORE_PATH
  return isAbsolute(p) ? p : join(project.dir, p)
}

/** Pick a local provider by alias, or the default one (`local`, else the first of type local). */
export function pickLocalProvider(project: ProjectConfig, alias?: string): ProviderConfig {
  const locals = [...project.providers.values()].filter((p) => p.type === 'local')
  const chosen = alias === undefined ? (locals.find((p) => p.alias === 'local') ?? locals[0]) : project.providers.get(alias)
  if (chosen === undefined || chosen.type !== 'local') {
    throw new SecretsError('CONFIG_INVALID', alias === undefined
      ? `${project.file} declares no local provider.`
      : `"${alias}" is not a local provider in ${project.file}.`, {
      suggestions: [`Local providers: ${locals.map((p) => p.alias).join(', ') || 'none'}. Add \`local: {type: local, path: ${DEFAULT_STORE_PATH}}\` under providers.`],
    })
  }
  return chosen
}

/** A recipient as shown to users: never the wrapped key. */
export interface RecipientInfo {
  type: string
  recipient?: string
  label?: string
  added: string
}

const info = ({type, recipient, label, added}: RecipientEntry): RecipientInfo => ({type, ...(recipient ? {recipient} : {}), ...(label ? {label} : {}), added})

export async function listRecipients(file: string, keyring: Keyring): Promise<RecipientInfo[]> {
  const store = await openStore(file, keyring)
  return store.recipients().map(info)
}

/** Add an age recipient, a passphrase or a key service (KMS): the data key is re-wrapped, no value is re-encrypted. */
export async function addRecipient(
  file: string,
  keyring: Keyring,
  spec: RecipientSpec,
): Promise<RecipientInfo> {
  if (spec.type === 'age') await checkRecipient(spec.recipient)
  // A key-service recipient is checked (scheme known, key named well) before the store is opened.
  if (spec.type === 'service') await openKeyWrapper(spec.recipient, process.env)
  return info(await updateStore(file, keyring, (store) => store.addRecipient(spec)))
}

/**
 * Remove a recipient (by age public key or by label) and rotate the data key, so the removed party
 * cannot read anything written from now on. Remaining passphrase recipients need the passphrase.
 */
export async function removeRecipient(file: string, keyring: Keyring, ui: Interaction, which: string): Promise<{removed: RecipientInfo; remaining: RecipientInfo[]}> {
  return updateStore(file, keyring, async (store) => {
    const all = store.recipients()
    const matches = all.filter((r) => r.recipient === which || (r.recipient === undefined && r.label === which))
    if (matches.length === 0) {
      throw new SecretsError('NOT_FOUND', `${which} is not a recipient of ${file}.`, {
        suggestions: ['Run `secrets key list` to see the recipients (age public keys, and labels of passphrases).'],
      })
    }
    if (matches.length > 1) throw new SecretsError('USAGE', `${which} matches ${matches.length} recipients; remove them by age public key.`)
    const remaining = all.filter((r) => r !== matches[0])
    if (remaining.length === 0) {
      throw new SecretsError('USAGE', `Refusing to remove the last recipient of ${file}: nobody could open the store afterwards.`, {
        suggestions: ['Add the new recipient first with `secrets key add`, then remove this one.'],
      })
    }
    const mine = (await keyring.ageIdentities()).map((i) => i.recipient)
    if (!remaining.some((r) => r.type === 'scrypt' || (r.recipient !== undefined && mine.includes(r.recipient)))) {
      ui.warn(`After this change none of your own identities can open ${file}.`)
    }
    await store.rotateDataKey(remaining, async (r, key) => {
      if (r.type === 'age' && r.recipient) return wrapFor(key, {type: 'age', recipient: r.recipient})
      if (r.recipient !== undefined && keyServiceOf(r.recipient) === r.type) return wrapFor(key, {type: 'service', recipient: r.recipient})
      if (r.type === 'scrypt') {
        const passphrase = await keyring.getPassphrase(`Passphrase of recipient "${r.label ?? 'passphrase'}" (to re-wrap the new key)`)
        if (passphrase === undefined) {
          throw new SecretsError('USAGE', `The store has a passphrase recipient ("${r.label ?? 'passphrase'}"), and re-wrapping the new data key for it needs the passphrase.`, {
            suggestions: ['Set SECRETS_PASSPHRASE, or run the command on a terminal to be asked for it.'],
          })
        }
        return wrapFor(key, {type: 'scrypt', passphrase})
      }
      throw new SecretsError('UNSUPPORTED', `Cannot re-wrap the data key for a ${r.type} recipient in this version.`)
    })
    return {removed: info(matches[0]), remaining: remaining.map(info)}
  })
}
