import {randomUUID} from 'node:crypto'

import {requireCapability} from '../../providers/capabilities.js'
import {SecretsError} from '../../errors.js'
import type {SecretProvider} from '../../providers/types.js'
import type {Session} from '../session.js'
import type {RotationResult} from './types.js'
import {auditRotation, wholeSecret, type RotationTarget} from './targets.js'

const DEFAULT_TIMEOUT_MS = 300_000

/** AWS native rotation: RotateSecret, then wait until the new version is AWSCURRENT (or time out). */
export async function rotateNative(
  session: Session,
  provider: SecretProvider,
  t: RotationTarget,
  result: RotationResult,
  timeoutMs: number | undefined,
): Promise<RotationResult> {
  const whole = wholeSecret(t.ref)
  requireCapability(
    provider,
    'nativeRotation',
    `Provider ${provider.alias} (${provider.type}) has no rotation of its own; --native works with AWS Secrets Manager.`,
    {ref: t.ref.raw},
  )
  if (t.ref.field !== undefined)
    throw new SecretsError(
      'USAGE',
      `--native rotates whole secrets (its rotation function decides the fields); give ${whole.raw}.`,
      {ref: t.ref.raw},
    )
  const versions = provider.versions.bind(provider)
  const before = (await versions(whole)).find((v) => v.current)?.version
  const {version} = await provider.startNativeRotation(whole, {token: randomUUID()})
  await auditRotation(session, 'rotate-pending', whole, {version})
  const limit = timeoutMs ?? DEFAULT_TIMEOUT_MS
  const deadline = Date.now() + limit
  for (let delay = 200; ; delay = Math.min(delay * 2, 5000)) {
    if ((await versions(whole)).find((v) => v.current)?.version === version) break
    if (Date.now() + delay > deadline) {
      await auditRotation(session, 'rotate-promoted', whole, {version, outcome: 'error', code: 'UNAVAILABLE'})
      throw new SecretsError(
        'UNAVAILABLE',
        `The rotation function of ${whole.raw} did not make version ${version} current within ${Math.round(limit / 1000)}s; ${before ?? 'the previous version'} is still current.`,
        {
          ref: whole.raw,
          suggestions: [
            "Look at the rotation function's logs (CloudWatch). If it is still running, wait and check `secrets versions " +
              whole.raw +
              '`; if it failed, fix it, remove the AWSPENDING label (aws secretsmanager update-secret-version-stage) and run again, or raise --timeout.',
          ],
        },
      )
    }

    await new Promise((r) => setTimeout(r, delay))
  }
  await auditRotation(session, 'rotate-promoted', whole, {version})
  return {...result, status: 'rotated', ...(before === undefined ? {} : {oldVersion: before}), newVersion: version}
}
