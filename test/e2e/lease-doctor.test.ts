import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, beforeEach, describe, it} from 'node:test'

import {Sandbox} from '../helpers/cli.js'
import type {DatabaseEngine} from '../servers/vault/dynamic.js'
import type {PkiEngine} from '../servers/vault/pki-engine.js'
import {VaultTestServer} from '../servers/vault/server.js'

interface DoctorJson {
  ok: boolean
  checks: Array<{name: string; status: string; detail: string; code?: string}>
  variables: Array<{name: string; status: string; code?: string; message?: string}>
}

describe('doctor: may the token make each dynamic credential, and renew and revoke its leases?', () => {
  const sb = new Sandbox()
  let server: VaultTestServer
  let db: DatabaseEngine
  let pki: PkiEngine
  const doctor = (token: string) => sb.run(['doctor', '--json'], {env: {VAULT_ADDR: server.url, VAULT_TOKEN: token}})
  const leasesCheck = (j: DoctorJson) => j.checks.find((c) => c.name === 'leases vault')
  const variables = (j: DoctorJson) => j.variables.map((v) => [v.name, v.status, v.code ?? null])

  before(async () => {
    server = await VaultTestServer.start()
    db = server.mountDatabase('database', {app: {ttl: 60, maxTtl: 600}})
    pki = server.mountPki('pki', {web: {ttl: 600, maxTtl: 3600, allowedDomains: ['app.internal']}})
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
        '  TLS_CERT: {ref: "vault://pki/issue/web#certificate", params: {common_name: app.internal}}',
        '',
      ].join('\n'),
    )
  })
  beforeEach(() => {
    db.leases.clear()
    pki.leases.clear()
    server.resetCounters()
  })
  after(async () => {
    await server.close()
    sb.cleanup()
  })

  it('a token that may do everything: one capabilities-self request, every variable resolves, what was read is revoked', async () => {
    const r = await doctor(server.rootToken)
    assert.equal(r.code, 0, r.stdout + r.stderr)
    const j = JSON.parse(r.stdout) as DoctorJson
    assert.deepEqual(leasesCheck(j), {
      name: 'leases vault',
      status: 'ok',
      detail: 'the token may read database/creds/app and write pki/issue/web, and renew and revoke its leases',
    })
    assert.equal(server.count('POST sys/capabilities-self'), 1)
    assert.deepEqual(variables(j), [
      ['DB_PASS', 'ok', null],
      ['DB_USER', 'ok', null],
      ['TLS_CERT', 'ok', null],
    ])
    assert.deepEqual(
      [...db.leases.values(), ...pki.leases.values()].map((l) => l.revoked?.whileLive),
      [true, true],
    )
  })

  it('a token whose policy lacks revoke: FAIL naming the policy line, exit 6, and no credential is made', async () => {
    // Vault's default policy grants sys/leases/renew, not revoke.
    server.policy('no-revoke', {'database/creds/app': ['read'], 'pki/issue/web': ['update']})
    const r = await doctor(server.createToken(['no-revoke']))
    assert.equal(r.code, 6, r.stdout + r.stderr)
    const j = JSON.parse(r.stdout) as DoctorJson
    assert.deepEqual(leasesCheck(j), {
      name: 'leases vault',
      status: 'fail',
      detail:
        'The Vault token may not revoke its leases (sys/leases/revoke: deny), so `exec` cannot end the credentials it makes when the command exits (they live until their TTL ends): add `path "sys/leases/revoke" { capabilities = ["update"] }` to its policy.',
      code: 'PERMISSION_DENIED',
      exitCode: 6,
    })
    assert.deepEqual(variables(j), [
      ['DB_PASS', 'warn', null],
      ['DB_USER', 'warn', null],
      ['TLS_CERT', 'warn', null],
    ])
    assert.equal(
      j.variables[0].message,
      'not read: a read would make a credential this token could not revoke (see `leases vault`)',
    )
    assert.equal(db.leases.size + pki.leases.size, 0, 'doctor made a credential it could not revoke')
    assert.equal(server.count('GET database/creds/app') + server.count('POST pki/issue/web'), 0)
  })

  it('a token that may not read one path nor renew: each named with its policy line; the human output says FAIL', async () => {
    server.policy('partial', {
      'database/creds/other': ['read'],
      'pki/issue/web': ['update'],
      'sys/leases/revoke': ['update'],
      'sys/leases/renew': ['deny'],
    })
    const token = server.createToken(['partial'])
    const r = await doctor(token)
    assert.equal(r.code, 6, r.stdout + r.stderr)
    const check = leasesCheck(JSON.parse(r.stdout) as DoctorJson)!
    assert.equal(
      check.detail,
      'The Vault token may not renew its leases (sys/leases/renew: deny), so `exec` cannot keep them alive past their first TTL: add `path "sys/leases/renew" { capabilities = ["update"] }` to its policy. ' +
        'The Vault token may not read database/creds/app (it has: deny): add `path "database/creds/app" { capabilities = ["read"] }` to its policy.',
    )
    const human = await sb.run(['doctor'], {env: {VAULT_ADDR: server.url, VAULT_TOKEN: token, NO_COLOR: '1'}})
    assert.equal(human.code, 6)
    assert.match(human.stdout, /^FAIL {2}leases vault {6,}The Vault token may not renew its leases/m)
    assert.match(human.stdout, /^FAIL {2}variable DB_USER .*\[PERMISSION_DENIED\]$/m)
    assert.match(human.stdout, /^ok {4}variable TLS_CERT /m)
  })

  it("what doctor warns of, under exec: the revocation fails on stderr, the exit status stays the child's, the ledger keeps the lease", async () => {
    server.policy('no-revoke', {'database/creds/app': ['read'], 'pki/issue/web': ['update']})
    const env = {VAULT_ADDR: server.url, VAULT_TOKEN: server.createToken(['no-revoke'])}
    const r = await sb.run(['exec', '--', process.execPath, '-e', 'process.exit(7)'], {env})
    assert.equal(r.code, 7, r.stderr)
    assert.equal(db.leases.size, 1)
    assert.equal([...db.leases.values()][0].revoked, undefined)
    assert.match(
      r.stderr,
      /Could not revoke the lease of .*\[PERMISSION_DENIED\] Vault denied update on sys\/leases\/revoke: .*permission denied; it stays in the ledger/,
    )
    const list = await sb.run(['lease', 'list', '--json'], {env})
    assert.deepEqual((JSON.parse(list.stdout).leases as Array<{path: string}>).map((l) => l.path).sort(), [
      'database/creds/app',
      'pki/issue/web',
    ])
    const revoke = await sb.run(['lease', 'revoke', '--all'], {
      env: {VAULT_ADDR: server.url, VAULT_TOKEN: server.rootToken},
    })
    assert.equal(revoke.code, 0, revoke.stderr)
    assert.equal([...db.leases.values()][0].revoked?.whileLive, true)
  })
})
