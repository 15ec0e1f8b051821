import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {parseReference} from '../../../src/core/reference.js'
import {sameSecret, toTrailEvents} from '../../../src/providers/aws/trail.js'

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-AbC123'

describe('aws trail: matching CloudTrail events to references', () => {
  it('matches a name, a full ARN and a partial ARN either way round, and nothing else', () => {
    const byName = parseReference('aws://app/db')
    assert.ok(sameSecret('app/db', byName))
    assert.ok(sameSecret(ARN, byName))
    assert.ok(!sameSecret('app/db2', byName))
    assert.ok(!sameSecret('arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db2-AbC123', byName))
    const byArn = parseReference(`aws://${ARN}`)
    assert.ok(sameSecret(ARN, byArn))
    assert.ok(sameSecret('app/db', byArn))
    const partial = parseReference('aws://arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db')
    assert.ok(sameSecret(ARN, partial))
    assert.ok(!sameSecret('other', partial))
  })

  it('turns an event into one row per configured secret, skips batch events, and reads the outcome from errorCode', () => {
    const refs = [parseReference('aws://app/db'), parseReference(`aws://${ARN}`)]
    const event = (name: string, detail: Record<string, unknown>) => ({
      EventId: 'e1',
      EventName: name,
      EventTime: new Date('2026-11-01T00:00:00Z'),
      Username: 'u',
      CloudTrailEvent: JSON.stringify(detail),
    })
    const rows = toTrailEvents(
      event('GetSecretValue', {
        userIdentity: {arn: 'arn:aws:iam::1:user/u'},
        requestParameters: {secretId: 'app/db', versionStage: 'AWSPREVIOUS'},
        errorCode: 'AccessDenied',
      }),
      refs,
      'aws',
    )
    assert.deepEqual(
      rows.map((r) => [r.secret, r.actor, r.outcome, r.code, r.version, r.time]),
      [
        ['aws://app/db', 'arn:aws:iam::1:user/u', 'denied', 'AccessDenied', 'AWSPREVIOUS', '2026-11-01T00:00:00.000Z'],
        [`aws://${ARN}`, 'arn:aws:iam::1:user/u', 'denied', 'AccessDenied', 'AWSPREVIOUS', '2026-11-01T00:00:00.000Z'],
      ],
    )
    assert.deepEqual(
      toTrailEvents(event('BatchGetSecretValue', {requestParameters: {secretIdList: ['app/db']}}), refs, 'aws'),
      [],
    )
    assert.equal(
      toTrailEvents(
        event('GetSecretValue', {requestParameters: {secretId: 'x'}, errorCode: 'ResourceNotFoundException'}),
        [parseReference('aws://x')],
        'aws',
      )[0].outcome,
      'not_found',
    )
    assert.equal(
      toTrailEvents(
        {...event('DescribeSecret', {}), CloudTrailEvent: 'not json', Resources: [{ResourceName: ARN}]},
        refs,
        'aws',
      ).length,
      2,
    )
  })
})
