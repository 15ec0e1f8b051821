import {randomUUID} from 'node:crypto'

import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  RotateSecretCommand,
  SecretsManagerClient,
  type SecretListEntry,
  type SecretValueEntry,
} from '@aws-sdk/client-secrets-manager'
import type {fromTemporaryCredentials} from '@aws-sdk/credential-providers'

import {checkParams, type Reference} from '../../core/reference.js'
import {SecretValue} from '../../core/secret-value.js'
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
import {awsError, type AwsErrorContext} from './errors.js'
import {discardPending, moveStage, promote, writePending} from './rotation.js'
import type {awsSpec} from './spec.js'
import type {SettingsOf} from '../spec.js'

/** BatchGetSecretValue takes at most this many secret ids per call (the API's limit). */
export const BATCH_LIMIT = 20
const STAGES = ['AWSCURRENT', 'AWSPREVIOUS', 'AWSPENDING']

const CAPABILITIES: Capabilities = {
  // One read() takes any number of references: the provider itself splits them into
  // BatchGetSecretValue calls of 20 and keeps several in flight.
  batchSize: Number.POSITIVE_INFINITY,
  params: ['stage', 'version', 'versionId', 'encoding'],
}

/** The provider's settings in secrets.yaml (all optional; the SDK's own variables and profiles fill the rest). */
export type AwsSettings = SettingsOf<typeof awsSpec.settings>

/** What one reference asks AWS for. */
interface Want {
  secretId: string
  versionId?: string
  stage?: string
  base64: boolean
}

type Fetched = {ok: true; entry: SecretValueEntry} | {ok: false; error: SecretsError}

function want(ref: Reference): Want {
  checkParams(ref, CAPABILITIES.params)
  const {stage, encoding} = ref.params
  const versionId = ref.params.versionId ?? ref.params.version
  if (ref.params.versionId !== undefined && ref.params.version !== undefined) {
    throw new SecretsError('REFERENCE_INVALID', `Invalid reference ${ref.raw}: give version or versionId, not both.`, {
      ref: ref.raw,
    })
  }
  if (stage !== undefined && !/^[\w.-]{1,256}$/.test(stage)) {
    throw new SecretsError(
      'REFERENCE_INVALID',
      `Invalid reference ${ref.raw}: stage must be a staging label such as ${STAGES.join(', ')}.`,
      {ref: ref.raw},
    )
  }
  if (versionId !== undefined && !/^[\w-]{32,64}$/.test(versionId)) {
    throw new SecretsError(
      'REFERENCE_INVALID',
      `Invalid reference ${ref.raw}: an AWS version id is 32 to 64 letters, digits and "-" (a UUID).`,
      {ref: ref.raw},
    )
  }
  if (encoding !== undefined && encoding !== 'base64') {
    throw new SecretsError('REFERENCE_INVALID', `Invalid reference ${ref.raw}: encoding can only be base64.`, {
      ref: ref.raw,
    })
  }
  return {secretId: ref.path, versionId, stage, base64: encoding === 'base64'}
}

/** Run `fn` over `items` with at most `limit` calls in flight. */
async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = Array.from({length: items.length})
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++

      out[i] = await fn(items[i])
    }
  }
  await Promise.all(Array.from({length: Math.min(limit, items.length)}, worker))
  return out
}

/** Whether a reference asks for the current version (the only one BatchGetSecretValue returns). */
function isCurrent(w: Want): boolean {
  return w.versionId === undefined && (w.stage === undefined || w.stage === 'AWSCURRENT')
}

function errorName(error: unknown): string | undefined {
  return (error as {name?: string} | undefined)?.name
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
  /** Set once BatchGetSecretValue is denied, so later reads go straight to GetSecretValue. */
  private batchDenied = false

  /** `assume` is `fromTemporaryCredentials`, loaded by index.ts only when `roleArn:` is set. */
  constructor(
    ctx: ProviderContext,
    private readonly assume?: typeof fromTemporaryCredentials,
  ) {
    this.alias = ctx.config.alias
    this.settings = ctx.config.settings as AwsSettings
    const env = ctx.env
    this.region = this.settings.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION
    this.endpoint = this.settings.endpoint ?? env.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? env.AWS_ENDPOINT_URL
    const maxAttempts = this.settings.maxAttempts ?? 3
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 10) {
      throw new SecretsError(
        'CONFIG_INVALID',
        `providers.${this.alias}.maxAttempts must be a whole number from 1 to 10.`,
      )
    }
    // The SDK warns on stderr that it will need Node 22 from 2027; that is for us, not for the user,
    // and it would land in the middle of command output. The check runs only while the client is built.
    const quiet = process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'
    try {
      this.client = new SecretsManagerClient({
        ...(this.region === undefined ? {} : {region: this.region}),
        ...(this.settings.profile === undefined ? {} : {profile: this.settings.profile}),
        // Without `endpoint:` the SDK itself honours AWS_ENDPOINT_URL_SECRETS_MANAGER / AWS_ENDPOINT_URL.
        ...(this.settings.endpoint === undefined ? {} : {endpoint: this.settings.endpoint}),
        retryMode: 'adaptive',
        maxAttempts,
        requestHandler: {connectionTimeout: 10_000, requestTimeout: 60_000},
        ...(this.settings.roleArn === undefined ? {} : {credentials: this.assumeRole(this.settings.roleArn)}),
      })
    } finally {
      if (quiet === undefined) delete process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED
      else process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = quiet
    }
  }

  /** Credentials of `roleArn`, assumed with whatever the SDK's default chain finds (SDK-managed refresh). */
  private assumeRole(roleArn: string) {
    if (!/^arn:aws[\w-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(roleArn)) {
      throw new SecretsError(
        'CONFIG_INVALID',
        `providers.${this.alias}.roleArn must be an IAM role ARN (arn:aws:iam::<account>:role/<name>).`,
      )
    }
    if (this.assume === undefined) throw new Error('roleArn is set but the STS credential provider was not loaded')
    return this.assume({
      params: {
        RoleArn: roleArn,
        RoleSessionName: this.settings.roleSessionName ?? 'secrets-cli',
        ...(this.settings.externalId === undefined ? {} : {ExternalId: this.settings.externalId}),
      },
      clientConfig: {
        ...(this.region === undefined ? {} : {region: this.region}),
        ...(this.settings.profile === undefined ? {} : {profile: this.settings.profile}),
      },
    })
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

  private get concurrency(): number {
    return Math.max(1, Math.min(16, this.settings.concurrency ?? 4))
  }

  async read(refs: Reference[]): Promise<ReadOutcome[]> {
    // A malformed reference fails alone; the others are still read.
    const invalid = new Map<number, SecretsError>()
    const parsed = refs.map((ref, i) => {
      try {
        return want(ref)
      } catch (error) {
        if (!(error instanceof SecretsError)) throw error
        invalid.set(i, error)
        return undefined
      }
    })
    const wants = parsed.filter((w): w is Want => w !== undefined)
    const key = (w: Want) => `${w.secretId}\u0000${w.versionId ?? ''}\u0000${w.stage ?? ''}`
    // Plain references (the current version) can be batched; a stage or a version id needs GetSecretValue.
    const batchable = [...new Set(wants.filter((w) => isCurrent(w)).map((w) => w.secretId))]
    const single = new Map<string, Want>()
    for (const w of wants) if (!isCurrent(w)) single.set(key(w), w)
    const fetched = new Map<string, Fetched>()
    if (batchable.length > 1) {
      const chunks: string[][] = []
      for (let i = 0; i < batchable.length; i += BATCH_LIMIT) chunks.push(batchable.slice(i, i + BATCH_LIMIT))
      const leftovers = (await mapLimited(chunks, this.concurrency, (chunk) => this.batch(chunk, fetched))).flat()
      for (const id of leftovers) single.set(key({secretId: id, base64: false}), {secretId: id, base64: false})
    } else {
      for (const id of batchable) single.set(key({secretId: id, base64: false}), {secretId: id, base64: false})
    }
    await mapLimited([...single.entries()], this.concurrency, async ([k, w]) => {
      fetched.set(k, await this.getOne(w))
    })
    return refs.map((ref, i): ReadOutcome => {
      const w = parsed[i]
      if (w === undefined) return {ok: false, ref, error: invalid.get(i)!}
      const f = fetched.get(isCurrent(w) ? key({secretId: w.secretId, base64: false}) : key(w))
      if (f === undefined)
        return {
          ok: false,
          ref,
          error: new SecretsError('INTERNAL', `No answer was kept for ${ref.raw}.`, {ref: ref.raw}),
        }
      if (!f.ok)
        return {
          ok: false,
          ref,
          error: new SecretsError(f.error.code, f.error.message, {
            ref: ref.raw,
            suggestions: f.error.suggestions,
            retryable: f.error.retryable,
            cause: f.error.cause,
          }),
        }
      return {ok: true, ref, value: toValue(f.entry, w.base64), version: f.entry.VersionId}
    })
  }

  /** One BatchGetSecretValue call; returns the ids it did not answer for (to be fetched one by one). */
  private async batch(ids: string[], into: Map<string, Fetched>): Promise<string[]> {
    if (this.batchDenied) return ids
    let out
    try {
      out = await this.client.send(new BatchGetSecretValueCommand({SecretIdList: ids}))
    } catch (error) {
      if (errorName(error) === 'AccessDeniedException') {
        // Allowed to read each secret but not to batch: fall back to GetSecretValue per secret.
        this.batchDenied = true
        return ids
      }
      const err = awsError(error, this.ctx('BatchGetSecretValue'))
      for (const id of ids) into.set(`${id}\u0000\u0000`, {ok: false, error: err})
      return []
    }
    const left = new Set(ids)
    for (const entry of out.SecretValues ?? []) {
      const id = ids.find(
        (x) => left.has(x) && (x === entry.Name || x === entry.ARN || (entry.ARN?.startsWith(`${x}-`) ?? false)),
      )
      if (id === undefined) continue
      left.delete(id)
      into.set(`${id}\u0000\u0000`, {ok: true, entry})
    }
    for (const e of out.Errors ?? []) {
      if (e.SecretId === undefined || !left.has(e.SecretId)) continue
      left.delete(e.SecretId)
      const err = awsError(
        {name: e.ErrorCode, message: e.Message, $fault: 'client'},
        this.ctx('GetSecretValue', e.SecretId),
      )
      into.set(`${e.SecretId}\u0000\u0000`, {ok: false, error: err})
    }
    return [...left]
  }

  private async getOne(w: Want): Promise<Fetched> {
    try {
      const entry = await this.client.send(
        new GetSecretValueCommand({
          SecretId: w.secretId,
          ...(w.versionId === undefined ? {} : {VersionId: w.versionId}),
          ...(w.stage === undefined ? {} : {VersionStage: w.stage}),
        }),
      )
      return {ok: true, entry}
    } catch (error) {
      return {ok: false, error: awsError(error, this.ctx('GetSecretValue', w.secretId))}
    }
  }

  async list(): Promise<SecretMeta[]> {
    const out: SecretMeta[] = []
    let NextToken: string | undefined
    const filters =
      this.settings.prefix === undefined ? undefined : [{Key: 'name' as const, Values: [this.settings.prefix]}]
    do {
      let page
      try {
        page = await this.client.send(
          new ListSecretsCommand({MaxResults: 100, NextToken, ...(filters ? {Filters: filters} : {})}),
        )
      } catch (error) {
        throw awsError(error, this.ctx('ListSecrets'))
      }
      for (const s of page.SecretList ?? []) {
        if (s.Name === undefined) continue
        const versions = Object.entries(s.SecretVersionsToStages ?? {})
        const current = versions.find(([, stages]) => stages.includes('AWSCURRENT'))?.[0]
        out.push({
          name: s.Name,
          ref: `${this.alias}://${s.Name}`,
          ...(current === undefined ? {} : {version: current}),
          versions: versions.length,
          ...(s.LastChangedDate === undefined ? {} : {updated: s.LastChangedDate.toISOString()}),
          details: details(s),
        })
      }
      NextToken = page.NextToken
    } while (NextToken)
    return out
  }

  async write(ref: Reference, value: SecretValue): Promise<{version: string}> {
    this.plainName(ref, 'write')
    // One token per logical write: the SDK's retries resend it, so a retried put cannot add a second version.
    const token = randomUUID()
    const data = value.isEnvSafe() ? {SecretString: value.text()} : {SecretBinary: value.reveal()}
    try {
      const out = await this.client.send(
        new PutSecretValueCommand({SecretId: ref.path, ClientRequestToken: token, ...data}),
      )
      return {version: out.VersionId ?? token}
    } catch (error) {
      if (errorName(error) !== 'ResourceNotFoundException')
        throw awsError(error, this.ctx('PutSecretValue', ref.path, ref.raw))
    }
    if (ref.path.startsWith('arn:')) {
      throw new SecretsError(
        'NOT_FOUND',
        `AWS secret "${ref.path}" was not found; a new secret is created by name, not by ARN.`,
        {ref: ref.raw, suggestions: [`Use ${this.alias}://<name> to create it.`]},
      )
    }
    try {
      const out = await this.client.send(
        new CreateSecretCommand({
          Name: ref.path,
          ClientRequestToken: token,
          ...(this.settings.kmsKeyId === undefined ? {} : {KmsKeyId: this.settings.kmsKeyId}),
          ...data,
        }),
      )
      return {version: out.VersionId ?? token}
    } catch (error) {
      throw awsError(error, this.ctx('CreateSecret', ref.path, ref.raw))
    }
  }

  async delete(ref: Reference, options: DeleteOptions = {}): Promise<{versions: number; recoverableUntil?: string}> {
    this.plainName(ref, 'delete')
    let described
    try {
      described = await this.client.send(new DescribeSecretCommand({SecretId: ref.path}))
    } catch (error) {
      throw awsError(error, this.ctx('DescribeSecret', ref.path, ref.raw))
    }
    const force = options.force === true || this.settings.recoveryWindowDays === 0
    if (described.DeletedDate !== undefined && !force) {
      throw new SecretsError('NOT_FOUND', `AWS secret "${ref.path}" is already scheduled for deletion.`, {
        ref: ref.raw,
        suggestions: [`Restore it with: secrets restore ${ref.raw}`, 'Or delete it at once with --force.'],
      })
    }
    const days = this.settings.recoveryWindowDays ?? 30
    if (days !== 0 && (!Number.isInteger(days) || days < 7 || days > 30)) {
      throw new SecretsError(
        'CONFIG_INVALID',
        `providers.${this.alias}.recoveryWindowDays must be 0 (delete without recovery) or a whole number of days from 7 to 30.`,
      )
    }
    let out
    try {
      out = await this.client.send(
        new DeleteSecretCommand({
          SecretId: ref.path,
          ...(force ? {ForceDeleteWithoutRecovery: true} : {RecoveryWindowInDays: days}),
        }),
      )
    } catch (error) {
      throw awsError(error, this.ctx('DeleteSecret', ref.path, ref.raw))
    }
    const versions = Object.keys(described.VersionIdsToStages ?? {}).length
    return force || out.DeletionDate === undefined
      ? {versions}
      : {versions, recoverableUntil: out.DeletionDate.toISOString()}
  }

  async restore(ref: Reference): Promise<void> {
    this.plainName(ref, 'restore')
    try {
      await this.client.send(new RestoreSecretCommand({SecretId: ref.path}))
    } catch (error) {
      throw awsError(error, this.ctx('RestoreSecret', ref.path, ref.raw))
    }
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
    const f = await this.getOne({secretId: ref.path, versionId: pending, base64: false})
    if (!f.ok) throw f.error
    return toValue(f.entry, false)
  }

  promote(ref: Reference, o: {base: string; pending: string}): Promise<{version: string}> {
    return promote(this, ref, o)
  }

  discardPending(ref: Reference, o: {pending?: string; token?: string}): Promise<void> {
    return discardPending(this, ref, o)
  }

  async versions(ref: Reference): Promise<VersionInfo[]> {
    this.plainName(ref, 'list the versions of')
    const out: VersionInfo[] = []
    let NextToken: string | undefined
    do {
      let page
      try {
        page = await this.client.send(new ListSecretVersionIdsCommand({SecretId: ref.path, MaxResults: 100, NextToken}))
      } catch (error) {
        throw awsError(error, this.ctx('ListSecretVersionIds', ref.path, ref.raw))
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

  async startNativeRotation(ref: Reference, o: {token: string}): Promise<{version: string}> {
    this.plainName(ref, 'rotate')
    try {
      const out = await this.client.send(
        new RotateSecretCommand({SecretId: ref.path, ClientRequestToken: o.token, RotateImmediately: true}),
      )
      return {version: out.VersionId ?? o.token}
    } catch (error) {
      if (errorName(error) === 'InvalidRequestException' && /previous rotation/i.test((error as Error).message)) {
        throw new SecretsError(
          'CONFLICT',
          `${ref.raw} is being rotated already (${(error as Error).message}); nothing was started.`,
          {
            ref: ref.raw,
            suggestions: ["Wait for that rotation, or look at the rotation function's logs in CloudWatch."],
          },
        )
      }
      if (
        errorName(error) === 'InvalidRequestException' &&
        /no lambda|rotation function/i.test((error as Error).message)
      ) {
        throw new SecretsError(
          'UNSUPPORTED',
          `${ref.raw} has no rotation function, so --native cannot rotate it (${(error as Error).message}).`,
          {
            ref: ref.raw,
            suggestions: [
              'Configure rotation (aws secretsmanager rotate-secret --rotation-lambda-arn ...) or rotate without --native.',
            ],
          },
        )
      }
      throw awsError(error, this.ctx('RotateSecret', ref.path, ref.raw))
    }
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

function toValue(entry: SecretValueEntry, base64: boolean): SecretValue {
  if (entry.SecretString !== undefined)
    return new SecretValue(base64 ? Buffer.from(entry.SecretString).toString('base64') : entry.SecretString)
  const bytes = Buffer.from(entry.SecretBinary ?? new Uint8Array())
  return new SecretValue(base64 ? bytes.toString('base64') : bytes)
}
