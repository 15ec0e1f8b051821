import assert from 'node:assert/strict'
import {existsSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, beforeEach, describe, it} from 'node:test'

import {Sandbox, type RunResult} from '../helpers/cli.js'
import type {DatabaseEngine} from '../servers/vault/dynamic.js'
import {VaultTestServer} from '../servers/vault/server.js'

// A dynamic credential is made per read: the commands that work on stored values (sync, drift, rotate,
// versions, rollback) refuse it as UNSUPPORTED (exit 10), and leave no live credential behind.
describe('dynamic references where a stored value is meant', () => {
  const sb = new Sandbox()
  let server: VaultTestServer
  let db: DatabaseEngine
  const run = sb.runner(() => ({VAULT_ADDR: server.url, VAULT_TOKEN: server.rootToken}))
  const noPassword = (r: RunResult): void => {
    for (const l of db.leases.values()) {
      assert.ok(!r.stdout.includes(l.password) && !r.stderr.includes(l.password), 'a password was printed')
      assert.ok(!sb.auditText().includes(l.password), 'a password reached the audit log')
    }
  }

  before(async () => {
    server = await VaultTestServer.start()
    db = server.mountDatabase('database', {app: {ttl: 600, maxTtl: 600}})
    await sb.init()
    writeFileSync(
      join(sb.project, 'secrets.yaml'),
      [
        'providers:',
        '  local: {type: local, path: .secrets/store.json}',
        '  vault: {type: vault}',
        'env:',
        '  DB_USER: vault://database/creds/app#username',
        '  DB_PASS: vault://database/creds/app#password',
        '',
      ].join('\n'),
    )
  })
  beforeEach(() => db.leases.clear())
  after(async () => {
    await server.close()
    sb.cleanup()
  })

  for (const command of [
    ['sync', '--from', 'vault', '--to', 'local', '--yes'],
    ['drift', '--from', 'vault', '--to', 'local'],
  ]) {
    it(`${command[0]} --from a dynamic engine is UNSUPPORTED, writes nothing and revokes what it read`, async () => {
      const r = await run(command)
      assert.equal(r.code, 10, r.stderr)
      assert.match(
        r.stderr,
        /DB_PASS, DB_USER are read from a dynamic secrets engine: Vault makes their credentials anew on each read, under a lease, so there is no stored value to sync or compare\. The credentials just read were revoked\./,
      )
      assert.match(r.stderr, /Leave dynamic references out with --only/)
      assert.equal(db.leases.size, 1, 'one read of the path for both fields')
      assert.deepEqual(db.liveCredentials(), [])
      const list = await run(['list', 'local', '--json'])
      assert.equal(list.code, 0, list.stderr)
      assert.deepEqual(JSON.parse(list.stdout).secrets ?? JSON.parse(list.stdout), [])
      noPassword(r)
    })
  }

  it('rotate of a dynamic reference is UNSUPPORTED, and revokes the credential its read minted', async () => {
    const r = await run(['rotate', 'vault://database/creds/app#password', '--generate', 'password', '--yes'])
    assert.equal(r.code, 10, r.stderr)
    assert.match(
      r.stderr,
      /vault:\/\/database\/creds\/app is a dynamic credential: Vault makes it anew on each read, under a lease, so there is no stored value to rotate\. The credential just read was revoked\./,
    )
    assert.equal(db.leases.size, 1)
    assert.deepEqual(db.liveCredentials(), [])
    noPassword(r)
  })

  for (const command of [
    ['versions', 'vault://database/creds/app#password'],
    ['rollback', 'vault://database/creds/app', '--to', '1', '--yes'],
  ]) {
    it(`${command[0]} of a dynamic reference is UNSUPPORTED, and mints no credential`, async () => {
      const r = await run(command)
      assert.equal(r.code, 10, r.stderr)
      assert.match(r.stderr, /is in a database secrets engine \(mount database\/\)/)
      assert.deepEqual(db.liveCredentials(), [])
    })
  }

  it('the offline cache never keeps a dynamic credential: --offline finds none and starts nothing', async () => {
    const cacheDir = join(sb.home, '.cache', 'secrets')
    const cached = (): number =>
      existsSync(cacheDir)
        ? readdirSync(cacheDir)
            .filter((f) => f.startsWith('cache-'))
            .reduce((n, f) => n + Object.keys(JSON.parse(readFileSync(join(cacheDir, f), 'utf8')).secrets).length, 0)
        : 0
    const r = await run([
      'exec',
      '--fallback',
      '--',
      process.execPath,
      '-e',
      'process.exit(process.env.DB_USER ? 0 : 7)',
    ])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(cached(), 0)
    assert.deepEqual(db.liveCredentials(), [])
    const offline = await run(['exec', '--offline', '--', process.execPath, '-e', 'process.exit(0)'])
    assert.equal(offline.code, 9, offline.stderr)
    assert.match(offline.stderr, /DB_PASS|DB_USER/)
    noPassword(r)
    noPassword(offline)
  })
})
