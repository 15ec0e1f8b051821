import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {Sandbox} from '../helpers/cli.js'
import {SecretsManagerServer} from '../servers/aws/server.js'
import {rotateArgs, rotationSuite} from '../suites/rotation.js'

const KEY_ID = 'AKIAROTATETESTKEY001'
const SECRET_KEY = 'rotate/secret+access/key000000000000000'

describe('rotate on AWS Secrets Manager (test server)', () => {
  const sb = new Sandbox()
  let server: SecretsManagerServer
  const names = {A: 'rot/a', B: 'rot/b'}
  let round = 0
  before(async () => {
    server = await SecretsManagerServer.start({
      credentials: [{accessKeyId: KEY_ID, secretAccessKey: SECRET_KEY, arn: 'arn:aws:iam::123456789012:user/rotator'}],
    })
  })
  after(async () => {
    await server.close()
    sb.cleanup()
  })
  const current = {A: '', B: ''}
  rotationSuite(() => ({
    sb,
    env: {
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: server.url,
      AWS_ACCESS_KEY_ID: KEY_ID,
      AWS_SECRET_ACCESS_KEY: SECRET_KEY,
      AWS_EC2_METADATA_DISABLED: 'true',
    },
    config: 'providers:\n  aws: {type: aws}\nenv:\n  A_VAR: {{REF}}\n  B_VAR: {{REF2}}\n',
    async seed(name, value) {
      // A fresh secret per test: versions and stages start clean.
      current[name] = `${names[name]}-${++round}`
      server.seed(current[name], value)
      return `aws://${current[name]}`
    },
    async pendingLeft(name) {
      return Object.values(server.stages(current[name])).some((stages) => stages.includes('AWSPENDING'))
    },
  }))

  describe('AWS specifics', () => {
    const env = () => ({
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: server.url,
      AWS_ACCESS_KEY_ID: KEY_ID,
      AWS_SECRET_ACCESS_KEY: SECRET_KEY,
      AWS_EC2_METADATA_DISABLED: 'true',
    })
    // rotate needs --yes without a terminal, and --generate for a secret with no rotate.generate (issue 16).
    const runner = sb.runner(env)
    const run: typeof runner = (args, o) => runner(rotateArgs(args), o)
    before(() => writeFileSync(join(sb.project, 'secrets.yaml'), 'providers:\n  aws: {type: aws}\n'))

    it('a staged rotation leaves AWSCURRENT on the new version and AWSPREVIOUS on the old, nothing AWSPENDING', async () => {
      const old = server.seed('rot/stages', 'CANARY-stages-old-77')
      const r = await run(['rotate', 'aws://rot/stages', '--json'])
      assert.equal(r.code, 0, r.stderr)
      const {newVersion} = JSON.parse(r.stdout).rotations[0]
      assert.deepEqual(server.stages('rot/stages'), {[old]: ['AWSPREVIOUS'], [newVersion]: ['AWSCURRENT']})
      assert.equal(server.valueAt('rot/stages', 'AWSPREVIOUS'), 'CANARY-stages-old-77')
    })

    it('rotate --due --dry-run lists the versions of a due secret once (its age and its id from one listing)', async () => {
      const old = server.seed('rot/due-dry', 'CANARY-due-dry-66')
      writeFileSync(
        join(sb.project, 'secrets.yaml'),
        'providers:\n  aws: {type: aws}\nenv:\n  DUE_DRY: {ref: aws://rot/due-dry, rotate: {every: 1d}}\n',
      )
      const listed = server.counts.ListSecretVersionIds ?? 0
      const r = await sb.run(['rotate', '--due', '--dry-run', '--json'], {
        env: {...env(), SECRETS_NOW: new Date(Date.now() + 2 * 86_400_000).toISOString()},
      })
      writeFileSync(join(sb.project, 'secrets.yaml'), 'providers:\n  aws: {type: aws}\n')
      assert.equal(r.code, 0, r.stderr)
      assert.deepEqual(
        JSON.parse(r.stdout).rotations.map((x: {name: string; status: string; oldVersion: string; every: string}) => [
          x.name,
          x.status,
          x.oldVersion,
          x.every,
        ]),
        [['DUE_DRY', 'would-rotate', old, '1d']],
      )
      assert.equal((server.counts.ListSecretVersionIds ?? 0) - listed, 1)
    })

    it('--native starts RotateSecret and waits until the new version is AWSCURRENT', async () => {
      const old = server.seed('rot/native', 'CANARY-native-old-88', {rotation: {days: 30}})
      server.rotationLambda = {delayMs: 300, fail: false}
      const r = await run(['rotate', 'aws://rot/native', '--native', '--json'])
      assert.equal(r.code, 0, r.stderr)
      const one = JSON.parse(r.stdout).rotations[0]
      assert.deepEqual([one.status, one.oldVersion], ['rotated', old])
      assert.deepEqual(server.stages('rot/native'), {[old]: ['AWSPREVIOUS'], [one.newVersion]: ['AWSCURRENT']})
      assert.match(server.valueAt('rot/native')!, /^rotated-by-lambda-/)
      assert.ok(!r.stdout.includes(server.valueAt('rot/native')!))
      assert.equal(server.counts.RotateSecret, 1)
    })

    it('--native: no rotation function is UNSUPPORTED (10); a function that never finishes times out (9), old value current', async () => {
      server.seed('rot/no-lambda', 'CANARY-nolambda-99')
      const none = await run(['rotate', 'aws://rot/no-lambda', '--native'])
      assert.equal(none.code, 10, none.stderr)
      assert.match(none.stderr, /has no rotation function, so --native cannot rotate it/)
      server.seed('rot/stuck', 'CANARY-stuck-old-00', {rotation: {days: 30}})
      server.rotationLambda = {delayMs: 100, fail: true}
      const stuck = await run(['rotate', 'aws://rot/stuck', '--native', '--timeout', '2s'])
      assert.equal(stuck.code, 9, stuck.stderr)
      assert.match(stuck.stderr, /did not make version \S+ current within 2s/)
      assert.equal(server.valueAt('rot/stuck'), 'CANARY-stuck-old-00')
      const again = await run(['rotate', 'aws://rot/stuck', '--native'])
      assert.equal(again.code, 11, again.stderr)
      server.rotationLambda = {delayMs: 300, fail: false}
    })
  })
})
