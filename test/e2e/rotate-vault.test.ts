import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {Sandbox} from '../helpers/cli.js'
import {VaultTestServer} from '../servers/vault/server.js'
import {rotateArgs, rotationSuite} from '../suites/rotation.js'

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

  describe('Vault specifics', () => {
    // rotate needs --yes without a terminal, and --generate for a secret with no rotate.generate (issue 16).
    const runner = sb.runner(() => ({VAULT_ADDR: server.url, VAULT_TOKEN: token}))
    const run: typeof runner = (args, o) => runner(rotateArgs(args), o)
    before(() => writeFileSync(join(sb.project, 'secrets.yaml'), 'providers:\n  vault: {type: vault}\n'))

    it('rotating a field keeps the other fields, writes one new version with cas and leaves no .pending behind', async () => {
      server.put('secret', 'rot/fields', {user: 'app', password: 'CANARY-fields-old-11', host: 'db.internal'})
      const r = await run(['rotate', 'vault://secret/rot/fields#password', '--json'])
      assert.equal(r.code, 0, r.stderr)
      const data = server.peek('secret', 'rot/fields')!
      assert.deepEqual([data.user, data.host], ['app', 'db.internal'])
      assert.match(String(data.password), /^[A-Za-z0-9]{32}$/)
      assert.deepEqual(server.peekMeta('secret', 'rot/fields'), {current: 2, versions: 2})
      assert.equal(server.peekMeta('secret', 'rot/fields.pending'), undefined)
      const writes = server.requests.filter((q) => q.method === 'POST' && q.path === 'secret/data/rot/fields')
      assert.equal(writes.length, 1)
    })

    it('a token that may not write the .pending sibling is refused before anything changes (exit 6)', async () => {
      server.policy('narrow', {
        'secret/data/rot/narrow': ['read', 'create', 'update'],
        'secret/metadata/rot/narrow': ['read'],
      })
      server.put('secret', 'rot/narrow', {password: 'CANARY-narrow-22'})
      const r = await run(['rotate', 'vault://secret/rot/narrow#password'], {
        env: {VAULT_TOKEN: server.createToken(['narrow'])},
      })
      assert.equal(r.code, 6, r.stderr)
      assert.match(r.stderr, /secret\/data\/rot\/narrow\.pending/)
      assert.deepEqual(server.peek('secret', 'rot/narrow'), {password: 'CANARY-narrow-22'})
    })

    it('a KV v1 mount cannot rotate in stages: UNSUPPORTED (10), nothing written', async () => {
      server.mountKv('legacy', 1)
      server.put('legacy', 'old', {password: 'CANARY-v1-33'})
      const r = await run(['rotate', 'vault://legacy/old#password'], {env: {VAULT_TOKEN: server.rootToken}})
      assert.equal(r.code, 10, r.stderr)
      assert.match(
        r.stderr,
        /^Error \[UNSUPPORTED\]: vault:\/\/legacy\/old keeps no versions \(a Vault KV v1 mount\?\), so it cannot be rotated in stages\.\n$/,
      )
      assert.deepEqual(server.peek('legacy', 'old'), {password: 'CANARY-v1-33'})
    })
  })
})
