import {after, before, describe} from 'node:test'

import {Sandbox} from '../helpers/cli.js'
import {SecretsManagerServer} from '../servers/aws/server.js'
import {rotationSuite} from './rotate-suite.js'

const KEY_ID = 'AKIAROTATETESTKEY001'
const SECRET_KEY = 'rotate/secret+access/key000000000000000'

describe('rotate on AWS Secrets Manager (test server)', () => {
  const sb = new Sandbox()
  let server: SecretsManagerServer
  const names = {A: 'rot/a', B: 'rot/b'}
  let round = 0
  before(async () => {
    server = await SecretsManagerServer.start({credentials: [{accessKeyId: KEY_ID, secretAccessKey: SECRET_KEY, arn: 'arn:aws:iam::123456789012:user/rotator'}]})
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
})
