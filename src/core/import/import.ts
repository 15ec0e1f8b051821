import {basename} from 'node:path'

import {SecretsError} from '../../errors.js'
import {requireCapability} from '../../providers/capabilities.js'
import {SecretValue} from '../secret-value.js'
import type {Session} from '../session.js'
import {checkTarget, destinationOf, fingerprinter, type SyncItem, type SyncPlan} from '../sync/sync.js'
import {decryptDotenvx, isDotenvxMetadata} from './dotenvx.js'
import {parseImport, readImportFile, type ImportFormat} from './parse.js'

export interface ImportOptions {
  file: string
  format?: ImportFormat
  /** `sync --to`'s addressing: an alias (`local`: `local://NAME`) or a prefix; default the default local store. */
  to?: string
}

export interface ImportPlan extends SyncPlan {
  format: ImportFormat
  /** Names left out: empty values (a store holds none) and dotenvx's own public-key entries. */
  skipped: {empty: string[]; metadata: string[]}
  /** How many values were dotenvx-encrypted in the file. */
  decrypted: number
}

/** Secrets the import would overwrite are refused by name unless `--overwrite` (after the diff is shown). */
export function refuseOverwrites(plan: ImportPlan, overwrite: boolean | undefined): void {
  const taken = plan.items.filter((i) => i.status === 'change')
  if (taken.length > 0 && !overwrite)
    throw new SecretsError(
      'USAGE',
      `${taken.length === 1 ? 'A secret exists' : 'Secrets exist'} already with another value: ${taken.map((i) => `${i.name} (${i.to})`).join(', ')}; nothing was imported.`,
      {suggestions: ['Pass --overwrite to write a new version of each, or --dry-run to see the whole diff.']},
    )
}

/**
 * Read the file and compare each of its names with the destination: `add` (new), `change` (exists with
 * another value: needs `overwrite`), `same`. Fails before any write: the whole file is checked, every
 * destination read (refuseOverwrites then refuses existing secrets by name unless `--overwrite`).
 */
export async function planImport(session: Session, o: ImportOptions): Promise<ImportPlan> {
  const to = o.to ?? session.defaultLocalAlias()
  const toAlias = checkTarget(session, to, '--to')
  const parsed = await parseImport(o.file, o.format, readImportFile(o.file))
  const metadata = parsed.entries.filter((e) => isDotenvxMetadata(e.name)).map((e) => e.name)
  const entries = await decryptDotenvx(
    o.file,
    parsed.entries.filter((e) => !isDotenvxMetadata(e.name)),
    session.env,
  )
  if (entries.length === 0)
    throw new SecretsError('NOT_FOUND', `${o.file} holds no names with values; nothing was imported.`, {
      suggestions: [`Check the file and its format (${parsed.format}; pass --format to choose another).`],
    })
  const destination = await session.provider(toAlias)
  requireCapability(
    destination,
    'write',
    `Provider ${toAlias} (${destination.type}) cannot write secrets, so nothing can be imported into it.`,
  )
  const destinations = new Map(entries.map((e) => [e.name, session.toReference(destinationOf(to, e.name))]))
  const current = await session.resolve(destinations, {allowMissing: true})
  const existing = new Map(current.resolved.map((r) => [r.name, r]))
  const fp = fingerprinter()
  const values = new Map<string, SecretValue>()
  const from = basename(o.file)
  const items = entries.map((e): SyncItem => {
    const value = new SecretValue(Buffer.from(e.value, 'utf8'))
    values.set(e.name, value)
    const d = existing.get(e.name)
    const status = d === undefined ? 'add' : fp(d.value) === fp(value) ? 'same' : 'change'
    return {name: e.name, from, to: destinations.get(e.name)!.raw, toVersion: d?.version, status}
  })
  items.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  return {
    from: o.file,
    to,
    items,
    values,
    format: parsed.format,
    skipped: {empty: parsed.empty, metadata},
    decrypted: entries.filter((e) => e.encrypted).length,
  }
}
