import assert from 'node:assert/strict'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, beforeEach, describe, it} from 'node:test'

import {Sandbox, type RunResult} from '../helpers/cli.js'
import type {DatabaseEngine, Lease} from '../servers/vault/dynamic.js'
import {VaultTestServer} from '../servers/vault/server.js'

// The child writes what it got into a file (never to its output), so the test can compare it with the
// credential the server minted.
const CHILD = (out: string, extra = ''): string =>
  `require('fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify({u: process.env.DB_USER, p: process.env.DB_PASS}));${extra}`

// A function call, so the type is not narrowed by an earlier `revoked === undefined` assertion.
const revokedWhileLive = (l: Lease): boolean | undefined => l.revoked?.whileLive

describe('dynamic secrets: a Vault lease lives exactly as long as the exec run', () => {
  const sb = new Sandbox()
  let server: VaultTestServer
  let db: DatabaseEngine
  const got = join(sb.root, 'got.json')
  const ledger = join(sb.home, '.local', 'state', 'secrets', 'leases.json')
  const run = sb.runner(() => ({VAULT_ADDR: server.url, VAULT_TOKEN: server.rootToken}))
  const start = (args: string[]) => sb.start(args, {env: {VAULT_ADDR: server.url, VAULT_TOKEN: server.rootToken}})
  const ledgerEntries = (): Array<{id: string; kept: boolean; variables: string[]}> =>
    existsSync(ledger) ? JSON.parse(readFileSync(ledger, 'utf8')).leases : []
  const noCredential = (...outs: RunResult[]): void => {
    for (const l of db.leases.values())
      for (const o of outs) {
        assert.ok(!o.stdout.includes(l.password) && !o.stderr.includes(l.password), 'a password was printed')
        assert.ok(!sb.auditText().includes(l.password), 'a password reached the audit log')
        if (existsSync(ledger))
          assert.ok(!readFileSync(ledger, 'utf8').includes(l.password), 'a password in the ledger')
      }
  }

  // A 4 s lease, renewed at about two thirds of its TTL: a margin a loaded CI machine keeps.
  before(async () => {
    server = await VaultTestServer.start()
    db = server.mountDatabase('database', {app: {ttl: 4, maxTtl: 600}, short: {ttl: 60, maxTtl: 600}})
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
        'environments:',
        '  broken:',
        '    env: {DB_USER: vault://database/creds/short#username, MISSING: local://NOT_THERE}',
        '',
      ].join('\n'),
    )
  })
  beforeEach(() => {
    db.leases.clear()
    server.resetCounters()
  })
  after(async () => {
    await server.close()
    sb.cleanup()
  })

  it('both fields come from one credential; it is renewed while the child runs and revoked when it exits', async () => {
    const r = await run(['exec', '--', process.execPath, '-e', CHILD(got, 'setTimeout(() => {}, 6000)')])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(db.leases.size, 1, 'one read, so one lease, for both variables')
    const [lease] = db.leases.values()
    assert.deepEqual(JSON.parse(readFileSync(got, 'utf8')), {u: lease.username, p: lease.password})
    assert.ok(server.count('POST sys/leases/renew') >= 1, 'the 4 s lease was not renewed during a 6 s run')
    assert.equal(lease.renewals, server.count('POST sys/leases/renew'))
    assert.deepEqual(lease.revoked && {whileLive: lease.revoked.whileLive}, {whileLive: true})
    assert.deepEqual(ledgerEntries(), [])
    const records = sb
      .auditText()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as {action: string; lease?: string})
      .filter((x) => x.lease !== undefined)
    assert.deepEqual([...new Set(records.map((x) => x.action))].sort(), ['lease-renew', 'lease-revoke', 'read'])
    noCredential(r)
  })

  it('a failing child keeps its exit status, and its lease is revoked', async () => {
    const r = await run(['exec', '--', process.execPath, '-e', 'process.exit(3)'])
    assert.equal(r.code, 3, r.stderr)
    const [lease] = db.leases.values()
    assert.equal(lease.revoked?.whileLive, true)
    assert.deepEqual(ledgerEntries(), [])
  })

  it('SIGTERM to secrets: the child ends, the lease is revoked, the status is 143', async () => {
    const seen = join(sb.root, 'got-sigterm.json')
    const p = start(['exec', '--', process.execPath, '-e', CHILD(seen, 'setInterval(() => {}, 1000)')])
    while (!existsSync(seen)) await new Promise((r) => setTimeout(r, 50))
    assert.equal(ledgerEntries().length, 1, 'the lease is in the ledger while the child runs')
    p.child.kill('SIGTERM')
    const r = await p.done
    assert.equal(r.code, 143, r.stderr)
    assert.equal([...db.leases.values()][0].revoked?.whileLive, true)
    assert.deepEqual(ledgerEntries(), [])
  })

  it('SIGKILL of secrets leaves an orphaned lease that `lease list` shows and `lease revoke --orphaned` ends', async () => {
    const marker = join(sb.root, 'pid')
    const p = start([
      'exec',
      '--',
      process.execPath,
      '-e',
      `require('fs').writeFileSync(${JSON.stringify(marker)}, String(process.pid)); setInterval(() => {}, 1000)`,
    ])
    while (!existsSync(marker)) await new Promise((r) => setTimeout(r, 50))
    p.child.kill('SIGKILL')
    await p.done
    process.kill(Number(readFileSync(marker, 'utf8')), 'SIGKILL')
    const list = await run(['lease', 'list', '--json'])
    assert.equal(list.code, 0, list.stderr)
    const [shown] = JSON.parse(list.stdout).leases as Array<{status: string; tag: string; variables: string[]}>
    assert.deepEqual(
      {status: shown.status, variables: shown.variables},
      {status: 'orphaned', variables: ['DB_PASS', 'DB_USER']},
    )
    assert.ok(!list.stdout.includes([...db.leases.keys()][0]), 'lease list --json printed a lease id')
    const revoke = await run(['lease', 'revoke', '--orphaned'])
    assert.equal(revoke.code, 0, revoke.stderr)
    assert.match(revoke.stderr, new RegExp(`revoked ${shown.tag} \\(vault://database/creds/app\\)`))
    assert.equal([...db.leases.values()][0].revoked?.whileLive, true)
    assert.deepEqual(ledgerEntries(), [])
  })

  it('exec revokes the orphans of its project when it starts', async () => {
    const marker = join(sb.root, 'pid2')
    const p = start([
      'exec',
      '--',
      process.execPath,
      '-e',
      `require('fs').writeFileSync(${JSON.stringify(marker)}, String(process.pid)); setInterval(() => {}, 1000)`,
    ])
    while (!existsSync(marker)) await new Promise((r) => setTimeout(r, 50))
    p.child.kill('SIGKILL')
    await p.done
    // The child outlived the kill of secrets; end it, as a supervisor would.
    process.kill(Number(readFileSync(marker, 'utf8')), 'SIGKILL')
    const orphan = [...db.leases.values()][0]
    assert.equal(orphan.revoked, undefined)
    const r = await run(['exec', '--', process.execPath, '-e', ''])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stderr, /Revoked 1 lease a run that was killed had left/)
    assert.equal(revokedWhileLive(orphan), true)
    assert.deepEqual(ledgerEntries(), [])
  })

  it('nothing starts when another variable cannot be resolved, and the minted credential is revoked', async () => {
    const r = await run(['exec', '--env', 'broken', '--', process.execPath, '-e', CHILD(got)])
    assert.equal(r.code, 5, r.stderr)
    const [lease] = db.leases.values()
    assert.equal(lease.revoked?.whileLive, true)
    assert.deepEqual(ledgerEntries(), [])
  })

  it('get hands the credential out: the lease is kept, recorded and named; set is UNSUPPORTED', async () => {
    const g = await run(['get', 'vault://database/creds/short#username'])
    assert.equal(g.code, 0, g.stderr)
    const [lease] = db.leases.values()
    assert.equal(g.stdout, lease.username)
    assert.match(
      g.stderr,
      /vault:\/\/database\/creds\/short\) is a dynamic credential: its lease \([0-9a-f]{16}\) outlives this command and ends in 60 s unless revoked/,
    )
    assert.equal(lease.revoked, undefined)
    assert.deepEqual(
      ledgerEntries().map((e) => e.kept),
      [true],
    )
    const list = await run(['lease', 'list', '--json'])
    assert.equal(JSON.parse(list.stdout).leases[0].status, 'kept')
    const s = await run(['set', 'vault://database/creds/short#username'], {input: 'x'})
    assert.equal(s.code, 10, s.stderr)
    assert.match(s.stderr, /is in a database secrets engine \(mount database\/\)/)
    const all = await run(['lease', 'revoke', '--all'])
    assert.equal(all.code, 0, all.stderr)
    assert.equal(revokedWhileLive(lease), true)
    noCredential(g, list)
  })
})
