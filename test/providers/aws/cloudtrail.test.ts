// The CloudTrail subset of the AWS test server answers the real @aws-sdk/client-cloudtrail as the service
// does: SigV4 for `cloudtrail`, LookupEvents semantics and errors, and events for the calls it served.
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import {CloudTrailClient, LookupEventsCommand} from '@aws-sdk/client-cloudtrail'
import {BatchGetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient} from '@aws-sdk/client-secrets-manager'

import {SecretsManagerServer} from '../../servers/aws/server.js'

const USER = 'arn:aws:iam::123456789012:user/unit'
const CANARY = 'CANARY-cloudtrail-unit-4411'
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

async function rejects(p: Promise<unknown>, name: string): Promise<void> {
  try {
    await p
  } catch (error) {
    assert.equal((error as Error).name, name, (error as Error).message)
    return
  }
  assert.fail(`expected ${name}, but the call succeeded`)
}

describe('CloudTrail subset of the AWS test server', () => {
  let server: SecretsManagerServer
  let ct: CloudTrailClient
  const creds = (secretAccessKey = 'unit-key') => ({accessKeyId: 'AKIAUNIT', secretAccessKey})
  before(async () => {
    server = await SecretsManagerServer.start({
      credentials: [{accessKeyId: 'AKIAUNIT', secretAccessKey: 'unit-key', arn: USER}],
    })
    ct = new CloudTrailClient({region: 'us-east-1', endpoint: server.url, credentials: creds(), maxAttempts: 1})
    server.seed('a', 'va')
    server.seed('b', 'vb')
  })
  after(async () => {
    ct.destroy()
    await server.close()
  })

  it('records the Secrets Manager calls it serves (a GetSecretValue per secret of a batch), without values, newest first', async () => {
    const sm = new SecretsManagerClient({
      region: 'us-east-1',
      endpoint: server.url,
      credentials: creds(),
      maxAttempts: 1,
    })
    await sm.send(new BatchGetSecretValueCommand({SecretIdList: ['a', 'b']}))
    await sm.send(new PutSecretValueCommand({SecretId: 'a', SecretString: CANARY}))
    sm.destroy()
    const out = await ct.send(
      new LookupEventsCommand({
        LookupAttributes: [{AttributeKey: 'EventSource', AttributeValue: 'secretsmanager.amazonaws.com'}],
      }),
    )
    const names = (out.Events ?? []).map(
      (e) => `${e.EventName}:${e.Resources?.[0]?.ResourceName?.split(':secret:')[1]?.slice(0, 1) ?? '-'}`,
    )
    // Same second: the order within it is the order of recording, newest first.
    assert.deepEqual(names, ['PutSecretValue:a', 'GetSecretValue:b', 'GetSecretValue:a', 'BatchGetSecretValue:-'])
    const put = out.Events![0]
    assert.ok(put.EventTime instanceof Date)
    assert.equal(put.Username, 'unit')
    const detail = JSON.parse(put.CloudTrailEvent!) as {
      userIdentity: {arn: string}
      requestParameters: Record<string, unknown>
      readOnly: boolean
    }
    assert.equal(detail.userIdentity.arn, USER)
    assert.equal(detail.readOnly, false)
    assert.deepEqual(Object.keys(detail.requestParameters).sort(), ['clientRequestToken', 'secretId'])
    assert.ok(!JSON.stringify(out).includes(CANARY))
  })

  it('filters by one lookup attribute and by an inclusive StartTime/EndTime', async () => {
    const t = new Date('2026-01-01T00:00:00Z')
    server.cloudtrail.plant({eventName: 'GetSecretValue', secretId: 'a', arn: server.arn('a'), time: t, actor: USER})
    const byName = await ct.send(
      new LookupEventsCommand({
        LookupAttributes: [{AttributeKey: 'ResourceName', AttributeValue: server.arn('a')}],
        StartTime: t,
        EndTime: t,
      }),
    )
    assert.equal(byName.Events?.length, 1)
    assert.equal(byName.Events![0].EventTime?.toISOString(), t.toISOString())
    const none = await ct.send(
      new LookupEventsCommand({StartTime: new Date(t.getTime() + 1000), EndTime: new Date(t.getTime() + 2000)}),
    )
    assert.deepEqual(none.Events, [])
  })

  it('pages with a NextToken bound to its query', async () => {
    const first = await ct.send(new LookupEventsCommand({MaxResults: 2}))
    assert.equal(first.Events?.length, 2)
    assert.ok(first.NextToken)
    const second = await ct.send(new LookupEventsCommand({MaxResults: 2, NextToken: first.NextToken}))
    assert.notEqual(second.Events?.[0].EventId, first.Events?.[0].EventId)
    await rejects(
      ct.send(
        new LookupEventsCommand({
          MaxResults: 2,
          NextToken: first.NextToken,
          LookupAttributes: [{AttributeKey: 'EventName', AttributeValue: 'GetSecretValue'}],
        }),
      ),
      'InvalidNextTokenException',
    )
  })

  it("answers invalid requests with the service's errors, and checks the SigV4 signature", async () => {
    await rejects(
      ct.send(
        new LookupEventsCommand({
          LookupAttributes: [
            {AttributeKey: 'EventName', AttributeValue: 'x'},
            {AttributeKey: 'Username', AttributeValue: 'y'},
          ],
        }),
      ),
      'InvalidLookupAttributesException',
    )
    await rejects(
      ct.send(new LookupEventsCommand({StartTime: new Date(2000), EndTime: new Date(1000)})),
      'InvalidTimeRangeException',
    )
    await rejects(ct.send(new LookupEventsCommand({MaxResults: 51})), 'InvalidMaxResultsException')
    const wrongKey = new CloudTrailClient({
      region: 'us-east-1',
      endpoint: server.url,
      credentials: creds('other'),
      maxAttempts: 1,
    })
    await rejects(wrongKey.send(new LookupEventsCommand({})), 'InvalidSignatureException')
    wrongKey.destroy()
    server.deny(USER, 'cloudtrail:LookupEvents')
    await rejects(ct.send(new LookupEventsCommand({})), 'AccessDeniedException')
    server.clearDenies()
    server.faults.inject({op: 'cloudtrail:LookupEvents', kind: 'throttled', times: 1})
    await rejects(ct.send(new LookupEventsCommand({})), 'ThrottlingException')
  })
})
