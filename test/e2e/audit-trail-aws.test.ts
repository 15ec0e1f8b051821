// `secrets audit trail` for AWS: CloudTrail LookupEvents through the real SDK against the test server's
// CloudTrail subset, which records the Secrets Manager calls it serves, as CloudTrail does.
import assert from 'node:assert/strict'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, afterEach, before, describe, it} from 'node:test'

import {ROOT, Sandbox, type RunResult} from '../helpers/cli.js'
import {SecretsManagerServer} from '../servers/aws/server.js'

const USER_ARN = 'arn:aws:iam::123456789012:user/e2e'
const OTHER_ARN = 'arn:aws:sts::123456789012:assumed-role/deploy/ci-run-42'
const KEY_ID = 'AKIAE2ETRAILKEY00001'
const SECRET_KEY = 'e2e/trail+access/key00000000000000000000'
const CANARY = 'CANARY-trail-aws-7d2e-do-not-print'
const HOUR = 3_600_000

interface Row {
  time: string
  source: string
  provider: string
  actor: string
  action: string
  secret: string
  outcome: string
  code?: string
  version?: string
}

describe('audit trail --provider aws (CloudTrail)', () => {
  const sb = new Sandbox()
  let server: SecretsManagerServer
  let run: (args: string[], o?: {input?: string; env?: Record<string, string | undefined>}) => Promise<RunResult>
  let awsEnv: Record<string, string>
  const config = (extra = '') =>
    writeFileSync(
      join(sb.project, 'secrets.yaml'),
      `providers:\n  local: {type: local, path: .secrets/store.json}\n  aws: {type: aws, cloudTrailEndpoint: ${server.url}${extra}}\nenv:\n  DB_PASSWORD: aws://app/db#password\n  TOKEN: aws://app/token\n`,
    )
  const trail = async (args: string[] = []): Promise<{r: RunResult; rows: Row[]}> => {
    const r = await run(['audit', 'trail', '--provider', 'aws', '--json', ...args])
    return {r, rows: r.code === 0 ? (JSON.parse(r.stdout) as {events: Row[]}).events : []}
  }

  before(async () => {
    server = await SecretsManagerServer.start({
      credentials: [{accessKeyId: KEY_ID, secretAccessKey: SECRET_KEY, arn: USER_ARN}],
    })
    const env = (awsEnv = {
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: server.url,
      AWS_ACCESS_KEY_ID: KEY_ID,
      AWS_SECRET_ACCESS_KEY: SECRET_KEY,
      AWS_EC2_METADATA_DISABLED: 'true',
    })
    run = (args, o = {}) => sb.run(args, {input: o.input, env: {...env, ...o.env}})
    await sb.init()
    server.seed('app/db', JSON.stringify({user: 'app', password: CANARY}))
    server.seed('app/token', 'tok-trail-1')
    server.seed('other/secret', 'not-configured')
    server.cloudtrail.plant({
      eventName: 'GetSecretValue',
      secretId: 'app/db',
      arn: server.arn('app/db'),
      time: new Date(Date.now() - 72 * HOUR),
      actor: OTHER_ARN,
    })
    server.cloudtrail.plant({
      eventName: 'GetSecretValue',
      secretId: server.arn('app/token'),
      time: new Date(Date.now() - 48 * HOUR),
      actor: OTHER_ARN,
      errorCode: 'AccessDenied',
      errorMessage: 'not authorized',
    })
    server.cloudtrail.plant({
      eventName: 'GetSecretValue',
      secretId: 'other/secret',
      time: new Date(Date.now() - 24 * HOUR),
      actor: OTHER_ARN,
    })
  })
  afterEach(() => {
    server.faults.clear()
    server.clearDenies()
    server.faults.resetCounts()
  })
  after(async () => {
    await server.close()
    sb.cleanup()
  })

  it('returns the planted and the served events of the configured secrets, merged with the local log in time order', async () => {
    config()
    const got = await run(['get', 'aws://app/token'])
    assert.equal(got.code, 0, got.stderr)
    const {r, rows} = await trail()
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(
      rows.map((e) => [e.source, e.actor, e.action, e.secret, e.outcome]),
      [
        ['provider', OTHER_ARN, 'GetSecretValue', 'aws://app/db', 'ok'],
        ['provider', OTHER_ARN, 'GetSecretValue', 'aws://app/token', 'denied'],
        ['provider', USER_ARN, 'GetSecretValue', 'aws://app/token', 'ok'],
        ['local', rows[3].actor, 'read (get)', 'aws://app/token', 'ok'],
      ],
    )
    assert.match(rows[3].actor, /^[^@\s]+@[^@\s]+$/)
    assert.equal(rows[1].code, 'AccessDenied')
    const times = rows.map((e) => Date.parse(e.time))
    assert.deepEqual(
      [...times].sort((a, b) => a - b),
      times,
    )
    assert.deepEqual((JSON.parse(r.stdout) as {secrets: string[]}).secrets, ['aws://app/db', 'aws://app/token'])
    assert.equal(server.counts['cloudtrail:LookupEvents'], 1)
    assert.ok(!r.stdout.includes('other/secret'))
  })

  it('--since passes StartTime to CloudTrail and filters the local log too', async () => {
    config()
    const {r, rows} = await trail(['--since', '60h'])
    assert.equal(r.code, 0, r.stderr)
    assert.ok(rows.length >= 3, r.stdout)
    assert.ok(rows.every((e) => Date.parse(e.time) >= Date.now() - 61 * HOUR))
    assert.deepEqual(rows[0].outcome, 'denied')
    const none = await trail(['--since', '2020-01-01', '--until', '2020-01-02'])
    assert.deepEqual([none.r.code, none.rows], [0, []])
  })

  it('follows NextToken through every page (50 events a page)', async () => {
    config()
    const t0 = Date.now() - 10 * HOUR
    for (let i = 0; i < 120; i++)
      server.cloudtrail.plant({
        eventName: 'DescribeSecret',
        secretId: 'app/db',
        time: new Date(t0 + i * 1000),
        actor: OTHER_ARN,
      })
    const {r, rows} = await trail(['--since', '11h', '--until', '9h'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(rows.filter((e) => e.action === 'DescribeSecret').length, 120)
    assert.equal(server.counts['cloudtrail:LookupEvents'], 3)
  })

  it('retries a throttled lookup, and reports persistent throttling as UNAVAILABLE (exit 9)', async () => {
    config()
    server.faults.inject({op: 'cloudtrail:LookupEvents', kind: 'throttled', times: 1})
    const ok = await trail(['--since', '60h', '--until', '30h'])
    assert.equal(ok.r.code, 0, ok.r.stderr)
    assert.deepEqual(
      ok.rows.map((e) => e.outcome),
      ['denied'],
    )
    assert.equal(server.counts['cloudtrail:LookupEvents'], 2)
    config(', maxAttempts: 2')
    server.faults.inject({op: 'cloudtrail:LookupEvents', kind: 'throttled'})
    const r = await run(['audit', 'trail', '--provider', 'aws'])
    assert.equal(r.code, 9, r.stderr)
    assert.match(
      r.stderr,
      /Error \[UNAVAILABLE\]: AWS CloudTrail kept throttling requests \(ThrottlingException\) after 2 attempt\(s\); cloudtrail:LookupEvents/,
    )
  })

  it('a caller without cloudtrail:LookupEvents gets PERMISSION_DENIED (exit 6) naming the permission', async () => {
    config()
    server.deny(USER_ARN, 'cloudtrail:LookupEvents')
    const r = await run(['audit', 'trail', '--provider', 'aws'])
    assert.equal(r.code, 6, r.stderr)
    assert.match(
      r.stderr,
      /Error \[PERMISSION_DENIED\]: Access denied to AWS CloudTrail in us-east-1: the caller may not cloudtrail:LookupEvents/,
    )
    assert.match(r.stderr, /Allow cloudtrail:LookupEvents/)
    assert.equal(r.stdout, '')
  })

  it('an unreachable CloudTrail endpoint is UNAVAILABLE (exit 9) naming the endpoint setting', async () => {
    writeFileSync(
      join(sb.project, 'secrets.yaml'),
      'providers:\n  aws: {type: aws, cloudTrailEndpoint: "http://127.0.0.1:1", maxAttempts: 1}\nenv:\n  TOKEN: aws://app/token\n',
    )
    const r = await run(['audit', 'trail', '--provider', 'aws', '--json'])
    assert.equal(r.code, 9, r.stdout)
    const error = (JSON.parse(r.stdout) as {error: {code: string; message: string; suggestions: string[]}}).error
    assert.equal(error.code, 'UNAVAILABLE')
    assert.match(error.message, /Could not reach AWS CloudTrail at http:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\)/)
    assert.match(error.suggestions[0], /cloudTrailEndpoint/)
  })

  it('never shows a value: a canary written and read stays out of the trail, the table and the recorded events', async () => {
    config()
    assert.equal((await run(['set', 'aws://app/token'], {input: CANARY})).code, 0)
    assert.equal((await run(['get', 'aws://app/db#password'])).stdout, CANARY)
    const json = await trail()
    const table = await run(['audit', 'trail', '--provider', 'aws'])
    assert.equal(table.code, 0, table.stderr)
    assert.match(table.stdout, /^TIME +SOURCE +ACTOR +ACTION +SECRET +OUTCOME\n/)
    assert.match(table.stdout, /PutSecretValue +aws:\/\/app\/token/)
    for (const text of [
      json.r.stdout,
      json.r.stderr,
      table.stdout,
      table.stderr,
      JSON.stringify(server.cloudtrail.all()),
    ])
      assert.ok(!text.includes(CANARY))
    assert.ok(
      json.rows.some((e) => e.action === 'PutSecretValue' && e.secret === 'aws://app/token' && e.source === 'provider'),
    )
    // The local record of `get aws://app/db#password` names the secret, without its #field.
    const local = json.rows.filter((e) => e.source === 'local').map((e) => e.secret)
    assert.ok(local.includes('aws://app/db'), local.join(' '))
    assert.ok(
      local.every((secret) => secret === 'aws://app/db' || secret === 'aws://app/token'),
      local.join(' '),
    )
  })

  it('exec with an aws reference never loads the CloudTrail client; audit trail does', async () => {
    config()
    // Asynchronous: the test server answers from this process.
    const traced = async (args: string[]): Promise<string[]> => {
      const file = join(sb.root, `imports-${args[0]}.txt`)
      const {code, stderr} = await sb.run(args, {
        node: ['--import', join(ROOT, 'test', 'helpers', 'trace-imports.mjs')],
        env: {...awsEnv, TRACE_IMPORTS_FILE: file},
      })
      assert.equal(code, 0, stderr)
      return readFileSync(file, 'utf8').split('\n')
    }
    const exec = await traced(['exec', '--', 'true'])
    assert.ok(
      exec.some((l) => l.includes('node_modules/@aws-sdk/client-secrets-manager/')),
      'the trace saw the Secrets Manager client',
    )
    assert.deepEqual(
      exec.filter((l) =>
        /node_modules\/@aws-sdk\/client-cloudtrail\/|\/dist\/(commands\/audit|chunks\/trail-)/.test(l),
      ),
      [],
    )
    const trail = await traced(['audit', 'trail', '--provider', 'aws'])
    assert.ok(trail.some((l) => l.includes('node_modules/@aws-sdk/client-cloudtrail/')))
  })

  it('a local provider has no trail: UNSUPPORTED (exit 10) before any request', async () => {
    config()
    const r = await run(['audit', 'trail', '--provider', 'local'])
    assert.equal(r.code, 10, r.stderr)
    assert.match(r.stderr, /Error \[UNSUPPORTED\]: Provider local \(local\) keeps no trail of its own/)
    assert.equal(server.counts['cloudtrail:LookupEvents'], undefined)
  })

  it('rejects a bad --since and a flag without its value as USAGE (exit 2)', async () => {
    config()
    const bad = await run(['audit', 'trail', '--provider', 'aws', '--since', 'yesterday'])
    assert.equal(bad.code, 2)
    assert.match(
      bad.stderr,
      /--since expects a duration before now \(90s, 30m, 24h, 7d, 2w\) or a date \(2026-11-01, 2026-11-01T08:00:00Z\), not "yesterday"\./,
    )
    const missing = await run(['audit', 'trail', '--provider'])
    assert.equal(missing.code, 2, missing.stderr)
    const wrongFlag = await run(['audit', 'trail', '--provider', 'aws', '--vault-audit-file', '/tmp/x'])
    assert.equal(wrongFlag.code, 2)
    assert.match(wrongFlag.stderr, /--vault-audit-file is for a Vault provider; aws has type aws/)
  })
})
