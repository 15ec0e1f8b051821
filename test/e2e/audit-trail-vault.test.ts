// `secrets audit trail` for Vault: a file audit device's log (written by the test server in Vault's
// format, HMAC'd fields included), matched by path and, for HMAC'd version parameters, via sys/audit-hash.
import assert from 'node:assert/strict'
import {appendFileSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, beforeEach, describe, it} from 'node:test'

import {Sandbox, type RunResult} from '../helpers/cli.js'
import {VaultTestServer} from '../servers/vault/server.js'

const CANARY = 'CANARY-trail-vault-51c9-do-not-print'
const HOUR = 3_600_000

interface Row {
  time: string
  source: string
  actor: string
  action: string
  secret: string
  outcome: string
  version?: string
  code?: string
}

describe('audit trail --provider vault (file audit device, sys/audit-hash)', () => {
  const sb = new Sandbox()
  let server: VaultTestServer
  let token: string
  let noHash: string
  let log: string
  const yaml = (extra = ''): string =>
    `providers:\n  local: {type: local, path: .secrets/store.json}\n  vault: {type: vault${extra}}\nenv:\n  A: vault://secret/app#db_user\n  OLD: vault://secret/app?version=1#db_user\n  ADMIN: vault://secret/admin#root\n  LEGACY: vault://kv1/legacy#token\n`
  const run = sb.runner(() => ({VAULT_ADDR: server.url, VAULT_TOKEN: token}))
  const trail = async (args: string[] = [], env: Record<string, string> = {}): Promise<{r: RunResult; rows: Row[]}> => {
    const r = await run(['audit', 'trail', '--provider', 'vault', '--vault-audit-file', log, '--json', ...args], {env})
    return {r, rows: r.code === 0 ? (JSON.parse(r.stdout) as {events: Row[]}).events : []}
  }

  before(async () => {
    server = await VaultTestServer.start()
    server.mountKv('kv1', 1)
    server.put('secret', 'app', {db_user: 'alice', db_pass: 'first-pass'})
    server.put('secret', 'app', {db_user: 'alice', db_pass: CANARY})
    server.put('secret', 'admin', {root: 'top-secret-admin'})
    server.put('kv1', 'legacy', {token: 'legacy-v1-value'})
    server.policy('app', {
      'secret/data/app': ['read', 'update'],
      'kv1/*': ['read'],
      'secret/data/admin': ['deny'],
      'sys/audit-hash/file': ['update'],
    })
    server.policy('no-hash', {'secret/data/app': ['read']})
    token = server.createToken(['app'])
    noHash = server.createToken(['no-hash'])
    log = join(sb.root, 'vault-audit.log')
    // Enabled over the API with the root token, as an operator would (`vault audit enable file file_path=...`).
    const res = await fetch(`${server.url}/v1/sys/audit/file`, {
      method: 'POST',
      headers: {'X-Vault-Token': server.rootToken},
      body: JSON.stringify({type: 'file', options: {file_path: log}}),
    })
    assert.equal(res.status, 204)
    server.plantAudit({
      time: new Date(Date.now() - 72 * HOUR),
      operation: 'read',
      path: 'secret/data/app',
      displayName: 'approle',
      metadata: {role_name: 'ci'},
      responseData: {data: {db_user: 'alice', db_pass: CANARY}, metadata: {version: 2}},
    })
    server.plantAudit({
      time: new Date(Date.now() - 48 * HOUR),
      operation: 'read',
      path: 'secret/data/admin',
      displayName: 'token-intruder',
      error: '1 error occurred:\n\t* permission denied\n\n',
    })
    server.plantAudit({
      time: new Date(Date.now() - 24 * HOUR),
      operation: 'read',
      path: 'secret/data/unrelated',
      displayName: 'approle',
    })
    writeFileSync(join(sb.project, 'secrets.yaml'), yaml())
    await sb.init()
  })
  after(async () => {
    await server.close()
    sb.cleanup()
  })
  beforeEach(() => {
    server.faults.clear()
    server.resetCounters()
    writeFileSync(join(sb.project, 'secrets.yaml'), yaml())
  })

  it("returns planted and served entries of the configured secrets, merged with the local log in time order; an HMAC'd ?version= is resolved through sys/audit-hash", async () => {
    const got = await run(['get', 'vault://secret/app?version=1#db_user'])
    assert.deepEqual([got.code, got.stdout], [0, 'alice'], got.stderr)
    // The device HMAC'd the version parameter in what it wrote.
    assert.ok(readFileSync(log, 'utf8').includes(`"version":"${server.hashFor('1')}"`))
    const {r, rows} = await trail()
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(
      rows.map((e) => [e.source, e.actor, e.action, e.secret, e.outcome, e.version]),
      [
        ['provider', 'approle (role ci)', 'read', 'vault://secret/app', 'ok', '2'],
        ['provider', 'token-intruder', 'read', 'vault://secret/admin', 'denied', undefined],
        ['provider', 'token', 'read', 'vault://secret/app', 'ok', '1'],
        ['local', rows[3].actor, 'read (get)', 'vault://secret/app', 'ok', '1'],
      ],
    )
    assert.equal(rows[1].code, 'permission denied')
    assert.ok(server.count('POST sys/audit-hash/file') >= 1)
    assert.ok(!r.stdout.includes('unrelated'))
    assert.ok(!r.stdout.includes('hmac-sha256'), 'no HMAC (of a value or a token) is shown')
  })

  it('--since and --until filter the log and the local records', async () => {
    const {r, rows} = await trail(['--since', '60h', '--until', '30h'])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(
      rows.map((e) => [e.actor, e.secret, e.outcome]),
      [['token-intruder', 'vault://secret/admin', 'denied']],
    )
  })

  it("never shows a value: the canary is HMAC'd in the log and absent from the trail and the table", async () => {
    assert.equal((await run(['get', 'vault://secret/app#db_pass'])).stdout, CANARY)
    const text = readFileSync(log, 'utf8')
    assert.ok(!text.includes(CANARY) && text.includes(server.hashFor(CANARY)))
    const json = await trail()
    const table = await run(['audit', 'trail', '--provider', 'vault', '--vault-audit-file', log])
    assert.equal(table.code, 0, table.stderr)
    assert.match(table.stdout, /^TIME +SOURCE +ACTOR +ACTION +SECRET +OUTCOME\n/)
    assert.match(table.stdout, /vault +approle \(role ci\) +read +vault:\/\/secret\/app \(v 2\) +ok/)
    for (const t of [json.r.stdout, json.r.stderr, table.stdout, table.stderr])
      assert.ok(!t.includes(CANARY) && !t.includes(server.hashFor(CANARY)))
  })

  it('without --vault-audit-file: USAGE (exit 2) naming the flag; a missing file: NOT_FOUND (exit 5)', async () => {
    const r = await run(['audit', 'trail', '--provider', 'vault'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /Error \[USAGE\]: .*--vault-audit-file/)
    const missing = await run([
      'audit',
      'trail',
      '--provider',
      'vault',
      '--vault-audit-file',
      join(sb.root, 'nope.log'),
    ])
    assert.equal(missing.code, 5)
    assert.match(missing.stderr, /Error \[NOT_FOUND\]: The Vault audit log .*nope\.log does not exist/)
  })

  it('a token without update on sys/audit-hash gets PERMISSION_DENIED (exit 6) with the policy to add', async () => {
    writeFileSync(join(sb.project, 'secrets.yaml'), yaml(', kv: {secret: 2, kv1: 1}'))
    const r = await run(['audit', 'trail', '--provider', 'vault', '--vault-audit-file', log], {
      env: {VAULT_TOKEN: noHash},
    })
    assert.equal(r.code, 6, r.stderr)
    assert.match(
      r.stderr,
      /Error \[PERMISSION_DENIED\]: Vault denied audit-hash on sys\/audit-hash\/file: permission denied\./,
    )
    assert.match(r.stderr, /path "sys\/audit-hash\/file" \{ capabilities = \["update"\] \}/)
    assert.equal(r.stdout, '')
  })

  it('an unreachable Vault is UNAVAILABLE (exit 9)', async () => {
    writeFileSync(join(sb.project, 'secrets.yaml'), yaml(', retries: 0'))
    const r = await run(['audit', 'trail', '--provider', 'vault', '--vault-audit-file', log], {
      env: {VAULT_ADDR: 'http://127.0.0.1:1'},
    })
    assert.equal(r.code, 9, r.stderr)
    assert.match(r.stderr, /Error \[UNAVAILABLE\]: Cannot reach Vault at http:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\)/)
  })

  it('a line that is not JSON in the middle of the log is INTEGRITY (exit 8) naming the line; a partial last line is skipped', async () => {
    const copy = join(sb.root, 'copy.log')
    const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean)
    writeFileSync(copy, `${lines.join('\n')}\n{"time":"2026-01-01T00:00:00Z","type":"resp`)
    const partial = await run(['audit', 'trail', '--provider', 'vault', '--vault-audit-file', copy, '--json'])
    assert.equal(partial.code, 0, partial.stderr)
    appendFileSync(copy, `\n${lines[0]}\n`)
    const r = await run(['audit', 'trail', '--provider', 'vault', '--vault-audit-file', copy])
    assert.equal(r.code, 8, r.stderr)
    assert.match(
      r.stderr,
      new RegExp(`Error \\[INTEGRITY\\]: .*copy\\.log:${lines.length + 1} is not a JSON audit entry`),
    )
  })
})
