/**
 * An in-process AWS Secrets Manager for tests: awsJson1_1 over plain HTTP on 127.0.0.1, following the
 * Smithy model in ../shared/specs/aws (operation names, members, error types). Requests are verified with
 * SigV4 against configured credentials; version stages move as in the real service. Tests can inject
 * faults, deny actions per identity, skew the clock and read a per-operation request counter.
 *
 * A KMS subset (TrentService: CreateKey-like seeding, Encrypt, Decrypt, DescribeKey) serves the local
 * store's KMS recipient. A CloudTrail subset (LookupEvents, see cloudtrail.ts) records every Secrets Manager
 * call it answers as a management event, as CloudTrail does. It also answers STS AssumeRoleWithWebIdentity (awsQuery, unsigned) for the CI credential path, and
 * AssumeRole (signed) for `roleArn:`.
 */
import {createCipheriv, createDecipheriv, randomBytes, randomUUID} from 'node:crypto'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo, Socket} from 'node:net'

import {Faults, type ServerFault} from '../faults.js'
import {CLOUDTRAIL_TARGETS, CloudTrailError, CloudTrailHistory} from './cloudtrail.js'
import {amzDate, verifySigV4, type AuthFailure, type TestCredential} from './sigv4.js'

export type {TestCredential} from './sigv4.js'
export type {PlantedEvent, TrailRecord} from './cloudtrail.js'

const NS = 'com.amazonaws.secretsmanager#'
const STAGES_CURRENT = 'AWSCURRENT'
const STAGES_PREVIOUS = 'AWSPREVIOUS'

interface Version {
  id: string
  string?: string
  binary?: Buffer
  stages: Set<string>
  created: Date
}

interface Secret {
  arn: string
  name: string
  description?: string
  kmsKeyId?: string
  tags: Array<{Key: string; Value: string}>
  created: Date
  lastChanged: Date
  lastAccessed?: Date
  deletedDate?: Date
  rotation?: {days: number; lastRotated?: Date}
  versions: Map<string, Version>
}

/**
 * A fault the next matching requests get instead of (or before) a normal answer; `op` is an operation
 * (`BatchGetSecretValue`, `kms:Decrypt`, `cloudtrail:LookupEvents`). Besides the shared kinds (denied:
 * AccessDeniedException, throttled: ThrottlingException 400, unavailable: InternalServiceError 500, reset),
 * `throttle429` is ThrottlingException with status 429, `latency` delays by `ms`, `decryptionFailure` is
 * Secrets Manager's DecryptionFailure.
 */
export type Fault = ServerFault<'throttle429' | 'latency' | 'decryptionFailure', {ms?: number}>

export interface ServerOptions {
  credentials: TestCredential[]
  region?: string
  account?: string
  /** Web identity tokens STS accepts, and the role ARNs they may assume. */
  webIdentity?: {tokens: string[]; roles: string[]}
  /** The instance profile role the instance metadata service (IMDSv2, `/latest/...`) hands out credentials for. */
  instanceRole?: string
  /** IAM Identity Center (SSO): access tokens the portal accepts, and the account/role they may use. */
  sso?: {tokens: string[]; account: string; role: string}
  /** The token the container credentials endpoint (`GET /container-credentials`) wants in Authorization. */
  containerToken?: string
  /** Role ARNs any known credential may assume with STS AssumeRole. */
  assumableRoles?: string[]
}

class ApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
    readonly coral = false,
  ) {
    super(message)
  }
}

const accessDenied = (action: string) =>
  new ApiError(
    'AccessDeniedException',
    `User: arn:aws:iam::123456789012:user/test is not authorized to perform: ${action} because no identity-based policy allows the ${action} action`,
  )
const notFound = () => new ApiError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.")
const markedForDeletion = () =>
  new ApiError(
    'InvalidRequestException',
    "You can't perform this operation on the secret because it was marked for deletion.",
  )
const invalidParam = (message: string) => new ApiError('InvalidParameterException', message)
const epoch = (d: Date | undefined) => (d === undefined ? undefined : d.getTime() / 1000)

export class SecretsManagerServer {
  readonly region: string
  readonly account: string
  /** Requests received per operation (`secretsmanager.X` → `X`, STS actions by name), faults included. */
  readonly faults = new Faults<Fault>()
  readonly counts: Record<string, number> = this.faults.counts()
  /** Milliseconds the server's clock is ahead of the real one (a stale-date test sets this). */
  clockSkewMs = 0
  /**
   * How the rotation Lambda behind RotateSecret behaves: after `delayMs` it runs createSecret
   * (the new value as AWSPENDING) and, unless `fail`, finishSecret (AWSCURRENT moved, AWSPENDING removed).
   */
  rotationLambda: {delayMs: number; fail: boolean} = {delayMs: 300, fail: false}
  private readonly credentials: TestCredential[]
  private readonly secrets = new Map<string, Secret>()
  private readonly denied: Array<{arn: string; action: string; secret?: string}> = []
  private readonly sockets = new Set<Socket>()
  private readonly kmsKeys = new Map<string, {arn: string; material: Buffer; enabled: boolean; aliases: string[]}>()
  private server?: Server
  private port = 0
  /** CloudTrail's event history of this account and region (Secrets Manager calls, plus planted events). */
  readonly cloudtrail: CloudTrailHistory

  constructor(private readonly options: ServerOptions) {
    this.region = options.region ?? 'us-east-1'
    this.account = options.account ?? '123456789012'
    this.credentials = [...options.credentials]
    this.cloudtrail = new CloudTrailHistory(this.region, this.account)
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  static async start(options: ServerOptions): Promise<SecretsManagerServer> {
    const s = new SecretsManagerServer(options)
    await s.listen()
    return s
  }

  private async listen(): Promise<void> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) this.send(res, 500, {__type: `${NS}InternalServiceError`, message: String(error)})
      })
    })
    this.server.on('connection', (s) => {
      this.sockets.add(s)
      s.on('close', () => this.sockets.delete(s))
    })
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve))
    this.port = (this.server.address() as AddressInfo).port
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy()
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve())
  }

  // ---- test controls ------------------------------------------------------------------------------

  /** Deny `action` (e.g. `secretsmanager:BatchGetSecretValue`) to the identity `arn`, on one secret name or all. */
  deny(arn: string, action: string, secret?: string): void {
    this.denied.push({arn, action, secret})
  }

  clearDenies(): void {
    this.denied.length = 0
  }

  /** Create a secret directly (no request), with its first value as AWSCURRENT; returns the version id. */
  seed(
    name: string,
    value: string | Buffer,
    o: {description?: string; tags?: Record<string, string>; rotation?: {days: number; lastRotated?: Date}} = {},
  ): string {
    const secret = this.newSecret(
      name,
      o.description,
      undefined,
      Object.entries(o.tags ?? {}).map(([Key, Value]) => ({Key, Value})),
    )
    secret.rotation = o.rotation
    return this.addVersion(secret, randomUUID(), typeof value === 'string' ? {string: value} : {binary: value}, [
      STAGES_CURRENT,
    ]).id
  }

  /** Add a version directly with the given stages (moving them as PutSecretValue would). */
  seedVersion(name: string, value: string, stages: string[]): string {
    const secret = this.secrets.get(name)
    if (secret === undefined) throw new Error(`no secret ${name}`)
    return this.addVersion(secret, randomUUID(), {string: value}, stages).id
  }

  /** Create a KMS key (with optional aliases such as `alias/secrets`); returns its ARN. */
  createKmsKey(aliases: string[] = []): string {
    const id = randomUUID()
    const arn = `arn:aws:kms:${this.region}:${this.account}:key/${id}`
    this.kmsKeys.set(id, {arn, material: randomBytes(32), enabled: true, aliases})
    return arn
  }

  disableKmsKey(arn: string): void {
    const key = [...this.kmsKeys.values()].find((k) => k.arn === arn)
    if (key) key.enabled = false
  }

  /** Stages per version id of a secret (for assertions). */
  stages(name: string): Record<string, string[]> {
    const secret = this.secrets.get(name)
    if (secret === undefined) throw new Error(`no secret ${name}`)
    return Object.fromEntries(
      [...secret.versions.values()].filter((v) => v.stages.size > 0).map((v) => [v.id, [...v.stages].sort()]),
    )
  }

  /** The value a stage points at (for assertions). */
  valueAt(name: string, stage = STAGES_CURRENT): string | undefined {
    const v = [...(this.secrets.get(name)?.versions.values() ?? [])].find((x) => x.stages.has(stage))
    return v?.string ?? v?.binary?.toString('base64')
  }

  arn(name: string): string {
    const s = this.secrets.get(name)
    if (s === undefined) throw new Error(`no secret ${name}`)
    return s.arn
  }

  has(name: string): boolean {
    return this.secrets.has(name)
  }

  deletionDate(name: string): Date | undefined {
    return this.secrets.get(name)?.deletedDate
  }

  // ---- HTTP ---------------------------------------------------------------------------------------

  private now(): Date {
    return new Date(Date.now() + this.clockSkewMs)
  }

  private send(res: ServerResponse, status: number, body: unknown, type = 'application/x-amz-json-1.1'): void {
    const text = typeof body === 'string' ? body : JSON.stringify(body)
    res.writeHead(status, {
      'Content-Type': type,
      'Content-Length': Buffer.byteLength(text),
      'x-amzn-RequestId': randomUUID(),
      // The SDK corrects its clock from this header after a clock-skew error, as with the real service.
      Date: this.now().toUTCString(),
    })
    res.end(text)
  }

  private sendError(res: ServerResponse, e: ApiError): void {
    const type =
      e.coral || e.type.includes('#')
        ? e.type
        : e.type === 'AccessDeniedException' || e.type === 'ThrottlingException'
          ? e.type
          : `${NS}${e.type}`
    // AccessDeniedException comes with a capitalised `Message`, as the real service sends it.
    const body =
      e.type === 'AccessDeniedException' ? {__type: type, Message: e.message} : {__type: type, message: e.message}
    this.send(res, e.status, body)
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const body = Buffer.concat(chunks)
    const contentType = String(req.headers['content-type'] ?? '')
    if (req.method === 'GET' && req.url === '/container-credentials') return this.handleContainerCredentials(req, res)
    if (req.method === 'GET' && req.url?.startsWith('/federation/credentials?')) return this.handleSso(req, res)
    if (req.url?.startsWith('/latest/')) return this.handleImds(req, res)
    if (contentType.startsWith('application/x-www-form-urlencoded')) {
      this.handleSts(req, body, res)
      return
    }
    const target = String(req.headers['x-amz-target'] ?? '')
    if (target.startsWith('TrentService.')) return this.handleKms(req, body, res, target.slice('TrentService.'.length))
    const cloudtrail = CLOUDTRAIL_TARGETS.find((t) => target.startsWith(t))
    if (cloudtrail !== undefined) return this.handleCloudTrail(req, body, res, target.slice(cloudtrail.length))
    const op = target.startsWith('secretsmanager.') ? target.slice('secretsmanager.'.length) : ''
    this.faults.count(op || '(none)')
    const fault = this.faults.take(op)
    if (fault?.kind === 'reset') {
      req.socket.destroy()
      return
    }
    if (fault?.kind === 'latency') await new Promise((r) => setTimeout(r, fault.ms ?? 1000))
    if (fault?.kind === 'denied') return this.sendError(res, accessDenied(`secretsmanager:${op}`))
    if (fault?.kind === 'throttled') return this.sendError(res, new ApiError('ThrottlingException', 'Rate exceeded'))
    if (fault?.kind === 'throttle429')
      return this.sendError(res, new ApiError('ThrottlingException', 'Rate exceeded', 429))
    if (fault?.kind === 'unavailable')
      return this.sendError(res, new ApiError('InternalServiceError', 'An error occurred on the server side.', 500))

    if (req.method !== 'POST' || req.url !== '/')
      return this.sendError(res, new ApiError('com.amazon.coral.service#UnknownOperationException', '', 404, true))
    const auth = verifySigV4({
      method: req.method,
      url: req.url,
      headers: req.headers,
      body,
      service: 'secretsmanager',
      region: this.region,
      credentials: this.credentials,
      now: this.now(),
    })
    if ('status' in auth)
      return this.sendError(res, new ApiError((auth as AuthFailure).type, auth.message, auth.status, true))
    if (!contentType.startsWith('application/x-amz-json-1.1')) {
      return this.sendError(res, new ApiError('com.amazon.coral.service#UnknownOperationException', '', 404, true))
    }
    let input: Record<string, unknown>
    try {
      input = body.length === 0 ? {} : (JSON.parse(body.toString('utf8')) as Record<string, unknown>)
    } catch {
      return this.sendError(
        res,
        new ApiError(
          'com.amazon.coral.service#SerializationException',
          'Start of structure or map found where not expected.',
          400,
          true,
        ),
      )
    }
    const handler = this.operations[op]
    if (handler === undefined)
      return this.sendError(res, new ApiError('com.amazon.coral.service#UnknownOperationException', '', 400, true))
    const secretId = input.SecretId ?? input.Name
    const arnOf = (id: unknown) => (typeof id === 'string' ? this.find(id)?.arn : undefined)
    const arns = () => [arnOf(secretId)].filter((a): a is string => a !== undefined)
    try {
      if (fault?.kind === 'decryptionFailure')
        throw new ApiError(
          'DecryptionFailure',
          "Secrets Manager can't decrypt the protected secret text using the provided KMS key.",
        )
      this.authorize(auth, op, op === 'BatchGetSecretValue' || op === 'ListSecrets' ? undefined : secretId)
      const out = handler(input, auth) as Record<string, unknown>
      const time = this.now()
      this.cloudtrail.recordCall(op, auth, input, {
        arns: op === 'DeleteSecret' && typeof out.ARN === 'string' ? [out.ARN] : arns(),
        time,
      })
      if (op === 'BatchGetSecretValue') {
        // CloudTrail logs a GetSecretValue event for each secret a batch returned, besides the batch itself.
        for (const v of (out.SecretValues ?? []) as Array<{ARN: string; Name: string}>)
          this.cloudtrail.recordCall('GetSecretValue', auth, {SecretId: v.Name}, {arns: [v.ARN], time})
      }
      this.send(res, 200, out)
    } catch (error) {
      if (error instanceof ApiError) {
        this.cloudtrail.recordCall(op, auth, input, {
          arns: arns(),
          time: this.now(),
          errorCode: error.type === 'AccessDeniedException' ? 'AccessDenied' : error.type.split('#').pop(),
          errorMessage: error.message,
        })
        return this.sendError(res, error)
      }
      throw error
    }
  }

  // ---- CloudTrail subset (LookupEvents; SigV4 service `cloudtrail`) -------------------------------

  private handleCloudTrail(req: IncomingMessage, body: Buffer, res: ServerResponse, op: string): Promise<void> | void {
    this.faults.count(`cloudtrail:${op}`)
    const fail = (e: CloudTrailError) => this.send(res, e.status, e.body())
    const fault = this.faults.take(`cloudtrail:${op}`)
    if (fault?.kind === 'reset') {
      req.socket.destroy()
      return
    }
    if (fault?.kind === 'denied')
      return fail(new CloudTrailError('AccessDeniedException', accessDenied(`cloudtrail:${op}`).message))
    if (fault?.kind === 'throttled') return fail(new CloudTrailError('ThrottlingException', 'Rate exceeded'))
    if (fault?.kind === 'throttle429') return fail(new CloudTrailError('ThrottlingException', 'Rate exceeded', 429))
    if (fault?.kind === 'unavailable')
      return fail(new CloudTrailError('InternalServiceException', 'An error occurred on the server side.', 500))
    const auth = verifySigV4({
      method: req.method ?? 'POST',
      url: req.url ?? '/',
      headers: req.headers,
      body,
      service: 'cloudtrail',
      region: this.region,
      credentials: this.credentials,
      now: this.now(),
    })
    if ('status' in auth)
      return this.sendError(res, new ApiError((auth as AuthFailure).type, auth.message, auth.status, true))
    let input: Record<string, unknown>
    try {
      input = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>
    } catch {
      return this.sendError(
        res,
        new ApiError(
          'com.amazon.coral.service#SerializationException',
          'Start of structure or map found where not expected.',
          400,
          true,
        ),
      )
    }
    if (op !== 'LookupEvents')
      return this.sendError(res, new ApiError('com.amazon.coral.service#UnknownOperationException', '', 400, true))
    if (this.denied.some((d) => d.arn === auth.arn && d.action === 'cloudtrail:LookupEvents')) {
      return fail(
        new CloudTrailError(
          'AccessDeniedException',
          `User: ${auth.arn} is not authorized to perform: cloudtrail:LookupEvents because no identity-based policy allows the cloudtrail:LookupEvents action`,
        ),
      )
    }
    try {
      this.send(res, 200, this.cloudtrail.lookup(input))
    } catch (error) {
      if (error instanceof CloudTrailError) return fail(error)
      throw error
    }
  }

  private isDenied(who: TestCredential, action: string, secretId: unknown): boolean {
    const name = typeof secretId === 'string' ? (this.find(secretId)?.name ?? secretId) : undefined
    return this.denied.some(
      (d) => d.arn === who.arn && d.action === action && (d.secret === undefined || d.secret === name),
    )
  }

  private authorize(who: TestCredential, op: string, secretId: unknown): void {
    const action = `secretsmanager:${op}`
    if (!this.isDenied(who, action, secretId)) return
    const resource = typeof secretId === 'string' ? (this.find(secretId)?.arn ?? secretId) : '*'
    throw new ApiError(
      'AccessDeniedException',
      `User: ${who.arn} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`,
    )
  }

  // ---- the model ----------------------------------------------------------------------------------

  private find(id: string): Secret | undefined {
    const byName = this.secrets.get(id)
    if (byName) return byName
    for (const s of this.secrets.values()) {
      // A full ARN, or a partial one without the random suffix.
      if (s.arn === id || s.arn.slice(0, -7) === id) return s
    }
    return undefined
  }

  private get(id: unknown, o: {deletedOk?: boolean} = {}): Secret {
    if (typeof id !== 'string' || id.length === 0 || id.length > 2048) throw invalidParam('Invalid SecretId.')
    const s = this.find(id)
    if (s === undefined) throw notFound()
    if (s.deletedDate !== undefined && !o.deletedOk) throw markedForDeletion()
    return s
  }

  private newSecret(name: string, description?: string, kmsKeyId?: string, tags: Secret['tags'] = []): Secret {
    if (!/^[\w/+=.@!-]{1,512}$/.test(name))
      throw invalidParam(
        'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!',
      )
    if (this.secrets.has(name))
      throw new ApiError('ResourceExistsException', `The operation failed because the secret ${name} already exists.`)
    const suffix = randomBytes(6).toString('base64url').replaceAll(/[-_]/g, 'x').slice(0, 6)
    const now = this.now()
    const secret: Secret = {
      arn: `arn:aws:secretsmanager:${this.region}:${this.account}:secret:${name}-${suffix}`,
      name,
      description,
      kmsKeyId,
      tags,
      created: now,
      lastChanged: now,
      versions: new Map(),
    }
    this.secrets.set(name, secret)
    return secret
  }

  /** Attach `stages` to a new version, moving each label off the version that had it (AWSCURRENT leaves AWSPREVIOUS behind). */
  private addVersion(secret: Secret, id: string, value: {string?: string; binary?: Buffer}, stages: string[]): Version {
    const version: Version = {id, ...value, stages: new Set(), created: this.now()}
    secret.versions.set(id, version)
    for (const stage of stages) this.moveStage(secret, stage, version)
    secret.lastChanged = this.now()
    return version
  }

  private moveStage(secret: Secret, stage: string, to: Version | undefined): void {
    const from = [...secret.versions.values()].find((v) => v.stages.has(stage))
    if (from === to) return
    from?.stages.delete(stage)
    to?.stages.add(stage)
    if (stage === STAGES_CURRENT && from !== undefined) {
      for (const v of secret.versions.values()) v.stages.delete(STAGES_PREVIOUS)
      from.stages.add(STAGES_PREVIOUS)
    }
    // Versions without a label are deprecated; the service removes them in the background.
    for (const [vid, v] of secret.versions)
      if (v.stages.size === 0 && secret.versions.size > 100) secret.versions.delete(vid)
  }

  private value(input: Record<string, unknown>): {string?: string; binary?: Buffer} | undefined {
    const {SecretString: str, SecretBinary: bin} = input
    if (str !== undefined && bin !== undefined)
      throw invalidParam("You can't specify both a binary secret value and a string secret value in the same secret.")
    if (typeof str === 'string') {
      if (Buffer.byteLength(str) > 65_536)
        throw invalidParam('The secret value exceeds the maximum size of 65536 bytes.')
      return {string: str}
    }
    if (typeof bin === 'string') return {binary: Buffer.from(bin, 'base64')}
    return undefined
  }

  private token(input: Record<string, unknown>): string {
    const t = input.ClientRequestToken
    if (t === undefined) return randomUUID()
    if (typeof t !== 'string' || t.length < 32 || t.length > 64)
      throw invalidParam('ClientRequestToken must be 32-64 characters long.')
    return t
  }

  private versionOut(s: Secret, v: Version): Record<string, unknown> {
    return {
      ARN: s.arn,
      Name: s.name,
      VersionId: v.id,
      ...(v.string === undefined ? {SecretBinary: v.binary!.toString('base64')} : {SecretString: v.string}),
      VersionStages: [...v.stages],
      CreatedDate: epoch(v.created),
    }
  }

  private pick(s: Secret, versionId: unknown, stage: unknown): Version {
    if (versionId !== undefined && typeof versionId !== 'string') throw invalidParam('Invalid VersionId.')
    if (stage !== undefined && typeof stage !== 'string') throw invalidParam('Invalid VersionStage.')
    const want = stage ?? (versionId === undefined ? STAGES_CURRENT : undefined)
    const v =
      versionId === undefined
        ? [...s.versions.values()].find((x) => x.stages.has(want as string))
        : s.versions.get(versionId)
    if (v === undefined || (want !== undefined && !v.stages.has(want as string))) {
      throw new ApiError(
        'ResourceNotFoundException',
        versionId === undefined
          ? `Secrets Manager can't find the specified secret value for staging label: ${want as string}`
          : `Secrets Manager can't find the specified secret value for VersionId: ${versionId}`,
      )
    }
    if (v.string === undefined && v.binary === undefined)
      throw new ApiError(
        'ResourceNotFoundException',
        "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
      )
    return v
  }

  private matches(s: Secret, filters: unknown): boolean {
    if (filters === undefined) return true
    if (!Array.isArray(filters)) throw invalidParam('Invalid Filters.')
    return filters.every((f: {Key?: string; Values?: string[]}) => {
      const values = f.Values ?? []
      return values.some((raw) => {
        const negate = raw.startsWith('!')
        const want = negate ? raw.slice(1) : raw
        let hit: boolean
        switch (f.Key) {
          case 'name':
            hit = s.name.startsWith(want)
            break
          case 'description':
            hit = (s.description ?? '').toLowerCase().startsWith(want.toLowerCase())
            break
          case 'tag-key':
            hit = s.tags.some((t) => t.Key.startsWith(want))
            break
          case 'tag-value':
            hit = s.tags.some((t) => t.Value.startsWith(want))
            break
          case 'primary-region':
            hit = this.region.startsWith(want)
            break
          case 'owning-service':
            hit = false
            break
          case 'all': {
            const words = want.toLowerCase().split(/\s+/)
            const text = [s.name, s.description ?? '', ...s.tags.flatMap((t) => [t.Key, t.Value])]
              .join(' ')
              .toLowerCase()
            hit = words.every((w) => text.includes(w))
            break
          }
          default:
            throw invalidParam(`Invalid filter key: ${String(f.Key)}.`)
        }
        return negate ? !hit : hit
      })
    })
  }

  private page<T>(
    items: T[],
    input: Record<string, unknown>,
    max: number,
    dflt: number,
  ): {page: T[]; NextToken?: string} {
    const size = input.MaxResults === undefined ? dflt : Number(input.MaxResults)
    if (!Number.isInteger(size) || size < 1 || size > max)
      throw invalidParam(`MaxResults must be between 1 and ${max}.`)
    let start = 0
    if (input.NextToken !== undefined) {
      const m = /^tok-(\d+)$/.exec(Buffer.from(String(input.NextToken), 'base64').toString('utf8'))
      if (!m || Number(m[1]) > items.length)
        throw new ApiError('InvalidNextTokenException', 'The NextToken value is invalid.')
      start = Number(m[1])
    }
    const end = start + size
    return {
      page: items.slice(start, end),
      ...(end < items.length ? {NextToken: Buffer.from(`tok-${end}`).toString('base64')} : {}),
    }
  }

  private listEntry(s: Secret): Record<string, unknown> {
    return {
      ARN: s.arn,
      Name: s.name,
      ...(s.description === undefined ? {} : {Description: s.description}),
      ...(s.kmsKeyId === undefined ? {} : {KmsKeyId: s.kmsKeyId}),
      RotationEnabled: s.rotation !== undefined,
      ...(s.rotation === undefined
        ? {}
        : {
            RotationLambdaARN: `arn:aws:lambda:${this.region}:${this.account}:function:rotate`,
            RotationRules: {AutomaticallyAfterDays: s.rotation.days},
            ...(s.rotation.lastRotated === undefined
              ? {}
              : {
                  LastRotatedDate: epoch(s.rotation.lastRotated),
                  NextRotationDate: epoch(new Date(s.rotation.lastRotated.getTime() + s.rotation.days * 86_400_000)),
                }),
          }),
      LastChangedDate: epoch(s.lastChanged),
      ...(s.lastAccessed === undefined ? {} : {LastAccessedDate: epoch(s.lastAccessed)}),
      ...(s.deletedDate === undefined ? {} : {DeletedDate: epoch(s.deletedDate)}),
      Tags: s.tags,
      SecretVersionsToStages: Object.fromEntries(
        [...s.versions.values()].filter((v) => v.stages.size > 0).map((v) => [v.id, [...v.stages]]),
      ),
      CreatedDate: epoch(s.created),
    }
  }

  private readonly operations: Record<string, (input: Record<string, unknown>, who: TestCredential) => unknown> = {
    CreateSecret: (input) => {
      if (typeof input.Name !== 'string') throw invalidParam('Name is required.')
      const value = this.value(input)
      const token = this.token(input)
      const s = this.newSecret(
        input.Name,
        input.Description as string | undefined,
        input.KmsKeyId as string | undefined,
        (input.Tags as Secret['tags'] | undefined) ?? [],
      )
      if (value === undefined) return {ARN: s.arn, Name: s.name}
      const v = this.addVersion(s, token, value, [STAGES_CURRENT])
      return {ARN: s.arn, Name: s.name, VersionId: v.id}
    },

    PutSecretValue: (input) => {
      const s = this.get(input.SecretId)
      const value = this.value(input)
      if (value === undefined) throw invalidParam('You must provide either SecretString or SecretBinary.')
      const token = this.token(input)
      const stages = (input.VersionStages as string[] | undefined) ?? [STAGES_CURRENT]
      const existing = s.versions.get(token)
      if (existing !== undefined) {
        // The same token and the same value is a retry: answered, nothing changes.
        const same =
          existing.string === value.string &&
          (existing.binary === undefined
            ? value.binary === undefined
            : value.binary !== undefined && existing.binary.equals(value.binary))
        if (!same)
          throw new ApiError(
            'ResourceExistsException',
            `A version with VersionId: ${token} already exists with different contents; you can't modify an existing version.`,
          )
        return {ARN: s.arn, Name: s.name, VersionId: existing.id, VersionStages: [...existing.stages]}
      }
      const v = this.addVersion(s, token, value, stages)
      return {ARN: s.arn, Name: s.name, VersionId: v.id, VersionStages: [...v.stages]}
    },

    GetSecretValue: (input) => {
      const s = this.get(input.SecretId)
      const v = this.pick(s, input.VersionId, input.VersionStage)
      s.lastAccessed = this.now()
      return this.versionOut(s, v)
    },

    BatchGetSecretValue: (input, who) => {
      const {SecretIdList: ids, Filters: filters} = input
      if ((ids === undefined) === (filters === undefined))
        throw invalidParam('You must provide either SecretIdList or Filters, but not both.')
      if (this.isDenied(who, 'secretsmanager:BatchGetSecretValue', undefined))
        this.authorize(who, 'BatchGetSecretValue', undefined)
      const SecretValues: unknown[] = []
      const Errors: unknown[] = []
      const one = (id: string, s: Secret | undefined) => {
        try {
          if (this.isDenied(who, 'secretsmanager:GetSecretValue', id)) this.authorize(who, 'GetSecretValue', id)
          if (s === undefined) throw notFound()
          if (s.deletedDate !== undefined) throw markedForDeletion()
          const v = this.pick(s, undefined, undefined)
          s.lastAccessed = this.now()
          SecretValues.push(this.versionOut(s, v))
        } catch (error) {
          if (!(error instanceof ApiError)) throw error
          Errors.push({SecretId: id, ErrorCode: error.type, Message: error.message})
        }
      }
      if (ids !== undefined) {
        if (!Array.isArray(ids) || ids.length < 1 || ids.length > 20)
          throw invalidParam('SecretIdList must contain between 1 and 20 secret IDs.')
        if (input.MaxResults !== undefined || input.NextToken !== undefined)
          throw invalidParam('MaxResults and NextToken can only be used with Filters.')
        if (new Set(ids).size !== ids.length) throw invalidParam('SecretIdList contains duplicate secret IDs.')
        for (const id of ids as string[]) one(id, this.find(id))
        return {SecretValues, Errors}
      }
      const all = [...this.secrets.values()].filter((s) => s.deletedDate === undefined && this.matches(s, filters))
      const {page, NextToken} = this.page(all, input, 20, 20)
      for (const s of page) one(s.name, s)
      return {SecretValues, Errors, ...(NextToken ? {NextToken} : {})}
    },

    DescribeSecret: (input) => {
      const s = this.get(input.SecretId, {deletedOk: true})
      const {SecretVersionsToStages, ...rest} = this.listEntry(s)
      return {...rest, VersionIdsToStages: SecretVersionsToStages}
    },

    ListSecrets: (input) => {
      const includeDeleted = input.IncludePlannedDeletion === true
      let all = [...this.secrets.values()].filter(
        (s) => (includeDeleted || s.deletedDate === undefined) && this.matches(s, input.Filters),
      )
      if (input.SortOrder === 'desc') all = all.reverse()
      const {page, NextToken} = this.page(all, input, 100, 100)
      return {SecretList: page.map((s) => this.listEntry(s)), ...(NextToken ? {NextToken} : {})}
    },

    DeleteSecret: (input) => {
      const s = this.get(input.SecretId, {deletedOk: true})
      const force = input.ForceDeleteWithoutRecovery === true
      if (force && input.RecoveryWindowInDays !== undefined)
        throw invalidParam("You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.")
      if (force) {
        this.secrets.delete(s.name)
        return {ARN: s.arn, Name: s.name, DeletionDate: epoch(this.now())}
      }
      if (s.deletedDate !== undefined) throw markedForDeletion()
      const days = input.RecoveryWindowInDays === undefined ? 30 : Number(input.RecoveryWindowInDays)
      if (!Number.isInteger(days) || days < 7 || days > 30)
        throw invalidParam('The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).')
      s.deletedDate = new Date(this.now().getTime() + days * 86_400_000)
      return {ARN: s.arn, Name: s.name, DeletionDate: epoch(s.deletedDate)}
    },

    RestoreSecret: (input) => {
      const s = this.get(input.SecretId, {deletedOk: true})
      s.deletedDate = undefined
      return {ARN: s.arn, Name: s.name}
    },

    RotateSecret: (input) => {
      const s = this.get(input.SecretId)
      const token = this.token(input)
      if (typeof input.RotationLambdaARN === 'string' || input.RotationRules !== undefined) {
        s.rotation = {
          days:
            (input.RotationRules as {AutomaticallyAfterDays?: number} | undefined)?.AutomaticallyAfterDays ??
            s.rotation?.days ??
            30,
          lastRotated: s.rotation?.lastRotated,
        }
      }
      if (s.rotation === undefined)
        throw new ApiError('InvalidRequestException', 'No Lambda rotation function ARN is associated with this secret.')
      const pending = [...s.versions.values()].find((v) => v.stages.has('AWSPENDING') && !v.stages.has(STAGES_CURRENT))
      if (pending !== undefined && pending.id !== token)
        throw new ApiError(
          'InvalidRequestException',
          "A previous rotation isn't complete. That rotation will be reattempted.",
        )
      const {delayMs, fail} = this.rotationLambda
      setTimeout(() => {
        // The Lambda's createSecret step, then (unless it fails) finishSecret.
        const v =
          s.versions.get(token) ??
          this.addVersion(s, token, {string: `rotated-by-lambda-${randomBytes(12).toString('hex')}`}, ['AWSPENDING'])
        if (fail) return
        this.moveStage(s, STAGES_CURRENT, v)
        this.moveStage(s, 'AWSPENDING', undefined)
        s.rotation = {days: s.rotation?.days ?? 30, lastRotated: this.now()}
        s.lastChanged = this.now()
      }, delayMs).unref()
      return {ARN: s.arn, Name: s.name, VersionId: token}
    },

    ListSecretVersionIds: (input) => {
      const s = this.get(input.SecretId)
      const all = [...s.versions.values()].filter((v) => input.IncludeDeprecated === true || v.stages.size > 0)
      const {page, NextToken} = this.page(all, input, 100, 100)
      return {
        ARN: s.arn,
        Name: s.name,
        Versions: page.map((v) => ({
          VersionId: v.id,
          VersionStages: [...v.stages],
          CreatedDate: epoch(v.created),
          KmsKeyIds: ['DefaultEncryptionKey'],
        })),
        ...(NextToken ? {NextToken} : {}),
      }
    },

    UpdateSecretVersionStage: (input) => {
      const s = this.get(input.SecretId)
      const stage = input.VersionStage
      if (typeof stage !== 'string' || stage.length === 0 || stage.length > 256)
        throw invalidParam('Invalid VersionStage.')
      const holder = [...s.versions.values()].find((v) => v.stages.has(stage))
      const {MoveToVersionId: to, RemoveFromVersionId: from} = input as {
        MoveToVersionId?: string
        RemoveFromVersionId?: string
      }
      if (to !== undefined && !s.versions.has(to))
        throw new ApiError(
          'ResourceNotFoundException',
          `Secrets Manager can't find the specified secret value for VersionId: ${to}`,
        )
      if (from !== undefined && holder?.id !== from)
        throw invalidParam(`The staging label ${stage} is not attached to version ${from}.`)
      if (to !== undefined && holder !== undefined && holder.id !== to && from === undefined) {
        throw invalidParam(
          `The staging label ${stage} is currently attached to version ${holder.id}, so you must explicitly reference that version in RemoveFromVersionId.`,
        )
      }
      this.moveStage(s, stage, to === undefined ? undefined : s.versions.get(to))
      s.lastChanged = this.now()
      return {ARN: s.arn, Name: s.name}
    },
  }

  // ---- KMS subset (awsJson1_1, X-Amz-Target: TrentService.<Op>, SigV4 service `kms`) -------------

  private kmsKey(id: unknown): {id: string; arn: string; material: Buffer; enabled: boolean} {
    if (typeof id !== 'string' || id.length === 0)
      throw new ApiError(
        'ValidationException',
        "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null",
      )
    for (const [kid, k] of this.kmsKeys) {
      const aliasArn = (a: string) => `arn:aws:kms:${this.region}:${this.account}:${a}`
      if (id === kid || id === k.arn || k.aliases.includes(id) || k.aliases.some((a) => aliasArn(a) === id))
        return {id: kid, ...k}
    }
    throw new ApiError(
      'NotFoundException',
      id.startsWith('alias/') || id.includes(':alias/')
        ? `Alias ${id.includes(':') ? id : `arn:aws:kms:${this.region}:${this.account}:${id}`} is not found.`
        : `Key '${id}' does not exist`,
    )
  }

  private handleKms(req: IncomingMessage, body: Buffer, res: ServerResponse, op: string): void {
    this.faults.count(`kms:${op}`)
    const kmsError = (e: ApiError) => this.send(res, e.status, {__type: e.coral ? e.type : e.type, message: e.message})
    const fault = this.faults.take(`kms:${op}`)
    if (fault?.kind === 'reset') {
      req.socket.destroy()
      return
    }
    if (fault?.kind === 'denied') return kmsError(accessDenied(`kms:${op}`))
    if (fault?.kind === 'throttled') return kmsError(new ApiError('ThrottlingException', 'Rate exceeded'))
    const auth = verifySigV4({
      method: req.method ?? 'POST',
      url: req.url ?? '/',
      headers: req.headers,
      body,
      service: 'kms',
      region: this.region,
      credentials: this.credentials,
      now: this.now(),
    })
    if ('status' in auth) return kmsError(new ApiError(auth.type, auth.message, auth.status, true))
    let input: Record<string, unknown>
    try {
      input = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>
    } catch {
      return kmsError(new ApiError('com.amazon.coral.service#SerializationException', '', 400, true))
    }
    const context = (c: unknown) =>
      Buffer.from(JSON.stringify(Object.entries((c ?? {}) as Record<string, string>).sort()))
    const deniedOn = (action: string, arn: string) => {
      if (
        this.denied.some(
          (d) => d.arn === auth.arn && d.action === action && (d.secret === undefined || d.secret === arn),
        )
      ) {
        throw new ApiError(
          'AccessDeniedException',
          `User: ${auth.arn} is not authorized to perform: ${action} on resource: ${arn} because no identity-based policy allows the ${action} action`,
        )
      }
    }
    try {
      let out: unknown
      switch (op) {
        case 'DescribeKey': {
          const k = this.kmsKey(input.KeyId)
          deniedOn('kms:DescribeKey', k.arn)
          out = {
            KeyMetadata: {
              KeyId: k.id,
              Arn: k.arn,
              Enabled: k.enabled,
              KeyState: k.enabled ? 'Enabled' : 'Disabled',
              KeyUsage: 'ENCRYPT_DECRYPT',
              KeySpec: 'SYMMETRIC_DEFAULT',
              AWSAccountId: this.account,
            },
          }
          break
        }
        case 'Encrypt': {
          const k = this.kmsKey(input.KeyId)
          deniedOn('kms:Encrypt', k.arn)
          if (!k.enabled) throw new ApiError('DisabledException', `${k.arn} is disabled.`)
          const plain = Buffer.from(String(input.Plaintext ?? ''), 'base64')
          if (plain.length === 0 || plain.length > 4096)
            throw new ApiError('ValidationException', 'Plaintext must be 1 to 4096 bytes.')
          const iv = randomBytes(12)
          const c = createCipheriv('aes-256-gcm', k.material, iv).setAAD(context(input.EncryptionContext))
          const ct = Buffer.concat([c.update(plain), c.final()])
          const idBytes = Buffer.from(k.id)
          const blob = Buffer.concat([
            Buffer.from('TKMS'),
            Buffer.from([idBytes.length]),
            idBytes,
            iv,
            c.getAuthTag(),
            ct,
          ])
          out = {CiphertextBlob: blob.toString('base64'), KeyId: k.arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT'}
          break
        }
        case 'Decrypt': {
          const blob = Buffer.from(String(input.CiphertextBlob ?? ''), 'base64')
          if (blob.length < 34 || blob.subarray(0, 4).toString() !== 'TKMS')
            throw new ApiError('InvalidCiphertextException', '')
          const idLength = blob[4]
          const kid = blob.subarray(5, 5 + idLength).toString()
          const k = this.kmsKey(kid)
          if (input.KeyId !== undefined && this.kmsKey(input.KeyId).id !== k.id) {
            throw new ApiError(
              'IncorrectKeyException',
              'The key ID in the request does not identify a CMK that can perform this operation.',
            )
          }
          deniedOn('kms:Decrypt', k.arn)
          if (!k.enabled) throw new ApiError('DisabledException', `${k.arn} is disabled.`)
          const rest = blob.subarray(5 + idLength)
          const d = createDecipheriv('aes-256-gcm', k.material, rest.subarray(0, 12)).setAAD(
            context(input.EncryptionContext),
          )
          d.setAuthTag(rest.subarray(12, 28))
          let plain: Buffer
          try {
            plain = Buffer.concat([d.update(rest.subarray(28)), d.final()])
          } catch {
            throw new ApiError('InvalidCiphertextException', '')
          }
          out = {KeyId: k.arn, Plaintext: plain.toString('base64'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT'}
          break
        }
        default:
          throw new ApiError('com.amazon.coral.service#UnknownOperationException', '', 400, true)
      }
      this.send(res, 200, out)
    } catch (error) {
      if (error instanceof ApiError) return kmsError(error)
      throw error
    }
  }

  // ---- IAM Identity Center portal (GetRoleCredentials, restJson1) ---------------------------------

  private handleSso(req: IncomingMessage, res: ServerResponse): void {
    this.faults.count('GetRoleCredentials')
    const q = new URL(req.url ?? '/', 'http://localhost').searchParams
    const sso = this.options.sso
    const token = req.headers['x-amz-sso_bearer_token']
    const fail = (status: number, type: string, message: string) => {
      res.writeHead(status, {'Content-Type': 'application/json', 'x-amzn-ErrorType': type})
      res.end(JSON.stringify({message}))
    }
    if (sso === undefined || typeof token !== 'string' || !sso.tokens.includes(token))
      return fail(401, 'UnauthorizedException', 'Session token not found or invalid')
    if (q.get('account_id') !== sso.account || q.get('role_name') !== sso.role)
      return fail(403, 'ForbiddenException', 'No access')
    const cred: TestCredential = {
      accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(48).toString('base64'),
      arn: `arn:aws:sts::${sso.account}:assumed-role/AWSReservedSSO_${sso.role}_0123456789abcdef/sso-user`,
    }
    this.credentials.push(cred)
    this.send(
      res,
      200,
      {
        roleCredentials: {
          accessKeyId: cred.accessKeyId,
          secretAccessKey: cred.secretAccessKey,
          sessionToken: cred.sessionToken,
          expiration: Date.now() + 3600_000,
        },
      },
      'application/json',
    )
  }

  // ---- Instance metadata (IMDSv2: a PUT for a session token, then GETs carrying it) ----------------

  private readonly imdsTokens = new Set<string>()

  private handleImds(req: IncomingMessage, res: ServerResponse): void {
    this.faults.count(`IMDS ${req.method} ${req.url}`)
    const text = (status: number, body: string) => {
      res.writeHead(status, {'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body)})
      res.end(body)
    }
    const role = this.options.instanceRole
    if (role === undefined) return text(404, 'Not Found')
    if (req.method === 'PUT' && req.url === '/latest/api/token') {
      if (req.headers['x-aws-ec2-metadata-token-ttl-seconds'] === undefined) return text(400, 'Bad Request')
      const token = randomBytes(24).toString('base64')
      this.imdsTokens.add(token)
      return text(200, token)
    }
    if (req.method !== 'GET' || !this.imdsTokens.has(String(req.headers['x-aws-ec2-metadata-token'] ?? '')))
      return text(401, 'Unauthorized')
    const base = '/latest/meta-data/iam/security-credentials/'
    if (req.url === base) return text(200, role)
    if (req.url === `${base}${role}`) {
      const cred: TestCredential = {
        accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
        secretAccessKey: randomBytes(30).toString('base64'),
        sessionToken: randomBytes(48).toString('base64'),
        arn: `arn:aws:sts::${this.account}:assumed-role/${role}/i-0123456789abcdef0`,
      }
      this.credentials.push(cred)
      return text(
        200,
        JSON.stringify({
          Code: 'Success',
          LastUpdated: new Date().toISOString(),
          Type: 'AWS-HMAC',
          AccessKeyId: cred.accessKeyId,
          SecretAccessKey: cred.secretAccessKey,
          Token: cred.sessionToken,
          Expiration: new Date(Date.now() + 3600_000).toISOString(),
        }),
      )
    }
    return text(404, 'Not Found')
  }

  // ---- Container credentials (ECS/EKS Pod Identity: AWS_CONTAINER_CREDENTIALS_FULL_URI) ----------

  private handleContainerCredentials(req: IncomingMessage, res: ServerResponse): void {
    this.faults.count('ContainerCredentials')
    if (this.options.containerToken === undefined || req.headers.authorization !== this.options.containerToken) {
      return this.send(
        res,
        403,
        {Code: 'AccessDenied', Message: 'Authorization token is missing or invalid'},
        'application/json',
      )
    }
    const cred: TestCredential = {
      accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(48).toString('base64'),
      arn: `arn:aws:sts::${this.account}:assumed-role/task-role/container`,
    }
    this.credentials.push(cred)
    this.send(
      res,
      200,
      {
        AccessKeyId: cred.accessKeyId,
        SecretAccessKey: cred.secretAccessKey,
        Token: cred.sessionToken,
        Expiration: new Date(Date.now() + 3600_000).toISOString(),
        RoleArn: `arn:aws:iam::${this.account}:role/task-role`,
      },
      'application/json',
    )
  }

  // ---- STS (awsQuery, form-encoded; AssumeRoleWithWebIdentity is not signed) ---------------------

  private handleSts(req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    const p = new URLSearchParams(body.toString('utf8'))
    const action = p.get('Action') ?? '(none)'
    this.faults.count(action)
    const xmlError = (status: number, code: string, message: string) =>
      this.send(
        res,
        status,
        `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
        'text/xml',
      )
    const role = p.get('RoleArn') ?? ''
    const session = p.get('RoleSessionName') ?? 'session'
    if (action === 'AssumeRoleWithWebIdentity') {
      const wi = this.options.webIdentity
      if (wi === undefined || !wi.tokens.includes(p.get('WebIdentityToken') ?? ''))
        return xmlError(
          400,
          'InvalidIdentityToken',
          "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements",
        )
      if (!wi.roles.includes(role))
        return xmlError(403, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity')
    } else if (action === 'AssumeRole') {
      // AssumeRole is signed like any other call, with the service name `sts`.
      const auth = verifySigV4({
        method: req.method ?? 'POST',
        url: req.url ?? '/',
        headers: req.headers,
        body,
        service: 'sts',
        region: this.region,
        credentials: this.credentials,
        now: this.now(),
      })
      if ('status' in auth)
        return xmlError(
          auth.status === 400 ? 403 : auth.status,
          auth.type.split('#')[1] === 'InvalidSignatureException' ? 'SignatureDoesNotMatch' : 'InvalidClientTokenId',
          auth.message,
        )
      if (!(this.options.assumableRoles ?? []).includes(role))
        return xmlError(
          403,
          'AccessDenied',
          `User: ${auth.arn} is not authorized to perform: sts:AssumeRole on resource: ${role}`,
        )
    } else {
      return xmlError(400, 'InvalidAction', `Could not find operation ${action} for version ${p.get('Version') ?? ''}`)
    }
    const roleName = role.split('/').pop()
    const cred: TestCredential = {
      accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(48).toString('base64'),
      arn: `arn:aws:sts::${this.account}:assumed-role/${roleName}/${session}`,
    }
    this.credentials.push(cred)
    const expiration = new Date(Date.now() + 3600_000).toISOString()
    const extra =
      action === 'AssumeRoleWithWebIdentity'
        ? '<SubjectFromWebIdentityToken>ci</SubjectFromWebIdentityToken><Audience>sts.amazonaws.com</Audience><Provider>token.actions.githubusercontent.com</Provider>'
        : ''
    this.send(
      res,
      200,
      `<${action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <${action}Result>${extra}
    <AssumedRoleUser><Arn>${cred.arn}</Arn><AssumedRoleId>AROA${randomBytes(8).toString('hex').toUpperCase()}:${session}</AssumedRoleId></AssumedRoleUser>
    <Credentials><SessionToken>${cred.sessionToken}</SessionToken><SecretAccessKey>${cred.secretAccessKey}</SecretAccessKey><Expiration>${expiration}</Expiration><AccessKeyId>${cred.accessKeyId}</AccessKeyId></Credentials>
  </${action}Result>
  <ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>
</${action}Response>`,
      'text/xml',
    )
  }
}

function escapeXml(s: string): string {
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')
}

export {amzDate}
