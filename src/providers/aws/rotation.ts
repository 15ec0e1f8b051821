// Staged rotation on Secrets Manager: the new value is a version labelled AWSPENDING, promoted by moving
// AWSCURRENT onto it (as a rotation function does), so readers of the current value never see it early.
import {
  DescribeSecretCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager'

import type {Reference} from '../../core/reference.js'
import type {SecretValue} from '../../core/secret-value.js'
import {SecretsError} from '../../errors.js'
import {awsError, errorName, type AwsErrorContext} from './errors.js'

/** What rotation needs of the AWS provider (which implements it). */
export interface AwsRotationHost {
  readonly client: SecretsManagerClient
  ctx(action: string, secretId?: string, ref?: string): AwsErrorContext
  /** Refuse a reference with #field or ?params for an operation on whole secrets. */
  plainName(ref: Reference, verb: string): void
}

/** Version id -> staging labels, from DescribeSecret. */
async function stagesOf(aws: AwsRotationHost, ref: Reference): Promise<Record<string, string[]>> {
  try {
    const d = await aws.client.send(new DescribeSecretCommand({SecretId: ref.path}))
    return d.VersionIdsToStages ?? {}
  } catch (error) {
    throw awsError(error, aws.ctx('DescribeSecret', ref.path, ref.raw))
  }
}

/** Move a staging label (UpdateSecretVersionStage); a label no longer where we expect it is a CONFLICT. */
export async function moveStage(
  aws: AwsRotationHost,
  ref: Reference,
  stage: string,
  o: {to?: string; from?: string},
): Promise<void> {
  try {
    await aws.client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: ref.path,
        VersionStage: stage,
        ...(o.to === undefined ? {} : {MoveToVersionId: o.to}),
        ...(o.from === undefined ? {} : {RemoveFromVersionId: o.from}),
      }),
    )
  } catch (error) {
    if (errorName(error) === 'InvalidParameterException') {
      throw new SecretsError(
        'CONFLICT',
        `${ref.raw} was changed by someone else: ${stage} is no longer on version ${o.from ?? '?'} (${(error as Error).message}); nothing was moved.`,
        {
          ref: ref.raw,
          suggestions: ['See `secrets versions ' + ref.raw + '` and run the command again.'],
        },
      )
    }
    throw awsError(error, aws.ctx('UpdateSecretVersionStage', ref.path, ref.raw))
  }
}

export async function writePending(
  aws: AwsRotationHost,
  ref: Reference,
  value: SecretValue,
  o: {base: string; token: string},
): Promise<{pending: string}> {
  aws.plainName(ref, 'rotate')
  const stages = await stagesOf(aws, ref)
  const current = Object.keys(stages).find((id) => stages[id].includes('AWSCURRENT'))
  if (current !== o.base) {
    throw new SecretsError(
      'CONFLICT',
      `${ref.raw} was changed by someone else (AWSCURRENT is ${current ?? 'nowhere'}, not ${o.base}); nothing was written.`,
      {ref: ref.raw, suggestions: ['Run the rotation again.']},
    )
  }
  // As RotateSecret does: an AWSPENDING on another version than AWSCURRENT is a rotation in progress.
  const pending = Object.keys(stages).find(
    (id) => stages[id].includes('AWSPENDING') && !stages[id].includes('AWSCURRENT'),
  )
  if (pending !== undefined && pending !== o.token) {
    throw new SecretsError(
      'CONFLICT',
      `${ref.raw} is being rotated already: version ${pending} is AWSPENDING; nothing was written.`,
      {
        ref: ref.raw,
        suggestions: [
          'Wait for that rotation, or run `secrets rotate` again where it ran (it finishes or abandons it); if that run is gone (a killed CI job), `secrets rotate --abandon-pending` drops its pending version.',
        ],
      },
    )
  }
  const data = value.isEnvSafe() ? {SecretString: value.text()} : {SecretBinary: value.reveal()}
  try {
    // The token is the new version's id: a retried put is answered with the same version, never a second one.
    const out = await aws.client.send(
      new PutSecretValueCommand({
        SecretId: ref.path,
        ClientRequestToken: o.token,
        VersionStages: ['AWSPENDING'],
        ...data,
      }),
    )
    return {pending: out.VersionId ?? o.token}
  } catch (error) {
    throw awsError(error, aws.ctx('PutSecretValue', ref.path, ref.raw))
  }
}

export async function promote(
  aws: AwsRotationHost,
  ref: Reference,
  o: {base: string; pending: string},
): Promise<{version: string}> {
  aws.plainName(ref, 'rotate')
  // RemoveFromVersionId makes this a compare-and-swap: if AWSCURRENT moved meanwhile, AWS refuses.
  await moveStage(aws, ref, 'AWSCURRENT', {to: o.pending, from: o.base})
  try {
    await moveStage(aws, ref, 'AWSPENDING', {from: o.pending})
  } catch (error) {
    // Another rotation took the label meanwhile: ours is promoted anyway.
    if (!(error instanceof SecretsError && error.code === 'CONFLICT')) throw error
  }
  return {version: o.pending}
}

export async function discardPending(
  aws: AwsRotationHost,
  ref: Reference,
  o: {pending?: string; token?: string},
): Promise<void> {
  aws.plainName(ref, 'rotate')
  const stages = await stagesOf(aws, ref)
  const id = o.pending ?? o.token ?? Object.keys(stages).find((v) => stages[v].includes('AWSPENDING'))
  // Only our own pending version loses its label (then AWS treats it as deprecated); never AWSCURRENT.
  if (id === undefined || !(stages[id] ?? []).includes('AWSPENDING') || stages[id].includes('AWSCURRENT')) return
  await moveStage(aws, ref, 'AWSPENDING', {from: id})
}
