import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe} from 'node:test'

import {Sandbox} from '../../helpers/cli.js'
import {createPki, type TestPki} from '../../servers/vault/pki.js'
import {VaultTestServer} from '../../servers/vault/server.js'
import {conformance} from '../conformance.js'

// In process: the provider takes its CA and client certificate from VAULT_* variables, not process start.
describe('vault provider conformance (KV v2 over mutual TLS)', () => {
  const sb = new Sandbox()
  let pki: TestPki
  let server: VaultTestServer
  before(async () => {
    pki = createPki()
    server = await VaultTestServer.start({pki, requireClientCert: true})
    writeFileSync(join(sb.project, 'secrets.yaml'), 'providers:\n  vault: {type: vault}\n')
  })
  after(async () => {
    await server.close()
    pki.cleanup()
    sb.cleanup()
  })
  conformance({
    alias: 'vault',
    project: () => ({
      cwd: sb.project,
      env: sb.env({
        VAULT_ADDR: server.url,
        VAULT_TOKEN: server.rootToken,
        VAULT_CACERT: pki.ca.certFile,
        VAULT_CLIENT_CERT: pki.client.certFile,
        VAULT_CLIENT_KEY: pki.client.keyFile,
      }),
    }),
    refFor: (name) => `vault://secret/conformance/${name}#value`,
  })
})

describe('vault provider conformance (KV v1)', () => {
  const sb = new Sandbox()
  let server: VaultTestServer
  before(async () => {
    server = await VaultTestServer.start()
    server.mountKv('kv', 1)
    writeFileSync(join(sb.project, 'secrets.yaml'), 'providers:\n  vault: {type: vault}\n')
  })
  after(async () => {
    await server.close()
    sb.cleanup()
  })
  conformance({
    alias: 'vault',
    project: () => ({cwd: sb.project, env: sb.env({VAULT_ADDR: server.url, VAULT_TOKEN: server.rootToken})}),
    refFor: (name) => `vault://kv/conformance/${name}#value`,
  })
})
