import {after, before, describe} from 'node:test'

import {Sandbox} from '../helpers/cli.js'
import {AzureTestServer} from '../servers/azure/server.js'
import {rotationSuite} from './rotate-suite.js'

const APP = '55555555-5555-5555-5555-555555555555'
const APP_SECRET = 'rotate-client-secret-value'

describe('rotate on Azure Key Vault (test server)', () => {
  const sb = new Sandbox()
  let kv: AzureTestServer
  let round = 0
  const current = {A: '', B: ''}
  before(async () => {
    kv = await AzureTestServer.start()
    kv.addIdentity({clientId: APP, secret: APP_SECRET, access: 'all'})
  })
  after(async () => {
    await kv.close()
    sb.cleanup()
  })
  rotationSuite(() => ({
    sb,
    env: {NODE_EXTRA_CA_CERTS: kv.caFile, AZURE_TENANT_ID: kv.tenantId, AZURE_CLIENT_ID: APP, AZURE_CLIENT_SECRET: APP_SECRET},
    config: `providers:\n  azure:\n    type: azure\n    vaultUrl: ${kv.url}\n    authorityHost: ${kv.authorityHost}\n    disableChallengeResourceVerification: true\n    auth: {method: client-secret}\nenv:\n  A_VAR: {{REF}}\n  B_VAR: {{REF2}}\n`,
    async seed(name, value) {
      current[name] = `rot-${name.toLowerCase()}-${++round}`
      kv.seed(current[name], value)
      return `azure://${current[name]}`
    },
    async pendingLeft(name) {
      const v = kv.latest(`${current[name]}-pending`)
      return v !== undefined && v.enabled
    },
  }))
})
