// The Secrets Manager test server answers the real SDK the way the service does (so the e2e tests mean something).
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager'

import {SecretsManagerServer} from '../../servers/aws/server.js'

const USER = 'arn:aws:iam::123456789012:user/unit'
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

async function rejects(
  p: Promise<unknown>,
  name: string,
  status?: number,
): Promise<Error & {$metadata?: {httpStatusCode?: number}}> {
  try {
    await p
  } catch (error) {
    const e = error as Error & {$metadata?: {httpStatusCode?: number}}
    assert.equal(e.name, name, e.message)
    if (status !== undefined) assert.equal(e.$metadata?.httpStatusCode, status)
    return e
  }
  assert.fail(`expected ${name}, but the call succeeded`)
}

describe('Secrets Manager test server', () => {
  let server: SecretsManagerServer
  let sm: SecretsManagerClient
  const client = (secretAccessKey: string, o: {maxAttempts?: number} = {}) =>
    new SecretsManagerClient({
      region: 'us-east-1',
      endpoint: server.url,
      credentials: {accessKeyId: 'AKIAUNIT', secretAccessKey},
      maxAttempts: o.maxAttempts ?? 1,
    })
  before(async () => {
    server = await SecretsManagerServer.start({
      credentials: [{accessKeyId: 'AKIAUNIT', secretAccessKey: 'unit-key', arn: USER}],
    })
    sm = client('unit-key')
  })
  after(async () => {
    sm.destroy()
    await server.close()
  })

  it('verifies SigV4: a wrong key is InvalidSignatureException 400, an unknown key UnrecognizedClientException', async () => {
    await rejects(client('other-key').send(new ListSecretsCommand({})), 'InvalidSignatureException', 400)
    const stranger = new SecretsManagerClient({
      region: 'us-east-1',
      endpoint: server.url,
      credentials: {accessKeyId: 'AKIANOBODY', secretAccessKey: 'x'},
      maxAttempts: 1,
    })
    await rejects(stranger.send(new ListSecretsCommand({})), 'UnrecognizedClientException', 400)
    const otherRegion = new SecretsManagerClient({
      region: 'eu-west-1',
      endpoint: server.url,
      credentials: {accessKeyId: 'AKIAUNIT', secretAccessKey: 'unit-key'},
      maxAttempts: 1,
    })
    await rejects(otherRegion.send(new ListSecretsCommand({})), 'InvalidSignatureException', 400)
  })

  it('a stale request date is refused with "Signature expired"', async () => {
    server.clockSkewMs = 20 * 60_000
    // A client of its own: the SDK learns the server's clock from the refusal and would keep the offset.
    const fresh = client('unit-key')
    try {
      const e = await rejects(fresh.send(new ListSecretsCommand({})), 'InvalidSignatureException', 400)
      assert.match(
        e.message,
        /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)$/,
      )
    } finally {
      server.clockSkewMs = 0
    }
  })

  it('moves AWSCURRENT/AWSPREVIOUS on put, AWSPENDING only where asked, and UpdateSecretVersionStage promotes', async () => {
    const created = await sm.send(
      new CreateSecretCommand({Name: 'stages/a', SecretString: 'one', ClientRequestToken: 'a'.repeat(32)}),
    )
    assert.equal(created.VersionId, 'a'.repeat(32))
    const two = await sm.send(new PutSecretValueCommand({SecretId: 'stages/a', SecretString: 'two'}))
    const pending = await sm.send(
      new PutSecretValueCommand({SecretId: 'stages/a', SecretString: 'three', VersionStages: ['AWSPENDING']}),
    )
    assert.deepEqual(server.stages('stages/a'), {
      ['a'.repeat(32)]: ['AWSPREVIOUS'],
      [two.VersionId!]: ['AWSCURRENT'],
      [pending.VersionId!]: ['AWSPENDING'],
    })
    await rejects(
      sm.send(
        new UpdateSecretVersionStageCommand({
          SecretId: 'stages/a',
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: pending.VersionId,
        }),
      ),
      'InvalidParameterException',
    )
    await sm.send(
      new UpdateSecretVersionStageCommand({
        SecretId: 'stages/a',
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: pending.VersionId,
        RemoveFromVersionId: two.VersionId,
      }),
    )
    await sm.send(
      new UpdateSecretVersionStageCommand({
        SecretId: 'stages/a',
        VersionStage: 'AWSPENDING',
        RemoveFromVersionId: pending.VersionId,
      }),
    )
    assert.deepEqual(server.stages('stages/a'), {
      [two.VersionId!]: ['AWSPREVIOUS'],
      [pending.VersionId!]: ['AWSCURRENT'],
    })
    const prev = await sm.send(new GetSecretValueCommand({SecretId: 'stages/a', VersionStage: 'AWSPREVIOUS'}))
    assert.equal(prev.SecretString, 'two')
    const e = await rejects(
      sm.send(new GetSecretValueCommand({SecretId: 'stages/a', VersionStage: 'AWSPENDING'})),
      'ResourceNotFoundException',
      400,
    )
    assert.equal(e.message, "Secrets Manager can't find the specified secret value for staging label: AWSPENDING")
  })

  it('PutSecretValue is idempotent per ClientRequestToken', async () => {
    server.seed('idem/a', 'v1')
    const token = 'b'.repeat(36)
    const first = await sm.send(
      new PutSecretValueCommand({SecretId: 'idem/a', SecretString: 'v2', ClientRequestToken: token}),
    )
    const again = await sm.send(
      new PutSecretValueCommand({SecretId: 'idem/a', SecretString: 'v2', ClientRequestToken: token}),
    )
    assert.equal(again.VersionId, first.VersionId)
    assert.equal(Object.keys(server.stages('idem/a')).length, 2, 'the retry added no version and moved no stage')
    await rejects(
      sm.send(new PutSecretValueCommand({SecretId: 'idem/a', SecretString: 'other', ClientRequestToken: token})),
      'ResourceExistsException',
    )
    await rejects(sm.send(new CreateSecretCommand({Name: 'idem/a', SecretString: 'x'})), 'ResourceExistsException')
  })

  it('BatchGetSecretValue: 1 to 20 ids, per-secret Errors, filters with paging', async () => {
    for (let i = 0; i < 25; i++)
      server.seed(`batch/s${String(i).padStart(2, '0')}`, `v${i}`, {tags: {team: i % 2 ? 'odd' : 'even'}})
    server.deny(USER, 'secretsmanager:GetSecretValue', 'batch/s03')
    try {
      const out = await sm.send(
        new BatchGetSecretValueCommand({SecretIdList: ['batch/s01', 'batch/s03', 'batch/none']}),
      )
      assert.deepEqual(
        out.SecretValues!.map((v) => [v.Name, v.SecretString]),
        [['batch/s01', 'v1']],
      )
      assert.deepEqual(
        out.Errors!.map((e) => [e.SecretId, e.ErrorCode]),
        [
          ['batch/s03', 'AccessDeniedException'],
          ['batch/none', 'ResourceNotFoundException'],
        ],
      )
    } finally {
      server.clearDenies()
    }
    const ids = Array.from({length: 21}, (_, i) => `batch/s${String(i).padStart(2, '0')}`)
    await rejects(sm.send(new BatchGetSecretValueCommand({SecretIdList: ids})), 'InvalidParameterException')
    await rejects(
      sm.send(
        new BatchGetSecretValueCommand({SecretIdList: ['batch/s01'], Filters: [{Key: 'name', Values: ['batch/']}]}),
      ),
      'InvalidParameterException',
    )
    const page1 = await sm.send(
      new BatchGetSecretValueCommand({Filters: [{Key: 'tag-value', Values: ['odd']}], MaxResults: 10}),
    )
    assert.equal(page1.SecretValues!.length, 10)
    const page2 = await sm.send(
      new BatchGetSecretValueCommand({
        Filters: [{Key: 'tag-value', Values: ['odd']}],
        MaxResults: 10,
        NextToken: page1.NextToken,
      }),
    )
    assert.equal(page2.SecretValues!.length, 2)
    assert.equal(page2.NextToken, undefined)
    server.deny(USER, 'secretsmanager:BatchGetSecretValue')
    try {
      const e = await rejects(
        sm.send(new BatchGetSecretValueCommand({SecretIdList: ['batch/s01']})),
        'AccessDeniedException',
        400,
      )
      assert.match(e.message, /is not authorized to perform: secretsmanager:BatchGetSecretValue/)
    } finally {
      server.clearDenies()
    }
  })

  it('ListSecrets filters (prefix, negation, description) and pages; a bad token is InvalidNextTokenException', async () => {
    server.seed('list/alpha', 'x', {description: 'Payment keys'})
    server.seed('list/beta', 'y')
    const names = async (filters: Array<{Key: 'name' | 'description'; Values: string[]}>) =>
      ((await sm.send(new ListSecretsCommand({Filters: filters}))).SecretList ?? []).map((s) => s.Name)
    assert.deepEqual(await names([{Key: 'name', Values: ['list/']}]), ['list/alpha', 'list/beta'])
    assert.deepEqual(
      await names([
        {Key: 'name', Values: ['list/']},
        {Key: 'name', Values: ['!list/a']},
      ]),
      ['list/beta'],
    )
    assert.deepEqual(await names([{Key: 'description', Values: ['payment']}]), ['list/alpha'])
    const p1 = await sm.send(new ListSecretsCommand({MaxResults: 1, Filters: [{Key: 'name', Values: ['list/']}]}))
    assert.equal(p1.SecretList!.length, 1)
    assert.ok(p1.NextToken)
    await rejects(sm.send(new ListSecretsCommand({NextToken: 'garbage'})), 'InvalidNextTokenException')
  })

  it('DeleteSecret keeps a recovery window (7-30 days), RestoreSecret undoes it, force removes at once', async () => {
    server.seed('del/a', 'x')
    await rejects(
      sm.send(new DeleteSecretCommand({SecretId: 'del/a', RecoveryWindowInDays: 3})),
      'InvalidParameterException',
    )
    await rejects(
      sm.send(new DeleteSecretCommand({SecretId: 'del/a', RecoveryWindowInDays: 7, ForceDeleteWithoutRecovery: true})),
      'InvalidParameterException',
    )
    const d = await sm.send(new DeleteSecretCommand({SecretId: 'del/a', RecoveryWindowInDays: 7}))
    assert.ok(Math.abs(d.DeletionDate!.getTime() - Date.now() - 7 * 86_400_000) < 60_000)
    await rejects(sm.send(new GetSecretValueCommand({SecretId: 'del/a'})), 'InvalidRequestException')
    assert.ok((await sm.send(new DescribeSecretCommand({SecretId: 'del/a'}))).DeletedDate)
    assert.ok(!((await sm.send(new ListSecretsCommand({}))).SecretList ?? []).some((s) => s.Name === 'del/a'))
    assert.ok(
      ((await sm.send(new ListSecretsCommand({IncludePlannedDeletion: true}))).SecretList ?? []).some(
        (s) => s.Name === 'del/a',
      ),
    )
    await sm.send(new RestoreSecretCommand({SecretId: 'del/a'}))
    assert.equal((await sm.send(new GetSecretValueCommand({SecretId: 'del/a'}))).SecretString, 'x')
    await sm.send(new DeleteSecretCommand({SecretId: 'del/a', ForceDeleteWithoutRecovery: true}))
    await rejects(sm.send(new DescribeSecretCommand({SecretId: 'del/a'})), 'ResourceNotFoundException')
  })

  it('finds a secret by full or partial ARN; binary values round-trip', async () => {
    const created = await sm.send(new CreateSecretCommand({Name: 'arn/bin', SecretBinary: Buffer.from([0, 255, 7])}))
    for (const id of [created.ARN!, created.ARN!.slice(0, -7)]) {
      const v = await sm.send(new GetSecretValueCommand({SecretId: id}))
      assert.deepEqual(Buffer.from(v.SecretBinary!), Buffer.from([0, 255, 7]))
      assert.equal(v.SecretString, undefined)
    }
  })

  it('faults: throttling (400 and 429) and 500 with the real error types; the counter counts every request', async () => {
    server.faults.resetCounts()
    server.faults.inject({kind: 'throttled', op: 'ListSecrets', times: 1})
    server.faults.inject({kind: 'throttle429', op: 'ListSecrets', times: 1})
    server.faults.inject({kind: 'unavailable', op: 'ListSecrets', times: 1})
    await rejects(sm.send(new ListSecretsCommand({})), 'ThrottlingException', 400)
    await rejects(sm.send(new ListSecretsCommand({})), 'ThrottlingException', 429)
    await rejects(sm.send(new ListSecretsCommand({})), 'InternalServiceError', 500)
    await sm.send(new ListSecretsCommand({}))
    assert.deepEqual(server.counts, {ListSecrets: 4})
  })
})
