import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {Sandbox} from '../../helpers/cli.js'
import {SecretsManagerServer} from '../../servers/aws/server.js'
import {conformanceInChild} from '../conformance.js'

describe('aws provider conformance', () => {
  const sb = new Sandbox()
  let server: SecretsManagerServer
  before(async () => {
    server = await SecretsManagerServer.start({
      credentials: [
        {
          accessKeyId: 'AKIACONFORMANCE00001',
          secretAccessKey: 'conformance-secret-key',
          arn: 'arn:aws:iam::123456789012:user/conformance',
        },
      ],
    })
    await sb.init()
    writeFileSync(
      join(sb.project, 'secrets.yaml'),
      'providers:\n  local: {type: local, path: .secrets/store.json}\n  aws: {type: aws, region: us-east-1}\n',
    )
  })
  after(async () => {
    sb.cleanup()
    await server.close()
  })

  it('passes the provider conformance suite against the Secrets Manager test server', async () => {
    // In a child process: the SDK reads credentials and the endpoint from process.env, as in the CLI.
    const env = sb.env({
      AWS_ENDPOINT_URL_SECRETS_MANAGER: server.url,
      AWS_ACCESS_KEY_ID: 'AKIACONFORMANCE00001',
      AWS_SECRET_ACCESS_KEY: 'conformance-secret-key',
      AWS_EC2_METADATA_DISABLED: 'true',
    })
    const {status, output} = await conformanceInChild({
      alias: 'aws',
      cwd: sb.project,
      env,
      refPrefix: 'aws://conformance/',
    })
    assert.equal(status, 0, output)
    assert.match(output, /^# pass 7$/m, output)
    assert.match(output, /^# fail 0$/m, output)
    // The three-secret read was one BatchGetSecretValue call.
    assert.equal(server.counts.BatchGetSecretValue, 1)
  })
})
