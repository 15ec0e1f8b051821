import {ListSecretsCommand, type SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import type {fromTemporaryCredentials} from '@aws-sdk/credential-providers'

import type {Reference} from '../../core/reference.js'
import type {SecretValue} from '../../core/secret-value.js'
import {SecretsError} from '../../errors.js'
import type {
  Capabilities,
  DeleteOptions,
  ProviderContext,
  ReadOutcome,
  SecretMeta,
  SecretProvider,
  TrailEvent,
  TrailOptions,
  VersionInfo,
} from '../types.js'
import {awsClient, type AwsSettings} from './client.js'
import {awsError, type AwsErrorContext} from './errors.js'
import {describeSecret, listSecrets, listVersions} from './list.js'
import {AwsReader, READ_PARAMS, toValue} from './read.js'
import {discardPending, moveStage, promote, writePending} from './rotation.js'
import {deleteSecret, restoreSecret, startNativeRotation, writeSecret} from './write.js'

const CAPABILITIES: Capabilities = {
  // One read() takes any number of references: the provider itself splits them into
  // BatchGetSecretValue calls of 20 and keeps several in flight.
  batchSize: Number.POSITIVE_INFINITY,
  params: READ_PARAMS,
}

/** AWS Secrets Manager through `@aws-sdk/client-secrets-manager`, with the SDK's default credential chain. */
export class AwsProvider implements SecretProvider {
  readonly type = 'aws'
  readonly capabilities = CAPABILITIES
  readonly alias: string
  readonly client: SecretsManagerClient
  private readonly settings: AwsSettings
  private readonly region?: string
  private readonly endpoint?: string
  private readonly reader: AwsReader

  /** `assume` is `fromTemporaryCredentials`, loaded by index.ts only when `roleArn:` is set. */
  constructor(ctx: ProviderContext, assume?: typeof fromTemporaryCredentials) {
    this.alias = ctx.config.alias
    this.settings = ctx.config.settings as AwsSettings
    const {client, region, endpoint} = awsClient(this.alias, this.settings, ctx.env, assume)
    this.client = client
    this.region = region
    this.endpoint = endpoint
    this.reader = new AwsReader(this, Math.max(1, Math.min(16, this.settings.concurrency ?? 4)))
  }

  ctx(action: string, secretId?: string, ref?: string): AwsErrorContext {
    return {
      action: `secretsmanager:${action}`,
      secretId,
      ref,
      alias: this.alias,
      region: this.region,
      endpoint: this.endpoint,
    }
  }

  read(refs: Reference[]): Promise<ReadOutcome[]> {
    return this.reader.read(refs)
  }

  list(): Promise<SecretMeta[]> {
    return listSecrets(this, this.alias, this.settings.prefix)
  }

  describe(ref: Reference): Promise<SecretMeta> {
    return describeSecret(this, this.alias, ref)
  }

  write(ref: Reference, value: SecretValue): Promise<{version: string}> {
    return writeSecret(this, this.settings, ref, value)
  }

  delete(ref: Reference, options: DeleteOptions = {}): Promise<{versions: number; recoverableUntil?: string}> {
    return deleteSecret(this, this.settings, ref, options)
  }

  restore(ref: Reference): Promise<void> {
    return restoreSecret(this, ref)
  }

  /** Secrets Manager events of the configured secrets from CloudTrail's event history. */
  // CloudTrail LookupEvents (aws/trail.ts, loaded only by `audit trail`).
  async trail(options: TrailOptions): Promise<TrailEvent[]> {
    const {cloudTrailEvents} = await import('./trail.js')
    return cloudTrailEvents(this, this.settings.cloudTrailEndpoint, options)
  }

  // Staging labels (AWSPENDING, then AWSCURRENT) as RotateSecret uses them: rotation.ts.
  writePending(ref: Reference, value: SecretValue, o: {base: string; token: string}): Promise<{pending: string}> {
    return writePending(this, ref, value, o)
  }

  async readPending(ref: Reference, pending: string): Promise<SecretValue> {
    const f = await this.reader.getOne({secretId: ref.path, versionId: pending, base64: false})
    if (!f.ok) throw f.error
    return toValue(f.entry, false)
  }

  promote(ref: Reference, o: {base: string; pending: string}): Promise<{version: string}> {
    return promote(this, ref, o)
  }

  discardPending(ref: Reference, o: {pending?: string; token?: string}): Promise<void> {
    return discardPending(this, ref, o)
  }

  versions(ref: Reference): Promise<VersionInfo[]> {
    return listVersions(this, ref)
  }

  startNativeRotation(ref: Reference, o: {token: string}): Promise<{version: string}> {
    return startNativeRotation(this, ref, o)
  }

  async restoreVersion(ref: Reference, o: {version: string; expected: string}): Promise<{version: string}> {
    this.plainName(ref, 'roll back')
    await moveStage(this, ref, 'AWSCURRENT', {to: o.version, from: o.expected})
    return {version: o.version}
  }

  async check(): Promise<string> {
    try {
      await this.client.send(new ListSecretsCommand({MaxResults: 1}))
      const region = await this.client.config.region()
      return `AWS Secrets Manager in ${region}${this.endpoint === undefined ? '' : ` at ${this.endpoint}`}: credentials accepted, secretsmanager:ListSecrets allowed`
    } catch (error) {
      throw awsError(error, this.ctx('ListSecrets'))
    }
  }

  async close(): Promise<void> {
    this.client.destroy()
  }

  plainName(ref: Reference, verb: string): void {
    if (ref.field !== undefined || Object.keys(ref.params).length > 0) {
      throw new SecretsError(
        'USAGE',
        `Cannot ${verb} ${ref.raw}: an AWS ${verb} takes the secret name, without #field, ?stage or ?version.`,
        {
          ref: ref.raw,
          suggestions: [`Use ${this.alias}://${ref.path}.`],
        },
      )
    }
  }
}
