// The Vault test server's audit devices, driven by node-vault: enable/list/disable under sudo, the file
// device's entries in Vault's format (HMAC'd with the device's key), and sys/audit-hash with the same key.
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import NodeVault from 'node-vault'

import {VaultTestServer} from '../../servers/vault/server.js'

const CANARY = 'CANARY-vault-audit-unit-9e1f'

describe('vault test server audit devices (through node-vault)', () => {
  let server: VaultTestServer
  let root: NodeVault.client
  const dir = mkdtempSync(join(tmpdir(), 'vault-audit-'))
  const file = join(dir, 'audit.log')
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- audit records are free-form JSON, read field by field
  const lines = (): Array<Record<string, any>> =>
    readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
      .map((l) => JSON.parse(l) as Record<string, any>)

  before(async () => {
    server = await VaultTestServer.start()
    root = NodeVault({endpoint: server.url, token: server.rootToken})
  })
  after(async () => {
    await server.close()
    rmSync(dir, {recursive: true, force: true})
  })

  it('enables a file device, lists it, and refuses both to a token without sudo', async () => {
    await root.enableAudit({name: 'file', type: 'file', options: {file_path: file}})
    const listed = await root.audits()
    assert.deepEqual(listed.data['file/'], {
      type: 'file',
      description: '',
      options: {file_path: file, hmac_accessor: 'true'},
      local: false,
      path: 'file/',
    })
    server.policy('reader', {'secret/data/*': ['read']})
    const user = NodeVault({endpoint: server.url, token: server.createToken(['reader'])})
    await assert.rejects(user.audits(), (e: {response?: {statusCode?: number}}) => e.response?.statusCode === 403)
    assert.equal(statSync(file).mode & 0o777, 0o600)
  })

  it("writes a request and a response entry per request, strings HMAC'd with the device key, which sys/audit-hash reproduces", async () => {
    const before = lines().length
    await root.write('secret/data/unit', {data: {password: CANARY}})
    await root.read('secret/data/unit?version=1')
    const [wreq, wres, rreq, rres] = lines().slice(before)
    assert.deepEqual([wreq.type, wres.type, rreq.type, rres.type], ['request', 'response', 'request', 'response'])
    assert.equal(wreq.request.path, 'secret/data/unit')
    assert.equal(wreq.request.operation, 'update')
    assert.equal(rreq.request.operation, 'read')
    assert.equal(wres.request.id, wreq.request.id)
    assert.equal(wreq.auth.display_name, 'root')
    assert.ok(!readFileSync(file, 'utf8').includes(CANARY))
    const hash = async (input: string) =>
      ((await root.write('sys/audit-hash/file', {input})) as {data: {hash: string}}).data.hash
    assert.equal(wreq.request.data.data.password, await hash(CANARY))
    assert.equal(rreq.request.data.version, await hash('1'))
    assert.equal(rreq.request.client_token, await hash(server.rootToken))
    assert.equal(rres.response.data.metadata.version, 1, 'numbers are not hashed')
    assert.match(rres.response.data.data.password, /^hmac-sha256:[0-9a-f]{64}$/)
  })

  it("a denied request is logged with Vault's error; an unknown device cannot hash", async () => {
    const user = NodeVault({endpoint: server.url, token: server.createToken(['reader'])})
    const before = lines().length
    await assert.rejects(user.write('secret/data/unit', {data: {x: 'y'}}))
    const res = lines()
      .slice(before)
      .find((e) => e.type === 'response')!
    assert.equal(res.error, '1 error occurred:\n\t* permission denied\n\n')
    await assert.rejects(
      root.write('sys/audit-hash/nope', {input: 'x'}),
      (e: {response?: {statusCode?: number}}) => e.response?.statusCode === 400,
    )
    await root.disableAudit({name: 'file'})
    assert.deepEqual((await root.audits()).data, {})
  })
})
