import {createHash} from 'node:crypto'

import {SecretsError} from '../../errors.js'
import {keyServiceOf} from '../../providers/registry.js'
import {
  canonicalJson,
  checkMac,
  keyIdOf,
  newDataKey,
  parseStore,
  recipientInfo,
  type RecipientEntry,
  type RecipientInfo,
  type StoreDoc,
} from './format.js'
import type {Interaction} from '../interaction.js'
import {
  type Keyring,
  PASSPHRASE_TRIES,
  type RecipientSpec,
  triesLeft,
  unwrapWithPassphrase,
  wrapFor,
} from './keyring.js'
import {removeStaleTemps, writeFileAtomic} from '../lib/atomic-write.js'
import {withLock} from '../lib/lock.js'
import {openStore, writeTarget, type RekeyCheck} from './open-store.js'
import {unseal} from './seal.js'
import {checkpoint} from '../test-hooks.js'

/** What a rekey did: key ids and counts, never a key or a value. */
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

/** Progress of a rekey, for a status line on a terminal. */
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

  const target = writeTarget(file)
  return withLock(target, async () => {
    checkpoint('locked')
    removeStaleTemps(target)
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
    writeFileAtomic(target, text, 0o600, (step) => checkpoint(step))
    checkpoint('written')
    await store.remember(keyring.env)
    return {
      store: file,
      oldKeyId: before.keyId,
      keyId,
      recipients: wrapped.map(recipientInfo),
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
    let again: string | undefined
    for (let attempt = 1; attempt <= PASSPHRASE_TRIES; attempt++) {
      const typed = await ui.password(`Passphrase of recipient "${label}" (to wrap the new data key for it)`, again)
      if (await opens(typed)) return typed
      again = `That is not the passphrase of "${label}". Try again (${triesLeft(PASSPHRASE_TRIES - attempt)}).`
    }
    throw new SecretsError(
      'DECRYPT_FAILED',
      `That is not the passphrase of recipient "${label}" of ${file} (${PASSPHRASE_TRIES} tries). Nothing was changed.`,
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

/**
 * Prove that the exact text about to replace the store opens under the new key and holds every value
 * it held before, version for version, before it replaces anything: a fault in re-encryption or
 * serialisation fails here, while the old store is still in place.
 */
export function checkRekeyed(text: string, file: string, newKey: Buffer, check: RekeyCheck): void {
  const bug = (detail: string) =>
    new SecretsError(
      'INTERNAL',
      `Re-encrypting ${file} went wrong (${detail}); the store was not replaced and still opens as before.`,
    )
  let doc: StoreDoc
  try {
    doc = parseStore(text, file)
    checkMac(doc, newKey, file)
  } catch (error) {
    throw bug(error instanceof Error ? error.message : String(error))
  }
  if (doc.keyId !== check.keyId) throw bug('wrong key id')
  let seen = 0
  for (const [name, entry] of Object.entries(doc.secrets)) {
    for (const v of entry.versions) {
      let plain: Buffer
      try {
        plain = unseal(file, newKey, name, v)
      } catch {
        throw bug(`version ${v.version} of ${name} does not decrypt`)
      }
      const ok = createHash('sha256').update(plain).digest('hex') === check.digests.get(`${name}\0${v.version}`)
      plain.fill(0)
      if (!ok) throw bug(`version ${v.version} of ${name} changed`)
      seen++
    }
  }
  if (seen !== check.versions) throw bug(`${check.versions} versions became ${seen}`)
}
