// Staged rotation on KV v2 mounts: the pending value waits in a sibling secret `<path>.pending` (KV v2
// serves its newest version to every reader, so a new version there would be live before it is verified).
import type {Reference} from '../../core/reference.js'
import {SecretValue} from '../../core/secret-value.js'
import {SecretsError} from '../../errors.js'
import {fieldMap, type Location} from './location.js'

/** The KV operations staged rotation is built from (the Vault provider implements them). */
export interface VaultKv {
  /** The KV v2 location of a whole secret; UNSUPPORTED on a KV v1 mount. */
  rotationLocation(ref: Reference, verb: string): Promise<Location>
  /** The current version at a location (0: none). */
  currentForWrite(loc: Location, ref: string): Promise<{version: number}>
  /** Check-and-set write; resolves with the new version. */
  writeCas(loc: Location, data: Record<string, unknown>, cas: number, ref: string): Promise<number>
  /** The map of one version; NOT_FOUND when it is gone. */
  mapAt(loc: Location, version: number, ref: string): Promise<Record<string, unknown>>
  deleteStaging(stage: Location, ref: string): Promise<void>
}

/** Where a rotation's pending value waits: the sibling secret `<path>.pending` in the same mount. */
function staging(loc: Location): Location {
  return {...loc, rest: `${loc.rest}.pending`}
}

export async function writePending(
  kv: VaultKv,
  ref: Reference,
  value: SecretValue,
  o: {base: string},
): Promise<{pending: string}> {
  const loc = await kv.rotationLocation(ref, 'rotate')
  const data = fieldMap(value)
  if (data === undefined) {
    throw new SecretsError(
      'USAGE',
      `Cannot rotate ${ref.raw}: a Vault secret is a map of fields; rotate one field (${ref.raw}#<field>) or give a JSON object.`,
      {ref: ref.raw},
    )
  }
  const current = await kv.currentForWrite(loc, ref.raw)
  if (String(current.version) !== o.base) {
    throw new SecretsError(
      'CONFLICT',
      `${ref.raw} was changed by someone else (version ${current.version}, not ${o.base}); nothing was written.`,
      {ref: ref.raw, suggestions: ['Run the rotation again.']},
    )
  }
  const stage = staging(loc)
  const staged = await kv.currentForWrite(stage, ref.raw)
  if (staged.version > 0) {
    throw new SecretsError(
      'CONFLICT',
      `${ref.raw} has a pending value from another rotation (${stage.mount}/${stage.rest}); nothing was written.`,
      {
        ref: ref.raw,
        suggestions: [
          'Wait for that rotation, or run `secrets rotate` again where it ran (it finishes or abandons it); if that run is gone (a killed CI job), `secrets rotate --abandon-pending` drops its pending version.',
        ],
      },
    )
  }
  // cas 0: of two rotations starting together, only the first creates the staging secret.
  return {pending: String(await kv.writeCas(stage, data, 0, ref.raw))}
}

export async function readPending(kv: VaultKv, ref: Reference, pending: string): Promise<SecretValue> {
  const loc = await kv.rotationLocation(ref, 'read the pending value of')
  return new SecretValue(JSON.stringify(await kv.mapAt(staging(loc), Number(pending), ref.raw)))
}

export async function promote(
  kv: VaultKv,
  ref: Reference,
  o: {base: string; pending: string},
): Promise<{version: string}> {
  const loc = await kv.rotationLocation(ref, 'rotate')
  const stage = staging(loc)
  const data = await kv.mapAt(stage, Number(o.pending), ref.raw).catch((error: unknown) => {
    if (error instanceof SecretsError && error.code === 'NOT_FOUND') {
      throw new SecretsError(
        'CONFLICT',
        `${ref.raw} has no pending value ${o.pending} any more (${stage.mount}/${stage.rest}): another run promoted or dropped it; nothing was changed.`,
        {ref: ref.raw},
      )
    }
    throw error
  })
  const version = await kv.writeCas(loc, data, Number(o.base), ref.raw)
  await kv.deleteStaging(stage, ref.raw)
  return {version: String(version)}
}

export async function discardPending(kv: VaultKv, ref: Reference, {pending}: {pending?: string}): Promise<void> {
  const loc = await kv.rotationLocation(ref, 'rotate')
  const stage = staging(loc)
  if (pending !== undefined) {
    const staged = await kv.currentForWrite(stage, ref.raw)
    if (staged.version === 0) return
    // Another rotation's staging secret is not ours to drop.
    if (String(staged.version) !== pending) return
  }
  await kv.deleteStaging(stage, ref.raw)
}
