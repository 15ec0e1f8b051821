import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, beforeEach, describe, it} from 'node:test'

import {Sandbox} from '../helpers/cli.js'
import {findPostgres, PostgresCluster} from '../helpers/postgres.js'
import type {DatabaseEngine, Lease} from '../servers/vault/dynamic.js'
import {VaultTestServer} from '../servers/vault/server.js'

const found = findPostgres()
const skip = 'missing' in found ? `${found.missing} (Debian: apt-get install postgresql)` : false

describe('a Vault database credential really works in PostgreSQL, and ends with the exec run', {skip}, () => {
  const sb = new Sandbox()
  let pg: PostgresCluster
  let server: VaultTestServer
  let db: DatabaseEngine
  const run = sb.runner(() => ({VAULT_ADDR: server.url, VAULT_TOKEN: server.rootToken}))
  const psql = (): string => join((found as {bin: string}).bin, 'psql')
  /** A login with these credentials, as a client would try it (credentials in the environment, not argv). */
  const login = (user: string, password: string) =>
    spawnSync(psql(), ['-h', pg.host, '-p', String(pg.port), '-d', 'postgres', '-AtX', '-c', 'select 1'], {
      env: {...process.env, PGUSER: user, PGPASSWORD: password},
      encoding: 'utf8',
    })
  const only = (): Lease => {
    assert.equal(db.leases.size, 1)
    return [...db.leases.values()][0]
  }

  before(async () => {
    pg = await PostgresCluster.start((found as {bin: string}).bin)
    server = await VaultTestServer.start()
    db = server.mountDatabase(
      'database',
      {app: {ttl: 60, maxTtl: 600}, brief: {ttl: 1, maxTtl: 1}},
      {run: async (sql) => void (await pg.sql(sql))},
    )
    await sb.init()
    writeFileSync(
      join(sb.project, 'secrets.yaml'),
      [
        'providers:',
        '  local: {type: local, path: .secrets/store.json, inject: false}',
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
    await server?.close()
    await pg?.stop()
    sb.cleanup()
  })

  it('psql under exec logs in with DB_USER/DB_PASS of one lease; after exec the role is gone and the login fails', async () => {
    const out = join(sb.root, 'current-user.txt')
    // psql writes its answer to a file: on stdout, exec would mask the user name (a secret value).
    const script = `PGUSER="$DB_USER" PGPASSWORD="$DB_PASS" exec ${psql()} -h ${pg.host} -p ${pg.port} -d postgres -AtX -v ON_ERROR_STOP=1 -c "select current_user" -o ${out}`
    const r = await run(['exec', '--', 'sh', '-c', script])
    assert.equal(r.code, 0, r.stderr)
    const lease = only()
    assert.equal(readFileSync(out, 'utf8').trim(), lease.username)
    assert.equal(lease.revoked?.whileLive, true)
    assert.deepEqual(db.dropped, [lease.username])
    assert.equal(await pg.roleExists(lease.username), false, 'the role outlived the exec run')
    const again = login(lease.username, lease.password)
    assert.notEqual(again.status, 0)
    assert.match(again.stderr, new RegExp(`password authentication failed for user "${lease.username}"`))
    for (const text of [r.stdout, r.stderr, sb.auditText()]) assert.ok(!text.includes(lease.password))
  })

  it('while the lease lives the credential logs in; when it expires Vault drops the role', async () => {
    const g = await run(['get', 'vault://database/creds/brief#password'])
    assert.equal(g.code, 0, g.stderr)
    const lease = only()
    assert.equal(g.stdout, lease.password)
    assert.equal(login(lease.username, lease.password).stdout.trim(), '1')
    const deadline = Date.now() + 10_000
    while ((await pg.roleExists(lease.username)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    assert.equal(await pg.roleExists(lease.username), false, 'the expired lease left its role')
    assert.notEqual(login(lease.username, lease.password).status, 0)
    assert.ok(existsSync(join(sb.home, '.local', 'state', 'secrets', 'leases.json')))
    assert.equal((await run(['lease', 'revoke', '--all'])).code, 0)
  })
})
