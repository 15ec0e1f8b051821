import {isAbsolute, join} from 'node:path'

import {SecretsError} from '../../errors.js'
import {keyServiceOf, openKeyWrapper} from '../../providers/loader.js'
import type {ProjectConfig, ProviderConfig} from '../config/config.js'
import {checkRecipient} from './identity.js'
import type {Interaction} from '../interaction.js'
import {removeStaleTemps, writeFileAtomic} from '../lib/atomic-write.js'
import {withLock} from '../lib/lock.js'
import {
  canonicalJson,
  checkRekeyed,
  type Keyring,
  keyIdOf,
  newDataKey,
  openStore,
  unwrapWithPassphrase,
  updateStore,
  wrapFor,
  type RecipientEntry,
  type RecipientSpec,
} from './store.js'
import {checkpoint} from '../test-hooks.js'

export const DEFAULT_STORE_PATH = '.secrets/store.json'

/** The store file of a local provider: its `path:` relative to secrets.yaml, or the default. */
export function localStoreFile(project: ProjectConfig, provider: ProviderConfig): string {
  const p = typeof provider.settings.path === 'string' ? provider.settings.path : DEFAULT_STORE_PATH
  return isAbsolute(p) ? p : join(project.dir, p)
}

/** Pick a local provider by alias, or the default one (`local`, else the first of type local). */
export function pickLocalProvider(project: ProjectConfig, alias?: string): ProviderConfig {
  const locals = [...project.providers.values()].filter((p) => p.type === 'local')
  const chosen =
    alias === undefined ? (locals.find((p) => p.alias === 'local') ?? locals[0]) : project.providers.get(alias)
  if (chosen === undefined || chosen.type !== 'local') {
    throw new SecretsError(
      'CONFIG_INVALID',
      alias === undefined
        ? `${project.file} declares no local provider.`
        : `"${alias}" is not a local provider in ${project.file}.`,
      {
        suggestions: [
          `Local providers: ${locals.map((p) => p.alias).join(', ') || 'none'}. Add \`local: {type: local, path: ${DEFAULT_STORE_PATH}}\` under providers.`,
        ],
      },
    )
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

const info = ({type, recipient, label, added}: RecipientEntry): RecipientInfo => ({
  type,
  ...(recipient ? {recipient} : {}),
  ...(label ? {label} : {}),
  added,
})

export async function listRecipients(file: string, keyring: Keyring): Promise<RecipientInfo[]> {
  const store = await openStore(file, keyring)
  return store.recipients().map(info)
}

/** Add an age recipient, a passphrase or a key service (KMS): the data key is re-wrapped, no value is re-encrypted. */
export async function addRecipient(file: string, keyring: Keyring, spec: RecipientSpec): Promise<RecipientInfo> {
  if (spec.type === 'age') await checkRecipient(spec.recipient)
  // A key-service recipient is checked (scheme known, key named well) before the store is opened.
  if (spec.type === 'service') await openKeyWrapper(spec.recipient, process.env)
  return info(await updateStore(file, keyring, (store) => store.addRecipient(spec)))
}

/**
 * Remove a recipient (by age public key or by label) and rotate the data key, so the removed party
 * cannot read anything written from now on. Remaining passphrase recipients need their passphrase.
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
      const matches = all.filter((r) => r.recipient === which || (r.recipient === undefined && r.label === which))
      if (matches.length === 0) {
        throw new SecretsError('NOT_FOUND', `${which} is not a recipient of ${file}.`, {
          suggestions: ['Run `secrets key list` to see the recipients (age public keys, and labels of passphrases).'],
        })
      }
      if (matches.length > 1)
        throw new SecretsError('USAGE', `${which} matches ${matches.length} recipients; remove them by age public key.`)
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
  return {removed: info(removed!), remaining: result.recipients}
}

/** What a data-key rotation did: key ids and counts, never a key or a value. */
export interface RekeyResult {
  store: string
  /** The `keyId` of the store before and after. */
  oldKeyId: string
  keyId: string
  /** The recipients the new data key is wrapped for. */
  recipients: RecipientInfo[]
  secrets: number
  versions: number
}

/** Progress of a rotation, for a status line on a terminal. */
export type RekeyProgress =
  | {phase: 'wrap'; done: number; total: number; recipient: string}
  | {phase: 'reencrypt'; done: number; total: number}
  | {phase: 'write'}

export interface RekeyOptions {
  /** The recipients to wrap the new key for, picked from the current ones (default: all of them). */
  keep?: (all: RecipientEntry[]) => RecipientEntry[] | Promise<RecipientEntry[]>
  onProgress?: (p: RekeyProgress) => void
}

/** How a recipient is named to users: its public key or URI, else its label. */
const nameOf = (r: RecipientEntry): string => r.recipient ?? `${r.type} "${r.label ?? r.type}"`

/**
 * Replace the data key of a local store (`key rotate`, and `key remove` with fewer recipients): a new
 * random key is wrapped for every recipient, then every version of every value is re-encrypted under
 * it, and the store is replaced by one atomic rename.
 *
 * The order is what makes an interruption harmless: the new wrapped keys and the values sealed under
 * the new key live in the same file, which is complete and fsynced before it replaces the old one, so
 * no state on disk ever holds values that its own wrapped keys cannot open. Killed before the rename,
 * the old store is in place (plus, at worst, a temp file the next writer removes); killed after it,
 * the new one. Both open with every recipient's own key.
 *
 * The slow and interactive parts (passphrases, key services, scrypt) run before the lock is taken; under
 * the lock, the recipients must still be exactly those wrapped for, else CONFLICT and nothing changes.
 */
export async function rekeyStore(
  file: string,
  keyring: Keyring,
  ui: Interaction,
  options: RekeyOptions = {},
): Promise<RekeyResult> {
  const progress = options.onProgress ?? (() => undefined)
  const before = await openStore(file, keyring)
  const all = before.recipients()
  const kept = options.keep ? await options.keep(all) : all
  checkpoint('opened')

  // Everything that may fail for a user-fixable reason fails here, before any work: unknown types first,
  // then the passphrases (asked for, or from SECRETS_PASSPHRASE, and checked against their own entry).
  for (const r of kept) {
    if (r.type === 'age' || r.type === 'scrypt' || (r.recipient !== undefined && keyServiceOf(r.recipient) === r.type))
      continue
    throw new SecretsError(
      'UNSUPPORTED',
      `The store ${file} has a recipient of type "${r.type}" (${nameOf(r)}), and this version of secrets cannot wrap a new data key for it. Nothing was changed.`,
      {
        suggestions: [
          'Upgrade secrets to a version that knows this recipient type, or remove that recipient first with `secrets key remove`.',
        ],
      },
    )
  }
  const passphrases = new Map<RecipientEntry, string>()
  for (const r of kept.filter((x) => x.type === 'scrypt')) {
    passphrases.set(r, await passphraseOf(r, before.keyId, file, keyring, ui))
  }

  const {key, keyId} = newDataKey()
  const wrapped: RecipientEntry[] = []
  for (const [i, r] of kept.entries()) {
    progress({phase: 'wrap', done: i, total: kept.length, recipient: nameOf(r)})
    const spec: RecipientSpec =
      r.type === 'age'
        ? {type: 'age', recipient: r.recipient!}
        : r.type === 'scrypt'
          ? {type: 'scrypt', passphrase: passphrases.get(r)!}
          : {type: 'service', recipient: r.recipient!}

    wrapped.push({...r, wrapped: await wrapFor(key, spec)})
    checkpoint(`wrapped:${i + 1}`)
  }

  return withLock(file, async () => {
    checkpoint('locked')
    removeStaleTemps(file)
    const store = await openStore(file, keyring)
    if (canonicalJson(store.recipients()) !== canonicalJson(all)) {
      throw new SecretsError(
        'CONFLICT',
        `The recipients of ${file} changed while its data key was being rotated (someone ran \`secrets key\` at the same time). Nothing was changed.`,
        {
          suggestions: ['Run the command again.'],
        },
      )
    }
    const check = store.rekey(key, wrapped, (name, done, total) => {
      progress({phase: 'reencrypt', done, total})
      checkpoint(`reencrypted:${name}`)
    })
    const text = store.serialize()
    checkRekeyed(text, file, key, check)
    checkpoint('checked')
    progress({phase: 'write'})
    writeFileAtomic(file, text, 0o600, (step) => checkpoint(step))
    checkpoint('written')
    return {
      store: file,
      oldKeyId: before.keyId,
      keyId,
      recipients: wrapped.map(info),
      secrets: store.names().length,
      versions: check.versions,
    }
  })
}

/**
 * The passphrase of one passphrase recipient, proven by opening its current entry: a wrong passphrase
 * would otherwise wrap the new key under a passphrase nobody knows and lock that recipient out.
 */
async function passphraseOf(
  r: RecipientEntry,
  keyId: string,
  file: string,
  keyring: Keyring,
  ui: Interaction,
): Promise<string> {
  const label = r.label ?? 'passphrase'
  const opens = async (p: string) => {
    const k = await ui.progress(`Checking the passphrase of "${label}"`, () => unwrapWithPassphrase(r, p))
    return k !== undefined && keyIdOf(k) === keyId
  }
  const known = keyring.knownPassphrase()
  if (known !== undefined && (await opens(known))) return known
  const removeFirst = `Or remove that recipient first (\`secrets key remove ${label}\`) and add a passphrase again afterwards (\`secrets key add --passphrase\`).`
  if (ui.interactive) {
    const typed = await ui.password(`Passphrase of recipient "${label}" (to wrap the new data key for it)`)
    if (await opens(typed)) return typed
    throw new SecretsError(
      'DECRYPT_FAILED',
      `That is not the passphrase of recipient "${label}" of ${file}. Nothing was changed.`,
      {
        suggestions: ["Run the command again and type that recipient's passphrase.", removeFirst],
      },
    )
  }
  if (known !== undefined) {
    throw new SecretsError(
      'DECRYPT_FAILED',
      `SECRETS_PASSPHRASE does not open the passphrase recipient "${label}" of ${file}, so the new data key cannot be wrapped for it. Nothing was changed.`,
      {
        suggestions: [
          `Set SECRETS_PASSPHRASE to the passphrase of "${label}", or run on a terminal to be asked for each passphrase.`,
          removeFirst,
        ],
      },
    )
  }
  throw new SecretsError(
    'USAGE',
    `The store ${file} has a passphrase recipient "${label}": wrapping the new data key for it needs its passphrase, and there is no terminal to ask on (or CI is set). Nothing was changed.`,
    {
      suggestions: [`Set SECRETS_PASSPHRASE to the passphrase of "${label}".`, removeFirst],
    },
  )
}
