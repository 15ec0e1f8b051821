// Changing secrets: put (or create), schedule deletion, restore, and start a native (Lambda) rotation.
import {randomUUID} from 'node:crypto'

import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  RotateSecretCommand,
} from '@aws-sdk/client-secrets-manager'

import type {Reference} from '../../core/reference.js'
import type {SecretValue} from '../../core/secret-value.js'
import {SecretsError} from '../../errors.js'
import type {DeleteOptions} from '../types.js'
import type {AwsSettings} from './client.js'
import {awsError, errorName} from './errors.js'
import type {AwsRotationHost} from './rotation.js'

/** What writes need of the AWS provider (which implements it). */
export interface AwsWriteHost extends AwsRotationHost {
  readonly alias: string
}

export async function writeSecret(
  aws: AwsWriteHost,
  settings: AwsSettings,
  ref: Reference,
  value: SecretValue,
): Promise<{version: string}> {
  aws.plainName(ref, 'write')
  // One token per logical write: the SDK's retries resend it, so a retried put cannot add a second version.
  const token = randomUUID()
  const data = value.isEnvSafe() ? {SecretString: value.text()} : {SecretBinary: value.reveal()}
  try {
    const out = await aws.client.send(
      new PutSecretValueCommand({SecretId: ref.path, ClientRequestToken: token, ...data}),
    )
    return {version: out.VersionId ?? token}
  } catch (error) {
    if (errorName(error) !== 'ResourceNotFoundException')
      throw awsError(error, aws.ctx('PutSecretValue', ref.path, ref.raw))
  }
  if (ref.path.startsWith('arn:')) {
    throw new SecretsError(
      'NOT_FOUND',
      `AWS secret "${ref.path}" was not found; a new secret is created by name, not by ARN.`,
      {ref: ref.raw, suggestions: [`Use ${aws.alias}://<name> to create it.`]},
    )
  }
  try {
    const out = await aws.client.send(
      new CreateSecretCommand({
        Name: ref.path,
        ClientRequestToken: token,
        ...(settings.kmsKeyId === undefined ? {} : {KmsKeyId: settings.kmsKeyId}),
        ...data,
      }),
    )
    return {version: out.VersionId ?? token}
  } catch (error) {
    throw awsError(error, aws.ctx('CreateSecret', ref.path, ref.raw))
  }
}

/** The recovery window of a scheduled deletion, checked against what DeleteSecret accepts. */
function recoveryDays(alias: string, settings: AwsSettings): number {
  const days = settings.recoveryWindowDays ?? 30
  if (days !== 0 && (!Number.isInteger(days) || days < 7 || days > 30)) {
    throw new SecretsError(
      'CONFIG_INVALID',
      `providers.${alias}.recoveryWindowDays must be 0 (delete without recovery) or a whole number of days from 7 to 30.`,
    )
  }
  return days
}

export async function deleteSecret(
  aws: AwsWriteHost,
  settings: AwsSettings,
  ref: Reference,
  options: DeleteOptions,
): Promise<{versions: number; recoverableUntil?: string}> {
  aws.plainName(ref, 'delete')
  let described
  try {
    described = await aws.client.send(new DescribeSecretCommand({SecretId: ref.path}))
  } catch (error) {
    throw awsError(error, aws.ctx('DescribeSecret', ref.path, ref.raw))
  }
  const force = options.force === true || settings.recoveryWindowDays === 0
  if (described.DeletedDate !== undefined && !force) {
    throw new SecretsError('NOT_FOUND', `AWS secret "${ref.path}" is already scheduled for deletion.`, {
      ref: ref.raw,
      suggestions: [`Restore it with: secrets restore ${ref.raw}`, 'Or delete it at once with --force.'],
    })
  }
  const days = recoveryDays(aws.alias, settings)
  let out
  try {
    out = await aws.client.send(
      new DeleteSecretCommand({
        SecretId: ref.path,
        ...(force ? {ForceDeleteWithoutRecovery: true} : {RecoveryWindowInDays: days}),
      }),
    )
  } catch (error) {
    throw awsError(error, aws.ctx('DeleteSecret', ref.path, ref.raw))
  }
  const versions = Object.keys(described.VersionIdsToStages ?? {}).length
  return force || out.DeletionDate === undefined
    ? {versions}
    : {versions, recoverableUntil: out.DeletionDate.toISOString()}
}

export async function restoreSecret(aws: AwsRotationHost, ref: Reference): Promise<void> {
  aws.plainName(ref, 'restore')
  try {
    await aws.client.send(new RestoreSecretCommand({SecretId: ref.path}))
  } catch (error) {
    throw awsError(error, aws.ctx('RestoreSecret', ref.path, ref.raw))
  }
}

/** RotateSecret's refusals that say what to do: a rotation under way, or no rotation function. */
function rotateRefusal(error: unknown, ref: Reference): SecretsError | undefined {
  if (errorName(error) !== 'InvalidRequestException') return undefined
  const message = (error as Error).message
  if (/previous rotation/i.test(message)) {
    return new SecretsError('CONFLICT', `${ref.raw} is being rotated already (${message}); nothing was started.`, {
      ref: ref.raw,
      suggestions: ["Wait for that rotation, or look at the rotation function's logs in CloudWatch."],
    })
  }
  if (/no lambda|rotation function/i.test(message)) {
    return new SecretsError(
      'UNSUPPORTED',
      `${ref.raw} has no rotation function, so --native cannot rotate it (${message}).`,
      {
        ref: ref.raw,
        suggestions: [
          'Configure rotation (aws secretsmanager rotate-secret --rotation-lambda-arn ...) or rotate without --native.',
        ],
      },
    )
  }
  return undefined
}

export async function startNativeRotation(
  aws: AwsRotationHost,
  ref: Reference,
  o: {token: string},
): Promise<{version: string}> {
  aws.plainName(ref, 'rotate')
  try {
    const out = await aws.client.send(
      new RotateSecretCommand({SecretId: ref.path, ClientRequestToken: o.token, RotateImmediately: true}),
    )
    return {version: out.VersionId ?? o.token}
  } catch (error) {
    throw rotateRefusal(error, ref) ?? awsError(error, aws.ctx('RotateSecret', ref.path, ref.raw))
  }
}
