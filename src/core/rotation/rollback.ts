import {SecretsError} from '../../errors.js'
import {requireCapability} from '../../providers/capabilities.js'
import type {VersionInfo} from '../../providers/types.js'
import {lookupName, withNamed, type NamedSecret} from '../names.js'
import type {Reference} from '../reference.js'
import type {Session} from '../session.js'
import {wholeSecret} from './targets.js'

/** `secrets versions`: the history of one secret, newest first, never values. */
export async function listVersions(
  session: Session,
  input: string,
): Promise<{ref: Reference; versions: VersionInfo[]}> {
  const named = await lookupName(session, input)
  return withNamed(session, named, async (ref) => {
    const provider = await session.provider(ref.alias)
    requireCapability(provider, 'versions', `Provider ${provider.alias} (${provider.type}) keeps no versions.`, {
      ref: ref.raw,
    })
    return {ref, versions: await provider.versions(wholeSecret(ref))}
  })
}

/** `secrets rollback`: make an earlier version current again (default: the one before current). */
export async function rollback(
  session: Session,
  input: string | NamedSecret,
  to?: string,
): Promise<{ref: string; from: string; to: string; version: string}> {
  const named = typeof input === 'string' ? await lookupName(session, input) : input
  return withNamed(session, named, (ref) => rollbackRef(session, ref, to))
}

async function rollbackRef(
  session: Session,
  ref: Reference,
  to: string | undefined,
): Promise<{ref: string; from: string; to: string; version: string}> {
  const whole = wholeSecret(ref)
  const provider = await session.provider(ref.alias)
  requireCapability(
    provider,
    'rollback',
    `Provider ${provider.alias} (${provider.type}) keeps no versions, so there is nothing to roll back to.`,
    {ref: ref.raw},
  )
  if (ref.field !== undefined || Object.keys(ref.params).length > 0) {
    throw new SecretsError(
      'USAGE',
      `Cannot roll back ${ref.raw}: a rollback restores a whole secret; give ${whole.raw} and --to VERSION.`,
      {ref: ref.raw},
    )
  }
  const versions = await provider.versions(whole)
  const current = versions.find((v) => v.current)
  if (current === undefined) throw new SecretsError('NOT_FOUND', `${ref.raw} has no current version.`, {ref: ref.raw})
  const usable = versions.filter(
    (v) =>
      !v.current &&
      !v.pending &&
      !(v.labels ?? []).some((l) => l === 'deleted' || l === 'destroyed' || l === 'disabled'),
  )
  const target =
    to === undefined
      ? (usable.find((v) => v.created === undefined || current.created === undefined || v.created <= current.created) ??
        usable[0])
      : versions.find((v) => v.version === to)
  if (target === undefined) {
    throw new SecretsError(
      'NOT_FOUND',
      to === undefined
        ? `${ref.raw} has no earlier version to roll back to.`
        : `${ref.raw} has no version ${to} (versions: ${versions.map((v) => v.version).join(', ')}).`,
      {
        ref: ref.raw,
        suggestions: [`See \`secrets versions ${ref.raw}\`.`],
      },
    )
  }
  if (target.version === current.version)
    throw new SecretsError('USAGE', `Version ${to} of ${ref.raw} is already current; nothing was changed.`, {
      ref: ref.raw,
    })
  try {
    const {version} = await provider.restoreVersion(whole, {version: target.version, expected: current.version})
    await session.audit([
      {command: session.command, action: 'rollback', provider: ref.alias, ref: whole.raw, version, outcome: 'ok'},
    ])
    return {ref: whole.raw, from: current.version, to: target.version, version}
  } catch (error) {
    await session
      .audit([
        {
          command: session.command,
          action: 'rollback',
          provider: ref.alias,
          ref: whole.raw,
          outcome: 'error',
          code: error instanceof SecretsError ? error.code : 'INTERNAL',
        },
      ])
      .catch(() => undefined)
    throw error
  }
}
