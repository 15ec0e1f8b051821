// Staged rotation on Key Vault: the pending value waits, enabled, in a staging secret `<name>-pending`
// (Key Vault serves its newest version to every reader, and a disabled newest version makes reads fail);
// see docs/rotation.md. Also the version history and rollback, which share the same helpers.
import type {SecretClient, SecretProperties} from '@azure/keyvault-secrets'

import type {Reference} from '../../core/reference.js'
import {SecretValue} from '../../core/secret-value.js'
import {SecretsError} from '../../errors.js'
import type {VersionInfo} from '../types.js'
import {azureError, type AzureErrorContext} from './errors.js'
import {NAME_TAG, ROTATION_BASE_TAG, ROTATION_OF_TAG, ROTATION_STATE_TAG, collisionError, type Target} from './names.js'

/** What rotation needs of the Azure provider (which implements it). */
export interface AzureRotationHost {
  client(url: string): SecretClient
  target(ref: Reference): Target
  errorContext(t: Target, ref: Reference | undefined, op: AzureErrorContext['op']): AzureErrorContext
}

/** The secret a rotation works on, and its staging secret `<name>-pending`. */
function rotationTarget(
  az: AzureRotationHost,
  ref: Reference,
  verb: string,
): {t: Target; staging: string; client: SecretClient} {
  if (ref.field !== undefined || Object.keys(ref.params).length > 0) {
    throw new SecretsError('USAGE', `Cannot ${verb} ${ref.raw}: give the whole secret, without #field or ?version.`, {
      ref: ref.raw,
    })
  }
  const t = az.target(ref)
  const staging = `${t.name}-pending`
  if (staging.length > 127)
    throw new SecretsError(
      'UNSUPPORTED',
      `Cannot ${verb} ${ref.raw}: the name is too long for its staging secret ${staging} (Key Vault names have at most 127 characters).`,
      {ref: ref.raw},
    )
  return {t, staging, client: az.client(t.url)}
}

/** Every version's properties, oldest first as Key Vault lists them; [] when the secret does not exist. */
async function versionProps(client: SecretClient, name: string): Promise<SecretProperties[]> {
  const out: SecretProperties[] = []
  try {
    for await (const p of client.listPropertiesOfSecretVersions(name)) out.push(p)
  } catch (error) {
    if ((error as {statusCode?: number}).statusCode === 404) return []
    throw error
  }
  return out
}

/** The current (newest) version of a secret and its properties. */
async function currentOf(
  client: SecretClient,
  t: Target,
  ref: Reference,
): Promise<{version: string; tags?: Record<string, string>; contentType?: string}> {
  const secret = await client.getSecret(t.name)
  const p = secret.properties
  if (p.tags?.[NAME_TAG] !== undefined && t.mapped && p.tags[NAME_TAG] !== ref.path.split('/').at(-1))
    throw collisionError(t.name, [ref.raw, `${p.tags[NAME_TAG]} (which wrote it)`])
  return {version: p.version ?? '', tags: p.tags, contentType: p.contentType}
}

function conflict(ref: Reference, detail: string): SecretsError {
  return new SecretsError('CONFLICT', `${ref.raw} was changed by someone else (${detail}); nothing was changed.`, {
    ref: ref.raw,
    suggestions: ['See `secrets versions ' + ref.raw + '` and `secrets rotate --status`, then run the command again.'],
  })
}

export async function writePending(
  az: AzureRotationHost,
  ref: Reference,
  value: SecretValue,
  o: {base: string},
): Promise<{pending: string}> {
  const {t, staging, client} = rotationTarget(az, ref, 'rotate')
  const ctx = az.errorContext(t, ref, 'write')
  try {
    const current = await currentOf(client, t, ref)
    if (current.version !== o.base) throw conflict(ref, `its current version is ${current.version}, not ${o.base}`)
    const staged = await versionProps(client, staging)
    const latest = staged.at(-1)
    if (latest !== undefined && latest.tags?.[ROTATION_OF_TAG] !== t.name) {
      throw new SecretsError(
        'CONFLICT',
        `Cannot rotate ${ref.raw}: the secret ${staging}, where its pending value would wait, exists and is not a staging secret of ${t.name}.`,
        {ref: ref.raw, suggestions: [`Rename or delete ${staging}.`]},
      )
    }
    if (latest?.enabled === true && latest.tags?.[ROTATION_STATE_TAG] === 'pending') {
      throw new SecretsError(
        'CONFLICT',
        `${ref.raw} is being rotated already: version ${latest.version} of ${staging} is pending; nothing was written.`,
        {
          ref: ref.raw,
          suggestions: [
            'Wait for that rotation, or run `secrets rotate` again where it ran (it finishes or abandons it); if that run is gone (a killed CI job), `secrets rotate --abandon-pending` drops its pending version.',
          ],
        },
      )
    }
    const r = await client.setSecret(staging, value.text(), {
      tags: {
        'managed-by': 'secrets',
        [ROTATION_OF_TAG]: t.name,
        [ROTATION_STATE_TAG]: 'pending',
        [ROTATION_BASE_TAG]: o.base,
      },
    })
    return {pending: r.properties.version ?? ''}
  } catch (error) {
    throw azureError(error, ctx)
  }
}

export async function readPending(az: AzureRotationHost, ref: Reference, pending: string): Promise<SecretValue> {
  const {t, staging, client} = rotationTarget(az, ref, 'rotate')
  try {
    const s = await client.getSecret(staging, {version: pending})
    return new SecretValue(s.value ?? '')
  } catch (error) {
    throw azureError(error, az.errorContext({...t, name: staging}, ref, 'read'))
  }
}

export async function promote(
  az: AzureRotationHost,
  ref: Reference,
  o: {base: string; pending: string},
): Promise<{version: string}> {
  const {t, staging, client} = rotationTarget(az, ref, 'rotate')
  const ctx = az.errorContext(t, ref, 'write')
  try {
    // Key Vault has no conditional write: check both sides right before the one write that matters.
    const latest = (await versionProps(client, staging)).at(-1)
    if (latest?.version !== o.pending || latest.enabled !== true)
      throw conflict(ref, `another rotation replaced the pending value in ${staging}`)
    const current = await currentOf(client, t, ref)
    if (current.version !== o.base) throw conflict(ref, `its current version is ${current.version}, not ${o.base}`)
    const value = (await client.getSecret(staging, {version: o.pending})).value ?? ''
    const r = await client.setSecret(t.name, value, {
      tags: current.tags ?? {'managed-by': 'secrets'},
      ...(current.contentType === undefined ? {} : {contentType: current.contentType}),
    })
    await client.updateSecretProperties(staging, o.pending, {
      enabled: false,
      tags: {...latest.tags, [ROTATION_STATE_TAG]: 'promoted'},
    })
    return {version: r.properties.version ?? ''}
  } catch (error) {
    throw azureError(error, ctx)
  }
}

export async function discardPending(az: AzureRotationHost, ref: Reference, o: {pending?: string}): Promise<void> {
  const {t, staging, client} = rotationTarget(az, ref, 'rotate')
  try {
    const versions = await versionProps(client, staging)
    const mine = versions.filter(
      (v) =>
        v.enabled === true &&
        v.tags?.[ROTATION_OF_TAG] === t.name &&
        v.tags?.[ROTATION_STATE_TAG] === 'pending' &&
        (o.pending === undefined || v.version === o.pending),
    )
    for (const v of mine) {
      // A disabled version cannot be read, and the staging secret stays for the next rotation.

      await client.updateSecretProperties(staging, v.version!, {
        enabled: false,
        tags: {...v.tags, [ROTATION_STATE_TAG]: 'abandoned'},
      })
    }
  } catch (error) {
    throw azureError(error, az.errorContext({...t, name: staging}, ref, 'write'))
  }
}

export async function versions(az: AzureRotationHost, ref: Reference): Promise<VersionInfo[]> {
  const {t, client} = rotationTarget(az, ref, 'list the versions of')
  try {
    const props = await versionProps(client, t.name)
    if (props.length === 0)
      throw new SecretsError('NOT_FOUND', `The secret "${t.name}" in vault ${t.vault} does not exist.`, {
        ref: ref.raw,
      })
    const current = (await currentOf(client, t, ref)).version
    return props
      .map((p, i) => ({p, i}))
      .sort((a, b) => (b.p.createdOn?.getTime() ?? 0) - (a.p.createdOn?.getTime() ?? 0) || b.i - a.i)
      .map(({p}) => ({
        version: p.version ?? '',
        created: p.createdOn?.toISOString(),
        current: p.version === current,
        ...(p.enabled === false ? {labels: ['disabled']} : {}),
      }))
  } catch (error) {
    throw azureError(error, az.errorContext(t, ref, 'read'))
  }
}

export async function restoreVersion(
  az: AzureRotationHost,
  ref: Reference,
  o: {version: string; expected: string},
): Promise<{version: string}> {
  const {t, client} = rotationTarget(az, ref, 'roll back')
  try {
    const current = await currentOf(client, t, ref)
    if (current.version !== o.expected)
      throw conflict(ref, `its current version is ${current.version}, not ${o.expected}`)
    const old = await client.getSecret(t.name, {version: o.version})
    const r = await client.setSecret(t.name, old.value ?? '', {
      tags: current.tags ?? {'managed-by': 'secrets'},
      ...(old.properties.contentType === undefined ? {} : {contentType: old.properties.contentType}),
    })
    return {version: r.properties.version ?? ''}
  } catch (error) {
    throw azureError(error, az.errorContext(t, ref, 'write'))
  }
}
