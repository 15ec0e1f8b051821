import assert from 'node:assert/strict'
import {mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, afterEach, before, describe, it} from 'node:test'

import {createHash} from 'node:crypto'

import {BIN, Sandbox, type RunResult} from '../helpers/cli.js'
import {SecretsManagerServer} from '../servers/aws/server.js'
import {onTerminal as onTerminalRun, skipWithoutPty} from '../helpers/terminal.js'

const USER_ARN = 'arn:aws:iam::123456789012:user/e2e'
const ROLE_ARN = 'arn:aws:iam::123456789012:role/ci'
const READER_ROLE = 'arn:aws:iam::123456789012:role/secrets-reader'
const KEY_ID = 'AKIAE2ETESTKEY000001'
const SECRET_KEY = 'e2e/secret+access/key0000000000000000000'
const CANARY = 'CANARY-aws-3c9f1e-do-not-print'
const CONFIG = 'providers:\n  aws: {type: aws}\n'

describe('aws provider against the Secrets Manager test server', () => {
  const sb = new Sandbox()
  let server: SecretsManagerServer
  let rotVersion: string
  let run: (args: string[], o?: {input?: string; env?: Record<string, string | undefined>}) => Promise<RunResult>

  before(async () => {
    server = await SecretsManagerServer.start({
      credentials: [{accessKeyId: KEY_ID, secretAccessKey: SECRET_KEY, arn: USER_ARN}],
      webIdentity: {tokens: ['oidc-token-for-ci'], roles: [ROLE_ARN]},
      assumableRoles: [READER_ROLE],
      containerToken: 'container-auth-token',
      sso: {tokens: ['sso-access-token'], account: '123456789012', role: 'ReadSecrets'},
      instanceRole: 'ec2-secrets-reader',
    })
    writeFileSync(join(sb.project, 'secrets.yaml'), CONFIG)
    const awsEnv = {
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: server.url,
      AWS_ACCESS_KEY_ID: KEY_ID,
      AWS_SECRET_ACCESS_KEY: SECRET_KEY,
      AWS_EC2_METADATA_DISABLED: 'true',
    }
    run = (args, o = {}) => sb.run(args, {input: o.input, env: {...awsEnv, ...o.env}})
    server.seed('app/db', JSON.stringify({user: 'app', password: CANARY}))
    rotVersion = server.seed('app/rot', JSON.stringify({user: 'app'}))
    server.seed('app/token', 'tok-123')
    server.seed('app/cert', Buffer.from([0, 1, 2, 0xff, 0xfe, 10]))
  })
  afterEach(() => {
    server.faults.clear()
    server.clearDenies()
    server.clockSkewMs = 0
    server.faults.resetCounts()
    writeFileSync(join(sb.project, 'secrets.yaml'), CONFIG)
  })
  after(async () => {
    await server.close()
    sb.cleanup()
  })

  it('gets a secret by name, a JSON field, a stage and a version id', async () => {
    const whole = await run(['get', 'aws://app/token'])
    assert.deepEqual([whole.code, whole.stdout, whole.stderr], [0, 'tok-123', ''])
    const field = await run(['get', 'aws://app/db#user'])
    assert.deepEqual([field.code, field.stdout, field.stderr], [0, 'app', ''])
    server.seedVersion('app/rot', '{"user":"app2"}', ['AWSCURRENT'])
    const previous = await run(['get', 'aws://app/rot?stage=AWSPREVIOUS#user'])
    assert.deepEqual([previous.code, previous.stdout], [0, 'app'], previous.stderr)
    const current = await run(['get', 'aws://app/rot#user'])
    assert.deepEqual([current.code, current.stdout], [0, 'app2'], current.stderr)
    const byVersion = await run(['get', `aws://app/rot?version=${rotVersion}#user`])
    assert.deepEqual([byVersion.code, byVersion.stdout], [0, 'app'], byVersion.stderr)
    const json = await run(['get', 'aws://app/token', '--json'])
    assert.equal(json.code, 0, json.stderr)
    assert.deepEqual(server.stages('app/token')[JSON.parse(json.stdout).version], ['AWSCURRENT'])
    assert.deepEqual(server.counts, {GetSecretValue: 6})
  })

  it('reads by full and partial ARN, alone and in a batch with names', async () => {
    const arn = server.arn('app/token')
    const full = await run(['get', `aws://${arn}`])
    assert.deepEqual([full.code, full.stdout, full.stderr], [0, 'tok-123', ''])
    writeFileSync(
      join(sb.project, 'secrets.yaml'),
      `${CONFIG}env:\n  A: aws://${arn.slice(0, -7)}\n  B: aws://${server.arn('app/db')}#user\n  C: aws://arn-test/plain\n`,
    )
    server.seed('arn-test/plain', 'value-0')
    server.faults.resetCounts()
    const r = await run(['exec', '--no-redact', '--', 'sh', '-c', 'printf "%s|%s|%s" "$A" "$B" "$C"'])
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'tok-123|app|value-0', ''])
    assert.deepEqual(server.counts, {BatchGetSecretValue: 1})
  })

  it('credentials and region from a shared profile (`profile:` or AWS_PROFILE), nothing in secrets.yaml', async () => {
    mkdirSync(join(sb.home, '.aws'), {recursive: true})
    writeFileSync(
      join(sb.home, '.aws', 'credentials'),
      `[ci]\naws_access_key_id = ${KEY_ID}\naws_secret_access_key = ${SECRET_KEY}\n[broken]\naws_access_key_id = ${KEY_ID}\naws_secret_access_key = not-the-key\n`,
    )
    writeFileSync(
      join(sb.home, '.aws', 'config'),
      '[profile ci]\nregion = us-east-1\n[profile broken]\nregion = us-east-1\n',
    )
    const env = {AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_REGION: undefined}
    try {
      writeFileSync(join(sb.project, 'secrets.yaml'), 'providers:\n  aws: {type: aws, profile: ci}\n')
      const bySetting = await run(['get', 'aws://app/token'], {env})
      assert.deepEqual([bySetting.code, bySetting.stdout, bySetting.stderr], [0, 'tok-123', ''])
      writeFileSync(join(sb.project, 'secrets.yaml'), CONFIG)
      const byVariable = await run(['get', 'aws://app/token'], {env: {...env, AWS_PROFILE: 'ci'}})
      assert.deepEqual([byVariable.code, byVariable.stdout, byVariable.stderr], [0, 'tok-123', ''])
      const broken = await run(['get', 'aws://app/token'], {env: {...env, AWS_PROFILE: 'broken'}})
      assert.equal(broken.code, 6)
      assert.match(broken.stderr, /secret access key does not match/)
      assert.ok(!broken.stderr.includes('not-the-key'))
    } finally {
      rmSync(join(sb.home, '.aws'), {recursive: true, force: true})
    }
  })

  it('a missing secret, stage or field is NOT_FOUND (exit 5)', async () => {
    const r = await run(['get', 'aws://app/nope'])
    assert.equal(r.code, 5)
    assert.equal(r.stdout, '')
    assert.equal(
      r.stderr,
      'Error [NOT_FOUND]: AWS secret "app/nope" was not found in us-east-1.\n' +
        '  → Check the secret name or ARN, the region (AWS_REGION or `region:` in secrets.yaml) and the account your credentials belong to.\n',
    )
    const stage = await run(['get', 'aws://app/token?stage=AWSPENDING'])
    assert.equal(stage.code, 5)
    assert.match(
      stage.stderr,
      /^Error \[NOT_FOUND\]: AWS secret "app\/token" was not found in us-east-1 \(secret value for staging label: AWSPENDING\)\.\n/,
    )
    const field = await run(['get', 'aws://app/db#nope'])
    assert.equal(field.code, 5)
    assert.ok(!field.stderr.includes(CANARY))
  })

  it('an unknown query parameter is a reference error before any request', async () => {
    const r = await run(['get', 'aws://app/db?colour=red'])
    assert.equal(r.code, 4)
    assert.match(
      r.stderr,
      /unknown parameter "colour" for this provider \(allowed: stage, version, versionId, encoding\)/,
    )
    assert.deepEqual(server.counts, {})
  })

  it('a malformed reference fails alone, naming its variable; the others are still read', async () => {
    writeFileSync(
      join(sb.project, 'secrets.yaml'),
      `${CONFIG}env:\n  A: aws://app/token\n  B: aws://app/db?version=short\n`,
    )
    const r = await run(['exec', '--', 'true'])
    assert.equal(r.code, 4)
    assert.equal(
      r.stderr,
      'Error [REFERENCE_INVALID]: Could not resolve 1 of 2 variable(s); nothing was used:\n' +
        '  B = aws://app/db?version=short (provider aws): [REFERENCE_INVALID] Invalid reference aws://app/db?version=short: an AWS version id is 32 to 64 letters, digits and "-" (a UUID).\n',
    )
    assert.deepEqual(server.counts, {GetSecretValue: 1})
  })

  it('set creates a secret, then puts a new version: AWSCURRENT moves and the old one becomes AWSPREVIOUS', async () => {
    const first = await run(['set', 'aws://svc/api-key'], {input: 'v1-value'})
    assert.equal(first.code, 0, first.stderr)
    assert.deepEqual(server.counts, {PutSecretValue: 1, CreateSecret: 1})
    const v1 = Object.keys(server.stages('svc/api-key'))[0]
    assert.equal(first.stderr, `✓ aws://svc/api-key is now version ${v1}\n`)
    const second = await run(['set', 'aws://svc/api-key'], {input: 'v2-value'})
    assert.equal(second.code, 0, second.stderr)
    const stages = server.stages('svc/api-key')
    const v2 = Object.keys(stages).find((v) => v !== v1)!
    assert.deepEqual(stages, {[v1]: ['AWSPREVIOUS'], [v2]: ['AWSCURRENT']})
    assert.equal(second.stderr, `✓ aws://svc/api-key is now version ${v2}\n`)
    assert.equal(server.valueAt('svc/api-key'), 'v2-value')
    const prev = await run(['get', 'aws://svc/api-key?stage=AWSPREVIOUS'])
    assert.deepEqual([prev.code, prev.stdout], [0, 'v1-value'])
    const third = await run(['set', 'aws://svc/api-key'], {input: 'v3-value'})
    assert.equal(third.code, 0, third.stderr)
    const after3 = server.stages('svc/api-key')
    assert.deepEqual(after3[v2], ['AWSPREVIOUS'])
    assert.equal(after3[v1], undefined, 'the oldest version keeps no label')
    const bad = await run(['set', 'aws://svc/api-key#field'], {input: 'x'})
    assert.equal(bad.code, 2)
  })

  it('list shows names, current version and last change, never values', async () => {
    const r = await run(['list', 'aws', '--json'])
    assert.equal(r.code, 0, r.stderr)
    const secrets = JSON.parse(r.stdout).secrets as Array<{
      name: string
      ref: string
      version: string
      provider: string
    }>
    const db = secrets.find((s) => s.name === 'app/db')!
    assert.equal(db.ref, 'aws://app/db')
    assert.equal(db.provider, 'aws')
    assert.deepEqual(server.stages('app/db')[db.version], ['AWSCURRENT'])
    assert.ok(!r.stdout.includes(CANARY))
    server.seed('rotated/db', 'x', {
      description: 'Primary DB',
      tags: {owner: 'payments'},
      rotation: {days: 30, lastRotated: new Date('2026-11-01T00:00:00Z')},
    })
    const withRotation = await run(['list', 'aws', '--json'])
    const rotated = (
      JSON.parse(withRotation.stdout).secrets as Array<{name: string; details: Record<string, unknown>}>
    ).find((x) => x.name === 'rotated/db')!
    assert.deepEqual(rotated.details, {
      arn: server.arn('rotated/db'),
      description: 'Primary DB',
      rotationEnabled: true,
      rotationRules: {AutomaticallyAfterDays: 30},
      lastRotated: '2026-11-01T00:00:00.000Z',
      nextRotation: '2026-12-01T00:00:00.000Z',
      created: rotated.details.created,
      tags: {owner: 'payments'},
    })
    const table = await run(['list', 'aws'])
    assert.match(table.stdout, /^NAME +PROVIDER +VERSION +UPDATED +BY\n/)
    assert.match(table.stdout, /\napp\/token +aws +[0-9a-f-]{36} +\d{4}-\d\d-\d\dT/)
  })

  it('list pages through ListSecrets and honours `prefix:`', async () => {
    for (let i = 0; i < 105; i++) server.seed(`bulk/item-${String(i).padStart(3, '0')}`, `v${i}`)
    writeFileSync(join(sb.project, 'secrets.yaml'), 'providers:\n  aws: {type: aws, prefix: bulk/}\n')
    const r = await run(['list', 'aws', '--json'])
    assert.equal(r.code, 0, r.stderr)
    const names = (JSON.parse(r.stdout).secrets as Array<{name: string}>).map((s) => s.name)
    assert.equal(names.length, 105)
    assert.ok(names.every((n) => n.startsWith('bulk/')))
    assert.equal(server.counts.ListSecrets, 2)
  })

  it('exec with 60 AWS references makes 3 BatchGetSecretValue calls and no single gets', async () => {
    const env = Array.from({length: 60}, (_, i) => `  V${i}: aws://many/s${i}`)
    for (let i = 0; i < 60; i++) server.seed(`many/s${i}`, `value-${i}`)
    writeFileSync(
      join(sb.project, 'secrets.yaml'),
      `${CONFIG}env:\n${env.join('\n')}\n  DB_USER: aws://app/db#user\n  DB_PASS: aws://app/db#password\n`,
    )
    server.faults.resetCounts()
    const out = join(sb.root, 'exec-60')
    const r = await run(['exec', '--', 'sh', '-c', `printf "%s|%s|%s|%s" "$V0" "$V59" "$DB_USER" "$DB_PASS" > ${out}`])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(readFileSync(out, 'utf8'), `value-0|value-59|app|${CANARY}`)
    // 61 distinct secrets (app/db is fetched once for both fields): ceil(61 / 20) = 4 calls.
    assert.deepEqual(server.counts, {BatchGetSecretValue: 4})
  })

  it('exactly 60 distinct secrets cost 3 batch calls', async () => {
    const env = Array.from({length: 60}, (_, i) => `  V${i}: aws://many/s${i}`)
    writeFileSync(join(sb.project, 'secrets.yaml'), `${CONFIG}env:\n${env.join('\n')}\n`)
    const r = await run(['exec', '--no-redact', '--', 'sh', '-c', 'printf %s "$V42"'])
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'value-42', ''])
    assert.deepEqual(server.counts, {BatchGetSecretValue: 3})
  })

  it('a denied batch falls back to one GetSecretValue per secret', async () => {
    server.deny(USER_ARN, 'secretsmanager:BatchGetSecretValue')
    writeFileSync(
      join(sb.project, 'secrets.yaml'),
      `${CONFIG}env:\n  A: aws://app/token\n  B: aws://app/db#user\n  C: aws://many/s1\n`,
    )
    const r = await run(['exec', '--no-redact', '--', 'sh', '-c', 'printf "%s|%s|%s" "$A" "$B" "$C"'])
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'tok-123|app|value-1', ''])
    assert.deepEqual(server.counts, {BatchGetSecretValue: 1, GetSecretValue: 3})
  })

  it('a secret denied inside a batch fails that variable with exit 6, naming it and no value', async () => {
    server.deny(USER_ARN, 'secretsmanager:GetSecretValue', 'app/db')
    writeFileSync(
      join(sb.project, 'secrets.yaml'),
      `${CONFIG}env:\n  A: aws://app/token\n  DB_PASS: aws://app/db#password\n`,
    )
    const r = await run(['exec', '--', 'sh', '-c', 'echo started'])
    assert.equal(r.code, 6)
    assert.equal(r.stdout, '')
    assert.equal(
      r.stderr,
      'Error [PERMISSION_DENIED]: Could not resolve 1 of 2 variable(s); nothing was used:\n' +
        '  DB_PASS = aws://app/db#password (provider aws): [PERMISSION_DENIED] Access denied to AWS secret "app/db" in us-east-1: the caller may not secretsmanager:GetSecretValue.\n' +
        "  → Check that the IAM policy of the role or user you run as allows secretsmanager:GetSecretValue on this secret's ARN (and that no resource policy or SCP denies it).\n" +
        '  → If the secret is encrypted with a customer managed KMS key, the caller also needs kms:Decrypt on that key.\n',
    )
    assert.deepEqual(server.counts, {BatchGetSecretValue: 1})
    const audit = sb.auditText()
    assert.ok(!audit.includes(CANARY) && !audit.includes('tok-123'))
    assert.match(audit, /"ref":"aws:\/\/app\/db#password".*"outcome":"denied"/)
  })

  it('get of a denied secret is exit 6 and says which permission to check', async () => {
    server.deny(USER_ARN, 'secretsmanager:GetSecretValue', 'app/db')
    const r = await run(['get', 'aws://app/db#password'])
    assert.equal(r.code, 6)
    assert.equal(r.stdout, '')
    assert.match(
      r.stderr,
      /^Error \[PERMISSION_DENIED\]: Access denied to AWS secret "app\/db" in us-east-1: the caller may not secretsmanager:GetSecretValue\.\n/,
    )
    assert.ok(!r.stderr.includes(CANARY))
  })

  it('a KMS decryption failure is PERMISSION_DENIED with a kms:Decrypt hint', async () => {
    server.faults.inject({kind: 'decryptionFailure', op: 'GetSecretValue'})
    const r = await run(['get', 'aws://app/token'])
    assert.equal(r.code, 6)
    assert.equal(
      r.stderr,
      'Error [PERMISSION_DENIED]: AWS could not decrypt AWS secret "app/token" with its KMS key.\n' +
        '  → Check that the caller has kms:Decrypt on the KMS key that encrypts the secret, that the key is enabled, and that its key policy allows the caller.\n',
    )
  })

  it('a wrong secret access key is an authentication error (exit 6) that shows no key', async () => {
    const r = await run(['get', 'aws://app/token'], {
      env: {AWS_SECRET_ACCESS_KEY: 'wrong-secret-key-0000000000000000000000'},
    })
    assert.equal(r.code, 6)
    assert.equal(r.stdout, '')
    assert.equal(
      r.stderr,
      'Error [PERMISSION_DENIED]: AWS rejected the request signature in us-east-1: the secret access key does not match the access key id.\n' +
        "  → Check AWS_SECRET_ACCESS_KEY (or the profile's aws_secret_access_key) belongs to AWS_ACCESS_KEY_ID; rotate the key pair if unsure.\n",
    )
    const unknown = await run(['get', 'aws://app/token'], {env: {AWS_ACCESS_KEY_ID: 'AKIAUNKNOWN000000000'}})
    assert.equal(unknown.code, 6)
    assert.match(unknown.stderr, /^Error \[PERMISSION_DENIED\]: AWS does not recognise the access key in us-east-1/)
    assert.ok(!unknown.stderr.includes(SECRET_KEY))
  })

  it('no credentials at all is IDENTITY_MISSING (exit 7)', async () => {
    const r = await run(['get', 'aws://app/token'], {
      env: {AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined},
    })
    assert.equal(r.code, 7, r.stderr)
    assert.match(r.stderr, /^Error \[IDENTITY_MISSING\]: No AWS credentials found/)
    assert.deepEqual(server.counts, {})
  })

  it('a server clock an hour ahead: the stale date is refused once, the SDK corrects its clock and retries', async () => {
    server.clockSkewMs = 3_600_000
    const r = await run(['get', 'aws://app/token'])
    assert.deepEqual([r.code, r.stdout], [0, 'tok-123'], r.stderr)
    assert.deepEqual(server.counts, {GetSecretValue: 2})
  })

  it('web identity credentials from a token file (CI OIDC) work through STS', async () => {
    const tokenFile = join(sb.root, 'oidc-token')
    writeFileSync(tokenFile, 'oidc-token-for-ci')
    const env = {
      AWS_ACCESS_KEY_ID: undefined,
      AWS_SECRET_ACCESS_KEY: undefined,
      AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
      AWS_ROLE_ARN: ROLE_ARN,
      AWS_ENDPOINT_URL_STS: server.url,
    }
    const r = await run(['get', 'aws://app/db#user'], {env})
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'app', ''])
    assert.deepEqual(server.counts, {AssumeRoleWithWebIdentity: 1, GetSecretValue: 1})
    writeFileSync(tokenFile, 'a-token-sts-rejects')
    const bad = await run(['get', 'aws://app/db#user'], {env})
    assert.equal(bad.code, 6, bad.stderr)
    assert.match(bad.stderr, /^Error \[PERMISSION_DENIED\]: AWS STS rejected the web identity token/)
  })

  it("roleArn: the default chain's credentials assume the role, and Secrets Manager sees the role", async () => {
    writeFileSync(
      join(sb.project, 'secrets.yaml'),
      `providers:\n  aws: {type: aws, roleArn: '${READER_ROLE}', roleSessionName: e2e}\n`,
    )
    const env = {AWS_ENDPOINT_URL_STS: server.url}
    const r = await run(['get', 'aws://app/token'], {env})
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'tok-123', ''])
    assert.deepEqual(server.counts, {AssumeRole: 1, GetSecretValue: 1})
    // Denied to the role only: the base user could read it, so the role's credentials were used.
    server.deny('arn:aws:sts::123456789012:assumed-role/secrets-reader/e2e', 'secretsmanager:GetSecretValue')
    const denied = await run(['get', 'aws://app/token'], {env})
    assert.equal(denied.code, 6, denied.stderr)
    writeFileSync(
      join(sb.project, 'secrets.yaml'),
      `providers:\n  aws: {type: aws, roleArn: 'arn:aws:iam::123456789012:role/other'}\n`,
    )
    const notTrusted = await run(['get', 'aws://app/token'], {env})
    assert.equal(notTrusted.code, 6)
    assert.match(
      notTrusted.stderr,
      /^Error \[PERMISSION_DENIED\]: Could not assume the role in roleArn: User: arn:aws:iam::123456789012:user\/e2e is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role\/other\n/,
    )
    writeFileSync(join(sb.project, 'secrets.yaml'), 'providers:\n  aws: {type: aws, roleArn: not-an-arn}\n')
    const invalid = await run(['get', 'aws://app/token'], {env})
    assert.equal(invalid.code, 3)
  })

  it('container credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI, as on ECS and EKS) come through the chain', async () => {
    const env = {
      AWS_ACCESS_KEY_ID: undefined,
      AWS_SECRET_ACCESS_KEY: undefined,
      AWS_CONTAINER_CREDENTIALS_FULL_URI: `${server.url}/container-credentials`,
      AWS_CONTAINER_AUTHORIZATION_TOKEN: 'container-auth-token',
    }
    const r = await run(['get', 'aws://app/token'], {env})
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'tok-123', ''])
    assert.deepEqual(server.counts, {ContainerCredentials: 1, GetSecretValue: 1})
  })

  it("instance metadata credentials (IMDSv2) are the chain's last resort", async () => {
    const env = {
      AWS_ACCESS_KEY_ID: undefined,
      AWS_SECRET_ACCESS_KEY: undefined,
      AWS_EC2_METADATA_DISABLED: undefined,
      AWS_EC2_METADATA_SERVICE_ENDPOINT: server.url,
    }
    const r = await run(['get', 'aws://app/token'], {env})
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'tok-123', ''])
    assert.equal(server.counts['IMDS PUT /latest/api/token'] >= 1, true)
    assert.equal(server.counts['IMDS GET /latest/meta-data/iam/security-credentials/ec2-secrets-reader'], 1)
    assert.equal(server.counts.GetSecretValue, 1)
  })

  it('export resolves AWS references in one batch too', async () => {
    writeFileSync(
      join(sb.project, 'secrets.yaml'),
      `${CONFIG}env:\n  TOKEN: aws://app/token\n  DB_USER: aws://app/db#user\n`,
    )
    const r = await run(['export', '--format', 'dotenv'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, "DB_USER='app'\nTOKEN='tok-123'\n")
    assert.deepEqual(server.counts, {BatchGetSecretValue: 1})
  })

  it('an IAM Identity Center (SSO) profile with a cached login works, and an expired login says to sign in', async () => {
    const startUrl = 'https://acme.awsapps.com/start'
    mkdirSync(join(sb.home, '.aws', 'sso', 'cache'), {recursive: true})
    writeFileSync(
      join(sb.home, '.aws', 'config'),
      `[profile sso]\nsso_start_url = ${startUrl}\nsso_region = us-east-1\nsso_account_id = 123456789012\nsso_role_name = ReadSecrets\nregion = us-east-1\n`,
    )
    const cache = join(sb.home, '.aws', 'sso', 'cache', `${createHash('sha1').update(startUrl).digest('hex')}.json`)
    const env = {
      AWS_ACCESS_KEY_ID: undefined,
      AWS_SECRET_ACCESS_KEY: undefined,
      AWS_PROFILE: 'sso',
      AWS_ENDPOINT_URL_SSO: server.url,
    }
    try {
      writeFileSync(
        cache,
        JSON.stringify({
          accessToken: 'sso-access-token',
          expiresAt: new Date(Date.now() + 3600_000).toISOString(),
          region: 'us-east-1',
          startUrl,
        }),
      )
      const r = await run(['get', 'aws://app/token'], {env})
      assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'tok-123', ''])
      assert.deepEqual(server.counts, {GetRoleCredentials: 1, GetSecretValue: 1})
      writeFileSync(
        cache,
        JSON.stringify({
          accessToken: 'sso-access-token',
          expiresAt: new Date(Date.now() - 60_000).toISOString(),
          region: 'us-east-1',
          startUrl,
        }),
      )
      const expired = await run(['get', 'aws://app/token'], {env})
      assert.equal(expired.code, 7, expired.stderr)
      assert.match(expired.stderr, /^Error \[IDENTITY_MISSING\]: No AWS credentials found: .*SSO/)
    } finally {
      rmSync(join(sb.home, '.aws'), {recursive: true, force: true})
    }
  })

  it('throttling twice then success is retried; persistent throttling is UNAVAILABLE (exit 9) after 3 attempts', async () => {
    server.faults.inject({kind: 'throttled', op: 'GetSecretValue', times: 2})
    const ok = await run(['get', 'aws://app/token'])
    assert.deepEqual([ok.code, ok.stdout, ok.stderr], [0, 'tok-123', ''])
    assert.deepEqual(server.counts, {GetSecretValue: 3})
    server.faults.clear()
    server.faults.resetCounts()
    server.faults.inject({kind: 'throttle429', op: 'GetSecretValue'})
    const r = await run(['get', 'aws://app/token'])
    assert.equal(r.code, 9)
    assert.equal(
      r.stderr,
      'Error [UNAVAILABLE]: AWS Secrets Manager kept throttling requests (ThrottlingException) after 3 attempt(s); secretsmanager:GetSecretValue for AWS secret "app/token" did not complete.\n' +
        '  → Try again in a moment; fewer parallel runs help. `maxAttempts:` in secrets.yaml raises the retry bound.\n',
    )
    assert.deepEqual(server.counts, {GetSecretValue: 3})
  })

  it('a 500 and a reset connection are retried; a persistent 500 is exit 9', async () => {
    server.faults.inject({kind: 'reset', op: 'BatchGetSecretValue', times: 1})
    server.faults.inject({kind: 'unavailable', op: 'BatchGetSecretValue', times: 1})
    writeFileSync(join(sb.project, 'secrets.yaml'), `${CONFIG}env:\n  A: aws://app/token\n  B: aws://many/s2\n`)
    const ok = await run(['exec', '--no-redact', '--', 'sh', '-c', 'printf "%s|%s" "$A" "$B"'])
    assert.deepEqual([ok.code, ok.stdout, ok.stderr], [0, 'tok-123|value-2', ''])
    assert.deepEqual(server.counts, {BatchGetSecretValue: 3})
    server.faults.clear()
    server.faults.inject({kind: 'unavailable'})
    const r = await run(['get', 'aws://app/token'])
    assert.equal(r.code, 9)
    assert.match(
      r.stderr,
      /^Error \[UNAVAILABLE\]: AWS Secrets Manager failed \(InternalServiceError\) during secretsmanager:GetSecretValue for AWS secret "app\/token"\.\n/,
    )
  })

  it('latency is waited out, and an unreachable endpoint is exit 9', async () => {
    server.faults.inject({kind: 'latency', ms: 700, times: 1})
    const slow = await run(['get', 'aws://app/token'])
    assert.deepEqual([slow.code, slow.stdout], [0, 'tok-123'], slow.stderr)
    const r = await run(['get', 'aws://app/token'], {env: {AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:1'}})
    assert.equal(r.code, 9)
    assert.match(
      r.stderr,
      /^Error \[UNAVAILABLE\]: Could not reach AWS Secrets Manager at http:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\)\.\n/,
    )
  })

  it('a binary secret goes raw into a file and base64 into a variable', async () => {
    writeFileSync(
      join(sb.project, 'secrets.yaml'),
      `${CONFIG}env:\n  CERT_B64: aws://app/cert?encoding=base64\nfiles:\n  CERT_FILE: aws://app/cert\n`,
    )
    const copy = join(sb.root, 'cert-copy')
    const r = await run(['exec', '--no-redact', '--', 'sh', '-c', `cp "$CERT_FILE" ${copy}; printf %s "$CERT_B64"`])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, Buffer.from([0, 1, 2, 0xff, 0xfe, 10]).toString('base64'))
    assert.deepEqual(readFileSync(copy), Buffer.from([0, 1, 2, 0xff, 0xfe, 10]))
    const set = await run(['set', 'aws://bin/blob', '--from-file', copy])
    assert.equal(set.code, 0, set.stderr)
    assert.equal(server.valueAt('bin/blob'), Buffer.from([0, 1, 2, 0xff, 0xfe, 10]).toString('base64'))
  })

  it('delete keeps the 30-day recovery window unless forced (--force or recoveryWindowDays: 0)', async () => {
    server.seed('old/one', 'x1')
    const r = await run(['delete', 'aws://old/one', '--yes', '--json'])
    assert.equal(r.code, 0, r.stderr)
    assert.ok(server.has('old/one'), 'still recoverable')
    const until = server.deletionDate('old/one')!
    const days = (until.getTime() - Date.now()) / 86_400_000
    assert.ok(days > 29.9 && days <= 30, String(days))
    assert.deepEqual(JSON.parse(r.stdout), {
      ref: 'aws://old/one',
      deleted: true,
      versions: 1,
      recoverableUntil: until.toISOString(),
    })
    assert.deepEqual(server.counts, {DescribeSecret: 1, DeleteSecret: 1})
    const noTty = await run(['delete', 'aws://app/token', '--force'])
    assert.equal(noTty.code, 2, 'still asks for confirmation')
    assert.ok(server.has('app/token'))
    const get = await run(['get', 'aws://old/one'])
    assert.equal(get.code, 5)
    assert.equal(
      get.stderr,
      'Error [NOT_FOUND]: AWS secret "old/one" is scheduled for deletion in us-east-1.\n  → Restore it first: secrets restore aws://old/one\n',
    )
    const again = await run(['delete', 'aws://old/one', '--yes'])
    assert.equal(again.code, 5)
    const restored = await run(['restore', 'aws://old/one'])
    assert.deepEqual([restored.code, restored.stderr], [0, '✓ restored aws://old/one\n'])
    assert.equal(server.deletionDate('old/one'), undefined)
    const back = await run(['get', 'aws://old/one'])
    assert.deepEqual([back.code, back.stdout], [0, 'x1'])
    assert.match(sb.auditText(), /"action":"restore","provider":"aws","ref":"aws:\/\/old\/one","outcome":"ok"/)
    assert.equal((await run(['delete', 'aws://old/one', '--yes'])).code, 0)
    const forcedLater = await run(['delete', 'aws://old/one', '--yes', '--force'])
    assert.deepEqual([forcedLater.code, forcedLater.stderr], [0, '✓ deleted aws://old/one (1 version(s))\n'])
    assert.equal(server.has('old/one'), false)
    server.seed('old/three', 'x3')
    const forced = await run(['delete', 'aws://old/three', '--yes', '--force'])
    assert.deepEqual([forced.code, forced.stderr], [0, '✓ deleted aws://old/three (1 version(s))\n'])
    assert.equal(server.has('old/three'), false)
    server.seed('old/two', 'x2')
    writeFileSync(join(sb.project, 'secrets.yaml'), 'providers:\n  aws: {type: aws, recoveryWindowDays: 0}\n')
    const byConfig = await run(['delete', 'aws://old/two', '--yes'])
    assert.equal(byConfig.code, 0, byConfig.stderr)
    assert.equal(server.has('old/two'), false)
    writeFileSync(join(sb.project, 'secrets.yaml'), 'providers:\n  aws: {type: aws, recoveryWindowDays: 3}\n')
    const invalid = await run(['delete', 'aws://app/token', '--yes'])
    assert.equal(invalid.code, 3)
    assert.ok(server.has('app/token'))
  })

  it('delete --force asks on a terminal, naming the missing recovery window', async (t) => {
    if (skipWithoutPty(t)) return
    server.seed('tty/one', 'x')
    // On a pseudo-terminal, asynchronously: the test server answers from this process.
    const onTerminal = (answer: string) =>
      onTerminalRun(
        process.execPath,
        [BIN, 'delete', 'aws://tty/one', '--force'],
        [['with no recovery window?', answer]],
        {
          cwd: sb.project,
          env: sb.env({
            TERM: 'xterm',
            CI: undefined,
            AWS_REGION: 'us-east-1',
            AWS_ENDPOINT_URL_SECRETS_MANAGER: server.url,
            AWS_ACCESS_KEY_ID: KEY_ID,
            AWS_SECRET_ACCESS_KEY: SECRET_KEY,
          }),
        },
      )
    const no = await onTerminal('n\r')
    assert.equal(no.code, 12, no.output)
    assert.match(no.output, /Delete aws:\/\/tty\/one and all its versions now, with no recovery window\?/)
    assert.ok(server.has('tty/one'))
    const yes = await onTerminal('y\r')
    assert.equal(yes.code, 0, yes.output)
    assert.equal(server.has('tty/one'), false)
  })

  it('doctor checks the provider with the credentials in use', async () => {
    const r = await run(['doctor', '--json'])
    const checks = JSON.parse(r.stdout) as {checks: Array<{name: string; status: string; detail: string}>}
    const aws = checks.checks.find((c) => c.name === 'provider aws')!
    assert.deepEqual(aws, {
      name: 'provider aws',
      status: 'ok',
      detail: `AWS Secrets Manager in us-east-1 at ${server.url}: credentials accepted, secretsmanager:ListSecrets allowed`,
    })
    const bad = await run(['doctor', '--json'], {
      env: {AWS_SECRET_ACCESS_KEY: 'nope-0000000000000000000000000000000000'},
    })
    const failed = (JSON.parse(bad.stdout) as typeof checks).checks.find((c) => c.name === 'provider aws')!
    assert.equal(failed.status, 'fail')
    assert.match(failed.detail, /secret access key does not match/)
  })
})
