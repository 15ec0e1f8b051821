// Listing: the secrets ListSecrets shows (with their metadata, never a value) and one secret's versions.
import {
  DescribeSecretCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  type SecretListEntry,
} from '@aws-sdk/client-secrets-manager'

import type {Reference} from '../../core/reference.js'
import {SecretsError} from '../../errors.js'
import type {SecretMeta, VersionInfo} from '../types.js'
import {awsError} from './errors.js'
import type {AwsRotationHost} from './rotation.js'

/** What ListSecrets says about a secret besides its name: rotation, dates, tags (never a value). */
function details(s: SecretListEntry): Record<string, unknown> {
  const iso = (d: Date | undefined) => d?.toISOString()
  const out: Record<string, unknown> = {
    arn: s.ARN,
    description: s.Description,
    kmsKeyId: s.KmsKeyId,
    rotationEnabled: s.RotationEnabled ?? false,
    rotationRules: s.RotationRules,
    lastRotated: iso(s.LastRotatedDate),
    nextRotation: iso(s.NextRotationDate),
    lastAccessed: iso(s.LastAccessedDate),
    created: iso(s.CreatedDate),
    tags: Object.fromEntries((s.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
  }
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined))
}

function meta(s: SecretListEntry & {Name: string}, alias: string): SecretMeta {
  const versions = Object.entries(s.SecretVersionsToStages ?? {})
  const current = versions.find(([, stages]) => stages.includes('AWSCURRENT'))?.[0]
  return {
    name: s.Name,
    ref: `${alias}://${s.Name}`,
    ...(current === undefined ? {} : {version: current}),
    versions: versions.length,
    ...(s.LastChangedDate === undefined ? {} : {updated: s.LastChangedDate.toISOString()}),
    details: details(s),
  }
}

export async function listSecrets(
  aws: Pick<AwsRotationHost, 'client' | 'ctx'>,
  alias: string,
  prefix: string | undefined,
): Promise<SecretMeta[]> {
  const out: SecretMeta[] = []
  let NextToken: string | undefined
  const filters = prefix === undefined ? undefined : [{Key: 'name' as const, Values: [prefix]}]
  do {
    let page
    try {
      page = await aws.client.send(
        new ListSecretsCommand({MaxResults: 100, NextToken, ...(filters ? {Filters: filters} : {})}),
      )
    } catch (error) {
      throw awsError(error, aws.ctx('ListSecrets'))
    }
    for (const s of page.SecretList ?? []) {
      if (s.Name !== undefined) out.push(meta({...s, Name: s.Name}, alias))
    }
    NextToken = page.NextToken
  } while (NextToken)
  return out
}

export async function listVersions(aws: AwsRotationHost, ref: Reference): Promise<VersionInfo[]> {
  aws.plainName(ref, 'list the versions of')
  const out: VersionInfo[] = []
  let NextToken: string | undefined
  do {
    let page
    try {
      page = await aws.client.send(new ListSecretVersionIdsCommand({SecretId: ref.path, MaxResults: 100, NextToken}))
    } catch (error) {
      throw awsError(error, aws.ctx('ListSecretVersionIds', ref.path, ref.raw))
    }
    for (const v of page.Versions ?? []) {
      if (v.VersionId === undefined) continue
      const labels = v.VersionStages ?? []
      const current = labels.includes('AWSCURRENT')
      out.push({
        version: v.VersionId,
        created: v.CreatedDate?.toISOString(),
        current,
        ...(labels.includes('AWSPENDING') && !current ? {pending: true} : {}),
        labels,
      })
    }
    NextToken = page.NextToken
  } while (NextToken)
  return out.sort((a, b) => (b.created ?? '').localeCompare(a.created ?? ''))
}

/** One secret's metadata from DescribeSecret (current version, last change; never its value) for `secrets list`. */
export async function describeSecret(
  aws: Pick<AwsRotationHost, 'client' | 'ctx'>,
  alias: string,
  ref: Reference,
): Promise<SecretMeta> {
  let d
  try {
    d = await aws.client.send(new DescribeSecretCommand({SecretId: ref.path}))
  } catch (error) {
    throw awsError(error, aws.ctx('DescribeSecret', ref.path, ref.raw))
  }
  if (d.DeletedDate !== undefined) {
    throw new SecretsError('NOT_FOUND', `AWS secret "${ref.path}" is scheduled for deletion.`, {
      ref: ref.raw,
      suggestions: [`Restore it with: secrets restore ${alias}://${ref.path}`],
    })
  }
  const m = meta({...d, Name: d.Name ?? ref.path, SecretVersionsToStages: d.VersionIdsToStages}, alias)
  return {...m, name: ref.path, ref: `${alias}://${ref.path}`}
}
