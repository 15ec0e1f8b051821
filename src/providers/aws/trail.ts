/**
 * AWS Secrets Manager's trail: CloudTrail's event history (`LookupEvents`), loaded only by
 * `secrets audit trail` so the CloudTrail client never weighs on `exec` or `get`.
 */
import {CloudTrailClient, LookupEventsCommand, type Event} from '@aws-sdk/client-cloudtrail'

import type {Reference} from '../../core/reference.js'
import type {TrailEvent, TrailOptions} from '../types.js'
import {awsError} from './errors.js'
import type {SecretsManagerClient} from '@aws-sdk/client-secrets-manager'

/** What the trail needs of the AWS provider (which implements it): its alias and its client's region and credentials. */
export interface AwsTrailSource {
  readonly alias: string
  readonly client: {config: SecretsManagerClient['config']}
}

const SOURCE = 'secretsmanager.amazonaws.com'
/** LookupEvents returns at most 50 events a call; a runaway history stops after this many pages. */
const MAX_PAGES = 2000

/** The parts of a CloudTrail record (the `CloudTrailEvent` JSON) the trail uses. */
interface Detail {
  userIdentity?: {arn?: string; userName?: string; type?: string; invokedBy?: string}
  errorCode?: string
  requestParameters?: {
    secretId?: unknown
    name?: unknown
    versionId?: unknown
    versionStage?: unknown
    secretIdList?: unknown
  } | null
  responseElements?: {arn?: unknown; versionId?: unknown} | null
  sourceIPAddress?: string
  userAgent?: string
  awsRegion?: string
  resources?: Array<{ARN?: string}>
}

/** `arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 chars>` -> `<name>` */
function nameFromArn(arn: string): string | undefined {
  const m = /^arn:aws[\w-]*:secretsmanager:[^:]*:\d*:secret:(.+)-[A-Za-z0-9]{6}$/.exec(arn)
  return m?.[1]
}

/** Whether a secret id CloudTrail recorded (a name, a full ARN or a partial ARN) is the reference's secret. */
export function sameSecret(id: string, ref: Reference): boolean {
  const want = ref.path
  if (id === want) return true
  if (want.startsWith('arn:')) {
    // The reference holds an ARN: a full one, or a partial one without the random suffix.
    return (
      id.startsWith(`${want}-`) ||
      nameFromArn(want) === id ||
      (id.startsWith('arn:') && nameFromArn(id) === nameFromArn(want) && nameFromArn(want) !== undefined)
    )
  }
  if (id.startsWith('arn:')) return nameFromArn(id) === want || id.endsWith(`:secret:${want}`)
  return false
}

function outcomeOf(code: string | undefined): TrailEvent['outcome'] {
  if (code === undefined || code === '') return 'ok'
  if (/AccessDenied|Unauthorized|NotAuthorized|DecryptionFailure/i.test(code)) return 'denied'
  if (code === 'ResourceNotFoundException') return 'not_found'
  return 'error'
}

/** The secret ids an event names: its request's secretId or name, else the resources it lists. */
function idsOf(event: Event, detail: Detail): string[] {
  const p = detail.requestParameters ?? {}
  const ids = [p.secretId, p.name].filter((x): x is string => typeof x === 'string')
  if (ids.length > 0) return ids
  return [...(event.Resources ?? []).map((r) => r.ResourceName), ...(detail.resources ?? []).map((r) => r.ARN)].filter(
    (x): x is string => typeof x === 'string',
  )
}

/** Turn one CloudTrail event into trail events, one per configured reference it concerns. */
export function toTrailEvents(event: Event, refs: Reference[], alias: string): TrailEvent[] {
  // A batch read is also logged as one GetSecretValue event per secret it returned: those are the ones shown.
  if (event.EventName === 'BatchGetSecretValue') return []
  let detail: Detail = {}
  try {
    detail = JSON.parse(event.CloudTrailEvent ?? '{}') as Detail
  } catch {
    // A record CloudTrail could not serialise still has its top-level fields.
  }
  const ids = idsOf(event, detail)
  const hits = refs.filter((ref) => ids.some((id) => sameSecret(id, ref)))
  const time = event.EventTime ?? new Date(0)
  const version =
    detail.requestParameters?.versionId ?? detail.responseElements?.versionId ?? detail.requestParameters?.versionStage
  const details: Record<string, unknown> = {
    ...(detail.sourceIPAddress === undefined ? {} : {sourceIp: detail.sourceIPAddress}),
    ...(detail.userAgent === undefined ? {} : {userAgent: detail.userAgent}),
    ...(detail.awsRegion === undefined ? {} : {region: detail.awsRegion}),
    ...(event.AccessKeyId === undefined ? {} : {accessKeyId: event.AccessKeyId}),
  }
  const seen = new Set<string>()
  return hits.flatMap((ref) => {
    const secret = `${alias}://${ref.path}`
    if (seen.has(secret)) return []
    seen.add(secret)
    return [
      {
        time: time.toISOString(),
        actor: detail.userIdentity?.arn ?? event.Username ?? detail.userIdentity?.invokedBy ?? 'unknown',
        action: event.EventName ?? 'unknown',
        secret,
        outcome: outcomeOf(detail.errorCode),
        ...(typeof version === 'string' ? {version} : {}),
        ...(detail.errorCode === undefined ? {} : {code: detail.errorCode}),
        ...(event.EventId === undefined ? {} : {id: event.EventId}),
        details,
      },
    ]
  })
}

/**
 * Secrets Manager events from CloudTrail's event history (the last 90 days of management events of the
 * provider's region), filtered to the configured secrets, every page followed.
 */
export async function cloudTrailEvents(
  provider: AwsTrailSource,
  endpoint: string | undefined,
  options: TrailOptions,
): Promise<TrailEvent[]> {
  const config = provider.client.config
  const client = new CloudTrailClient({
    region: config.region,
    credentials: config.credentials,
    ...(endpoint === undefined ? {} : {endpoint}),
    retryMode: 'adaptive',
    maxAttempts: await config.maxAttempts(),
    requestHandler: {connectionTimeout: 10_000, requestTimeout: 60_000},
  })
  const region = await config.region().catch(() => undefined)
  const out: TrailEvent[] = []
  try {
    let token: string | undefined
    for (let page = 0; page < MAX_PAGES; page++) {
      let res
      try {
        res = await client.send(
          new LookupEventsCommand({
            LookupAttributes: [{AttributeKey: 'EventSource', AttributeValue: SOURCE}],
            ...(options.since === undefined ? {} : {StartTime: options.since}),
            ...(options.until === undefined ? {} : {EndTime: options.until}),
            MaxResults: 50,
            ...(token === undefined ? {} : {NextToken: token}),
          }),
        )
      } catch (error) {
        throw awsError(error, {
          action: 'cloudtrail:LookupEvents',
          service: 'AWS CloudTrail',
          region,
          endpoint,
          alias: provider.alias,
        })
      }
      for (const e of res.Events ?? []) out.push(...toTrailEvents(e, options.refs, provider.alias))
      token = res.NextToken
      if (token === undefined || token === '') break
      if (page === MAX_PAGES - 1) {
        options.warn?.(
          `CloudTrail has more than ${MAX_PAGES * 50} Secrets Manager events in this time range; only the newest ${MAX_PAGES * 50} were read. Narrow it with --since / --until.`,
        )
      }
    }
  } finally {
    client.destroy()
  }
  return out
}
