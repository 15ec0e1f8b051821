/**
 * The CloudTrail subset of the AWS test server: the event history that `LookupEvents` reads
 * (awsJson1_1, `X-Amz-Target: [com.amazonaws.cloudtrail.v20131101.]CloudTrail_20131101.LookupEvents`,
 * SigV4 service name `cloudtrail`). Like CloudTrail, it records every Secrets Manager call the server
 * answers as a management event (request parameters without secret values, error code and message for
 * failures, a GetSecretValue event per secret a BatchGetSecretValue returned); tests can plant events too.
 *
 * LookupEvents follows the API reference: at most one lookup attribute (EventId, EventName, ReadOnly,
 * Username, ResourceType, ResourceName, EventSource, AccessKeyId), StartTime/EndTime inclusive (epoch
 * seconds), newest first, MaxResults 1-50 (default 50), a NextToken valid only with the same parameters,
 * and EventCategory `insight` (which returns no management events).
 */
import {createHash, randomUUID} from 'node:crypto'

import type {TestCredential} from './sigv4.js'

/**
 * The X-Amz-Target prefixes of CloudTrail: the model's full one (botocore sends it) and the short one
 * that @aws-sdk/client-cloudtrail 3.x sends (`CloudTrail_20131101.LookupEvents`); the service takes both.
 */
export const CLOUDTRAIL_TARGETS = ['com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.', 'CloudTrail_20131101.']
const CT_NS = 'com.amazonaws.cloudtrail.v20131101#'
const SOURCE = 'secretsmanager.amazonaws.com'
const ATTRIBUTE_KEYS = new Set([
  'EventId',
  'EventName',
  'ReadOnly',
  'Username',
  'ResourceType',
  'ResourceName',
  'EventSource',
  'AccessKeyId',
])
const READ_ONLY = new Set([
  'GetSecretValue',
  'BatchGetSecretValue',
  'DescribeSecret',
  'ListSecrets',
  'ListSecretVersionIds',
  'GetResourcePolicy',
  'GetRandomPassword',
])

/** An error in CloudTrail's shape: `__type` and `message` (the SDK reads the part after `#`). */
export class CloudTrailError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message)
  }

  body(): Record<string, string> {
    return this.type === 'AccessDeniedException' || this.type === 'ThrottlingException'
      ? {__type: this.type, message: this.message}
      : {__type: `${CT_NS}${this.type}`, message: this.message}
  }
}

/** One event in the history, as LookupEvents returns it (times kept as Date here). */
export interface TrailRecord {
  EventId: string
  EventName: string
  ReadOnly: string
  AccessKeyId?: string
  EventTime: Date
  EventSource: string
  Username?: string
  Resources: Array<{ResourceType: string; ResourceName: string}>
  CloudTrailEvent: string
}

/** What a test plants: a Secrets Manager event at a given time, by a given identity. */
export interface PlantedEvent {
  eventName: string
  secretId: string
  /** The secret's ARN, for Resources (defaults to none). */
  arn?: string
  time: Date
  /** The caller's ARN (an IAM user or an assumed role). */
  actor: string
  accessKeyId?: string
  errorCode?: string
  errorMessage?: string
  sourceIp?: string
}

/** Parameter names that CloudTrail logs for Secrets Manager calls: never SecretString or SecretBinary. */
const LOGGED = [
  'SecretId',
  'Name',
  'VersionId',
  'VersionStage',
  'SecretIdList',
  'Description',
  'KmsKeyId',
  'ClientRequestToken',
  'RecoveryWindowInDays',
  'ForceDeleteWithoutRecovery',
  'MoveToVersionId',
  'RemoveFromVersionId',
  'MaxResults',
  'IncludePlannedDeletion',
]

function camel(s: string): string {
  return s[0].toLowerCase() + s.slice(1)
}

/** `IAMUser` or `AssumedRole` identity blocks, and the Username column LookupEvents shows for them. */
function identity(
  arn: string,
  account: string,
  accessKeyId?: string,
): {userIdentity: Record<string, unknown>; username: string} {
  const assumed = /^arn:aws:sts::(\d{12}):assumed-role\/([^/]+)\/(.+)$/.exec(arn)
  if (assumed) {
    return {
      userIdentity: {
        type: 'AssumedRole',
        principalId: `AROAEXAMPLE:${assumed[3]}`,
        arn,
        accountId: assumed[1],
        accessKeyId,
        sessionContext: {
          sessionIssuer: {
            type: 'Role',
            principalId: 'AROAEXAMPLE',
            arn: `arn:aws:iam::${assumed[1]}:role/${assumed[2]}`,
            accountId: assumed[1],
            userName: assumed[2],
          },
        },
      },
      username: assumed[3],
    }
  }
  const user = /^arn:aws:iam::(\d{12}):user\/(.+)$/.exec(arn)
  return {
    userIdentity: {
      type: 'IAMUser',
      principalId: 'AIDAEXAMPLE',
      arn,
      accountId: user?.[1] ?? account,
      accessKeyId,
      userName: user?.[2] ?? arn,
    },
    username: user?.[2] ?? arn,
  }
}

export class CloudTrailHistory {
  private readonly events: Array<TrailRecord & {seq: number}> = []
  private seq = 0

  constructor(
    private readonly region: string,
    private readonly account: string,
  ) {}

  /** Every recorded event, oldest first (for assertions). */
  all(): TrailRecord[] {
    return this.events.map(({seq: _, ...e}) => e)
  }

  clear(): void {
    this.events.length = 0
  }

  /** Record a Secrets Manager call the server answered (what CloudTrail does on its own). */
  recordCall(
    op: string,
    who: TestCredential,
    input: Record<string, unknown>,
    o: {
      arns: string[]
      time: Date
      errorCode?: string
      errorMessage?: string
      sourceIp?: string
      response?: Record<string, unknown>
    },
  ): void {
    const requestParameters: Record<string, unknown> = {}
    for (const k of LOGGED) if (input[k] !== undefined) requestParameters[camel(k)] = input[k]
    this.add(op, who.arn, who.accessKeyId, requestParameters, o)
  }

  /** Plant an event directly (an access from elsewhere, or before the test started). */
  plant(e: PlantedEvent): string {
    return this.add(
      e.eventName,
      e.actor,
      e.accessKeyId ?? 'AKIAPLANTEDEXAMPLE',
      {secretId: e.secretId},
      {
        arns: e.arn === undefined ? [] : [e.arn],
        time: e.time,
        errorCode: e.errorCode,
        errorMessage: e.errorMessage,
        sourceIp: e.sourceIp,
      },
    )
  }

  private add(
    op: string,
    arn: string,
    accessKeyId: string | undefined,
    requestParameters: Record<string, unknown>,
    o: {
      arns: string[]
      time: Date
      errorCode?: string
      errorMessage?: string
      sourceIp?: string
      response?: Record<string, unknown>
    },
  ): string {
    const time = new Date(Math.floor(o.time.getTime() / 1000) * 1000)
    const eventId = randomUUID()
    const {userIdentity, username} = identity(arn, this.account, accessKeyId)
    const detail = {
      eventVersion: '1.09',
      userIdentity,
      eventTime: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      eventSource: SOURCE,
      eventName: op,
      awsRegion: this.region,
      sourceIPAddress: o.sourceIp ?? '127.0.0.1',
      userAgent: 'aws-sdk-js/3',
      ...(o.errorCode === undefined ? {} : {errorCode: o.errorCode, errorMessage: o.errorMessage ?? ''}),
      requestParameters: Object.keys(requestParameters).length === 0 ? null : requestParameters,
      responseElements: o.response ?? null,
      requestID: randomUUID(),
      eventID: eventId,
      readOnly: READ_ONLY.has(op),
      resources: o.arns.map((a) => ({accountId: this.account, type: 'AWS::SecretsManager::Secret', ARN: a})),
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: this.account,
      eventCategory: 'Management',
      tlsDetails: {
        tlsVersion: 'TLSv1.3',
        cipherSuite: 'TLS_AES_128_GCM_SHA256',
        clientProvidedHostHeader: `secretsmanager.${this.region}.amazonaws.com`,
      },
    }
    this.events.push({
      seq: ++this.seq,
      EventId: eventId,
      EventName: op,
      ReadOnly: String(READ_ONLY.has(op)),
      ...(accessKeyId === undefined ? {} : {AccessKeyId: accessKeyId}),
      EventTime: time,
      EventSource: SOURCE,
      Username: username,
      Resources: o.arns.map((a) => ({ResourceType: 'AWS::SecretsManager::Secret', ResourceName: a})),
      CloudTrailEvent: JSON.stringify(detail),
    })
    return eventId
  }

  /** LookupEvents: validate, filter, sort newest first, page. */
  lookup(input: Record<string, unknown>): Record<string, unknown> {
    const attrs = input.LookupAttributes
    let attr: {AttributeKey: string; AttributeValue: string} | undefined
    if (attrs !== undefined) {
      if (!Array.isArray(attrs))
        throw new CloudTrailError('InvalidLookupAttributesException', 'LookupAttributes must be a list.')
      if (attrs.length > 1)
        throw new CloudTrailError(
          'InvalidLookupAttributesException',
          'You cannot specify more than one lookup attribute.',
        )
      attr = attrs[0] as typeof attr
      if (
        attr !== undefined &&
        (!ATTRIBUTE_KEYS.has(attr.AttributeKey) ||
          typeof attr.AttributeValue !== 'string' ||
          attr.AttributeValue.length === 0)
      ) {
        throw new CloudTrailError(
          'InvalidLookupAttributesException',
          `Invalid lookup attribute: ${String(attr.AttributeKey)}.`,
        )
      }
    }
    const seconds = (v: unknown, name: string): number | undefined => {
      if (v === undefined) return undefined
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new CloudTrailError('InvalidTimeRangeException', `${name} is not a valid timestamp.`)
      return v * 1000
    }
    const start = seconds(input.StartTime, 'StartTime')
    const end = seconds(input.EndTime, 'EndTime')
    if (start !== undefined && end !== undefined && start > end)
      throw new CloudTrailError('InvalidTimeRangeException', 'Start time should be before end time.')
    if (input.EventCategory !== undefined && input.EventCategory !== 'insight')
      throw new CloudTrailError(
        'InvalidEventCategoryException',
        `Invalid event category: ${String(input.EventCategory)}`,
      )
    const max = input.MaxResults === undefined ? 50 : input.MaxResults
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 50)
      throw new CloudTrailError('InvalidMaxResultsException', 'MaxResults must be between 1 and 50.')
    // The token is bound to the query it came from, as the API reference says.
    const {NextToken: token, MaxResults: _m, ...query} = input
    const queryHash = createHash('sha256').update(JSON.stringify(query)).digest('hex').slice(0, 16)
    let after: number | undefined
    if (token !== undefined) {
      const m = /^([0-9a-f]{16}):(\d+)$/.exec(Buffer.from(String(token), 'base64').toString('utf8'))
      if (!m || m[1] !== queryHash) throw new CloudTrailError('InvalidNextTokenException', 'Invalid NextToken.')
      after = Number(m[2])
    }
    const value = attr?.AttributeValue
    const matches = (e: TrailRecord): boolean => {
      switch (attr?.AttributeKey) {
        case undefined:
          return true
        case 'EventId':
          return e.EventId === value
        case 'EventName':
          return e.EventName === value
        case 'ReadOnly':
          return e.ReadOnly === value
        case 'Username':
          return e.Username === value
        case 'EventSource':
          return e.EventSource === value
        case 'AccessKeyId':
          return e.AccessKeyId === value
        case 'ResourceType':
          return e.Resources.some((r) => r.ResourceType === value)
        case 'ResourceName':
          return e.Resources.some((r) => r.ResourceName === value)
        default:
          return false
      }
    }
    const hits =
      input.EventCategory === 'insight'
        ? []
        : this.events
            .filter(
              (e) =>
                (start === undefined || e.EventTime.getTime() >= start) &&
                (end === undefined || e.EventTime.getTime() <= end) &&
                matches(e),
            )
            .sort((a, b) => b.EventTime.getTime() - a.EventTime.getTime() || b.seq - a.seq)
    const from = after === undefined ? 0 : hits.findIndex((e) => e.seq === after) + 1
    const page = hits.slice(from, from + max)
    const more = from + max < hits.length
    return {
      Events: page.map(({seq: _, EventTime, ...e}) => ({...e, EventTime: EventTime.getTime() / 1000})),
      ...(more ? {NextToken: Buffer.from(`${queryHash}:${page.at(-1)!.seq}`).toString('base64')} : {}),
    }
  }
}
