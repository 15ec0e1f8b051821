import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import NodeVault from 'node-vault'

import {VaultTestServer} from '../../servers/vault/server.js'

/** The test server speaks the Vault HTTP API as the docs in ../shared/specs/vault describe it; node-vault drives it. */
describe('vault test server protocol (through node-vault)', () => {
  let server: VaultTestServer
  let root: NodeVault.client

  const status = async (p: Promise<unknown>): Promise<[number | undefined, unknown]> => {
    try {
      await p
      return [200, undefined]
    } catch (error) {
      const r = (error as {response?: {statusCode?: number; body?: unknown}}).response
      return [r?.statusCode, r?.body]
    }
  }

  before(async () => {
    server = await VaultTestServer.start()
    root = NodeVault({endpoint: server.url, token: server.rootToken})
  })
  after(() => server.close())

  it("KV v2: versions, cas errors with Vault's texts, soft delete, undelete, destroy", async () => {
    const w1 = await root.write('secret/data/p', {data: {a: '1'}, options: {cas: 0}})
    assert.equal(w1.data.version, 1)
    assert.deepEqual(await status(root.write('secret/data/p', {data: {a: '2'}, options: {cas: 0}})), [
      400,
      {errors: ['check-and-set parameter did not match the current version']},
    ])
    await root.write('secret/data/p', {data: {a: '2'}, options: {cas: 1}})
    assert.deepEqual((await root.read('secret/data/p?version=1')).data.data, {a: '1'})
    await root.delete('secret/data/p')
    const [code, body] = await status(root.read('secret/data/p'))
    assert.equal(code, 404)
    assert.equal((body as {data: {data: unknown; metadata: {version: number; deletion_time: string}}}).data.data, null)
    assert.notEqual((body as {data: {metadata: {deletion_time: string}}}).data.metadata.deletion_time, '')
    await root.write('secret/undelete/p', {versions: [2]})
    assert.deepEqual((await root.read('secret/data/p')).data.data, {a: '2'})
    await root.write('secret/destroy/p', {versions: [1]})
    assert.equal((await status(root.read('secret/data/p?version=1')))[0], 404)
    const meta = (await root.read('secret/metadata/p')).data
    assert.deepEqual([meta.current_version, meta.oldest_version, meta.versions['1'].destroyed], [2, 1, true])
    await root.write('secret/config', {cas_required: true})
    assert.deepEqual(await status(root.write('secret/data/p', {data: {a: '3'}})), [
      400,
      {errors: ['check-and-set parameter required for this call']},
    ])
    await root.write('secret/config', {cas_required: false})
  })

  it('the response envelope, LIST (method and ?list=true) and KV v1', async () => {
    server.mountKv('old', 1)
    await root.write('old/team/a', {x: '1'})
    await root.write('old/b', {y: '2'})
    const r = await root.read('old/team/a')
    assert.deepEqual(Object.keys(r).sort(), [
      'auth',
      'data',
      'lease_duration',
      'lease_id',
      'mount_type',
      'renewable',
      'request_id',
      'warnings',
      'wrap_info',
    ])
    assert.deepEqual(r.data, {x: '1'})
    assert.deepEqual((await root.list('old')).data.keys, ['b', 'team/'])
    const viaQuery = NodeVault({endpoint: server.url, token: server.rootToken, noCustomHTTPVerbs: true})
    assert.deepEqual((await viaQuery.list('old/team')).data.keys, ['a'])
    assert.equal(server.count('LIST old'), 1)
    assert.equal(server.count('LIST old/team'), 1)
    const ui = await root.read('sys/internal/ui/mounts/old/team/a')
    assert.deepEqual([ui.data.path, ui.data.type, ui.data.options], ['old/', 'kv', {version: '1'}])
    assert.deepEqual((await root.read('sys/internal/ui/mounts/secret/x')).data.options, {version: '2'})
  })

  it('ACL policies: most specific rule wins, deny wins, no token is 403', async () => {
    server.put('secret', 'team/app', {k: 'v'})
    server.put('secret', 'team/admin', {k: 'v'})
    server.policy('team', {
      'secret/data/team/*': ['read'],
      'secret/data/team/admin': ['deny'],
      'secret/data/+/other': ['read'],
    })
    const c = NodeVault({endpoint: server.url, token: server.createToken(['team'])})
    assert.deepEqual((await c.read('secret/data/team/app')).data.data, {k: 'v'})
    assert.deepEqual(await status(c.read('secret/data/team/admin')), [
      403,
      {errors: ['1 error occurred:\n\t* permission denied\n\n']},
    ])
    assert.equal((await status(c.write('secret/data/team/app', {data: {k: 'w'}})))[0], 403)
    assert.equal((await status(c.read('secret/data/elsewhere/other')))[0], 404)
    assert.equal(
      (await status(NodeVault({endpoint: server.url, token: 'hvs.nope'}).read('secret/data/team/app')))[0],
      403,
    )
  })

  it('token lookup-self, renew-self, revoke-self', async () => {
    const c = NodeVault({endpoint: server.url, token: server.createToken(['team'], 60)})
    const self = await c.tokenLookupSelf()
    assert.deepEqual(self.data.policies, ['default', 'team'])
    assert.ok(self.data.ttl > 50 && self.data.ttl <= 60)
    assert.equal((await c.tokenRenewSelf({increment: 120})).auth.lease_duration, 120)
    await c.tokenRevokeSelf()
    assert.equal((await status(c.tokenLookupSelf()))[0], 403)
  })

  it('sys/health, sealed, and faults with the request counter', async () => {
    assert.equal((await root.health()).sealed, false)
    server.sealed = true
    assert.equal((await root.health()).sealed, true)
    assert.deepEqual(await status(root.read('secret/data/p')), [503, {errors: ['Vault is sealed']}])
    server.sealed = false
    server.resetCounters()
    server.inject({kind: 'throttled', op: 'GET secret/data/p', times: 1})
    assert.equal((await status(root.read('secret/data/p')))[0], 429)
    assert.equal((await status(root.read('secret/data/p')))[0], 200)
    server.inject({kind: 'reset', op: 'secret/data/p', times: 1})
    assert.match(String(await root.read('secret/data/p').catch((e: {code?: string}) => e.code)), /ECONNRESET/)
    assert.equal(server.count('GET secret/data/p'), 3)
  })

  it('transit encrypt and decrypt', async () => {
    server.mountTransit()
    await root.write('transit/keys/store', {})
    const plaintext = Buffer.from('data key bytes').toString('base64')
    const {data} = await root.write('transit/encrypt/store', {plaintext})
    assert.match(data.ciphertext, /^vault:v1:/)
    assert.equal((await root.write('transit/decrypt/store', {ciphertext: data.ciphertext})).data.plaintext, plaintext)
    const tampered = data.ciphertext.slice(0, -4) + (data.ciphertext.endsWith('AAAA') ? 'BBBB' : 'AAAA')
    assert.deepEqual(await status(root.write('transit/decrypt/store', {ciphertext: tampered})), [
      400,
      {errors: ['cipher: message authentication failed']},
    ])
  })
})
