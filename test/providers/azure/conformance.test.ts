import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {Sandbox} from '../../helpers/cli.js'
import {AzureTestServer} from '../../servers/azure/server.js'
import {conformanceInChild} from '../conformance.js'

const APP = '55555555-5555-5555-5555-555555555555'
const APP_SECRET = 'conformance-client-secret'

describe('azure provider conformance', () => {
  const sb = new Sandbox()
  let kv: AzureTestServer
  before(async () => {
    kv = await AzureTestServer.start()
    kv.addIdentity({clientId: APP, secret: APP_SECRET, access: 'all'})
    await sb.init()
    writeFileSync(
      join(sb.project, 'secrets.yaml'),
      `providers:\n  local: {type: local, path: .secrets/store.json}\n  azure:\n    type: azure\n    vaultUrl: ${kv.url}\n    authorityHost: ${kv.authorityHost}\n    disableChallengeResourceVerification: true\n    auth: {method: client-secret}\n`,
    )
  })
  after(async () => {
    sb.cleanup()
    await kv.close()
  })

  it('passes the provider conformance suite against the Key Vault test server', async () => {
    const env = sb.env({
      NODE_EXTRA_CA_CERTS: kv.caFile,
      AZURE_TENANT_ID: kv.tenantId,
      AZURE_CLIENT_ID: APP,
      AZURE_CLIENT_SECRET: APP_SECRET,
    })
    const {status, output} = await conformanceInChild({alias: 'azure', cwd: sb.project, env, refPrefix: 'azure://'})
    assert.equal(status, 0, output)
    assert.match(output, /^# pass 7$/m, output)
    assert.match(output, /^# fail 0$/m, output)
  })
})
