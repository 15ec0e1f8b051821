import {after, before, describe} from 'node:test'

import {Sandbox} from '../helpers/cli.js'
import {VaultTestServer} from '../servers/vault/server.js'
import {rotationSuite} from './rotate-suite.js'

describe('rotate on Vault KV v2 (test server)', () => {
  const sb = new Sandbox()
  let server: VaultTestServer
  let token: string
  const paths = {A: 'rot/a', B: 'rot/b'}
  before(async () => {
    server = await VaultTestServer.start()
    // Exactly what rotation needs: the secrets and their `.pending` siblings under rot/.
    server.policy('rotator', {
      'secret/data/rot/*': ['read', 'create', 'update'],
      'secret/metadata/rot/*': ['read', 'delete'],
    })
    token = server.createToken(['rotator'])
  })
  after(async () => {
    await server.close()
    sb.cleanup()
  })
  rotationSuite(() => ({
    sb,
    env: {VAULT_ADDR: server.url, VAULT_TOKEN: token},
    config: 'providers:\n  vault: {type: vault}\nenv:\n  A_VAR: {{REF}}\n  B_VAR: {{REF2}}\n',
    async seed(name, value) {
      server.put('secret', paths[name], {user: 'app', password: value})
      return `vault://secret/${paths[name]}#password`
    },
    async pendingLeft(name) {
      return server.peekMeta('secret', `${paths[name]}.pending`) !== undefined
    },
  }))
})
