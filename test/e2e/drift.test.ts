import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {Sandbox, type RunResult} from '../helpers/cli.js'
import {VaultTestServer} from '../servers/vault/server.js'

const CANARY = 'CANARY-drift-51c2-never-print'

const noValue = (...outs: RunResult[]): void => {
  for (const o of outs) assert.ok(!o.stdout.includes(CANARY) && !o.stderr.includes(CANARY), 'a value was printed')
}

describe('drift --env A --env B', () => {
  const sb = new Sandbox()
  const run = sb.runner({})

  before(async () => {
    await sb.init()
    for (const [name, value] of [
      ['PROD_DB', `${CANARY}-prod`],
      ['STAGING_DB', `${CANARY}-staging`],
      ['PROD_TOKEN', CANARY],
      ['STAGING_TOKEN', CANARY],
    ]) {
      const r = await run(['set', `local://${name}`], {input: value})
      assert.equal(r.code, 0, r.stderr)
    }
    writeFileSync(
      join(sb.project, 'secrets.yaml'),
      [
        'providers:',
        '  local: {type: local, path: .secrets/store.json, inject: false}',
        'env: {}',
        'environments:',
        '  production:',
        '    env: {DB: local://PROD_DB, TOKEN: local://PROD_TOKEN, SHARED: local://PROD_DB}',
        '  staging:',
        '    env: {DB: local://STAGING_DB, TOKEN: local://STAGING_TOKEN, SHARED: local://PROD_DB, EXTRA: local://STAGING_DB}',
        '  copy:',
        '    env: {DB: local://STAGING_DB, TOKEN: local://PROD_TOKEN, SHARED: local://PROD_DB}',
        '',
      ].join('\n'),
    )
  })
  after(() => sb.cleanup())

  it('a variable declared on one side only is drift (exit 17); a reused value gets its own line', async () => {
    const r = await run(['drift', '--env', 'production', '--env', 'staging'])
    assert.equal(r.code, 17, r.stderr)
    assert.equal(
      r.stdout,
      [
        'VARIABLE  PRODUCTION          STAGING                STATUS',
        'DB        local://PROD_DB     local://STAGING_DB     different',
        'EXTRA     -                   local://STAGING_DB     only in staging',
        'SHARED    local://PROD_DB     local://PROD_DB        same reference',
        'TOKEN     local://PROD_TOKEN  local://STAGING_TOKEN  same value',
        'TOKEN: same value in production and staging',
        '',
      ].join('\n'),
    )
    assert.equal(r.stderr, 'Drift: 1 variable is declared on one side only.\n')
    noValue(r)
  })

  it('--json: every variable with its status; the same exit code', async () => {
    const r = await run(['drift', '--env', 'production', '--env', 'staging', '--json'])
    assert.equal(r.code, 17, r.stderr)
    assert.deepEqual(JSON.parse(r.stdout), {
      a: 'production',
      b: 'staging',
      items: [
        {name: 'DB', status: 'different', a: 'local://PROD_DB', b: 'local://STAGING_DB'},
        {name: 'EXTRA', status: 'only-b', b: 'local://STAGING_DB'},
        {name: 'SHARED', status: 'same', a: 'local://PROD_DB', b: 'local://PROD_DB', sharedReference: true},
        {name: 'TOKEN', status: 'same', a: 'local://PROD_TOKEN', b: 'local://STAGING_TOKEN', sharedReference: false},
      ],
      reused: ['TOKEN'],
      drift: true,
    })
    noValue(r)
  })

  it('the same variables on both sides is no drift (exit 0), even where the values differ', async () => {
    const r = await run(['drift', '--env', 'production', '--env', 'copy'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^DB +local:\/\/PROD_DB +local:\/\/STAGING_DB +different$/m)
    assert.match(r.stdout, /^TOKEN +local:\/\/PROD_TOKEN +local:\/\/PROD_TOKEN +same reference$/m)
    assert.equal(r.stderr, 'No drift: both environments declare the same 3 variables.\n')
    noValue(r)
  })

  it('a secret that cannot be read is its own error, not drift; bad flag combinations are USAGE', async () => {
    writeFileSync(
      join(sb.project, 'broken.yaml'),
      'providers:\n  local: {type: local, path: .secrets/store.json, inject: false}\nenv: {DB: local://PROD_DB}\nenvironments:\n  gone:\n    env: {DB: local://NO_SUCH_SECRET}\n',
    )
    const missing = await run(['drift', '--config', 'broken.yaml', '--env', 'gone'])
    assert.equal(missing.code, 5, missing.stderr)
    assert.match(
      missing.stderr,
      /^Error \[NOT_FOUND\]: Could not resolve 1 of 1 variable\(s\); nothing was used:\n {2}DB = local:\/\/NO_SUCH_SECRET/,
    )
    assert.equal(missing.stdout, '')
    for (const [args, message] of [
      [['drift'], /drift compares two environments; 0 --env were given\./],
      [['drift', '--env', 'staging', '--env', 'staging'], /--env staging was given twice/],
      [['drift', '--from', 'local'], /drift needs --from and --to together; only --from was given\./],
      [
        ['drift', '--from', 'local', '--to', 'x', '--env', 'a', '--env', 'b'],
        /With --from and --to, drift takes at most one --env\./,
      ],
    ] as const) {
      const r = await run([...args])
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, new RegExp(`^Error \\[USAGE\\]: ${message.source}`))
    }
    noValue(missing)
  })
})

describe('drift --from --to: a Vault mirror of the local store', () => {
  const sb = new Sandbox()
  let server: VaultTestServer
  const run = sb.runner(() => ({VAULT_ADDR: server.url, VAULT_TOKEN: server.rootToken}))

  before(async () => {
    server = await VaultTestServer.start()
    await sb.init()
    for (const [name, value] of [
      ['DB_PASS', CANARY],
      ['DB_USER', 'app'],
    ]) {
      const r = await run(['set', `local://${name}`], {input: value})
      assert.equal(r.code, 0, r.stderr)
    }
    writeFileSync(
      join(sb.project, 'secrets.yaml'),
      'providers:\n  local: {type: local, path: .secrets/store.json}\n  vault: {type: vault}\n',
    )
  })
  after(async () => {
    await server.close()
    sb.cleanup()
  })

  it('missing from the mirror is drift; after sync it is clean; a changed value is drift again', async () => {
    const before = await run(['drift', '--from', 'local', '--to', 'vault://secret/app'])
    assert.equal(before.code, 17, before.stderr)
    assert.match(
      before.stdout,
      /^DB_PASS +local:\/\/DB_PASS \(v1\) +vault:\/\/secret\/app#DB_PASS \(missing\) +missing$/m,
    )
    assert.equal(before.stderr, 'Drift: 2 variables are missing from vault://secret/app or different in it.\n')

    const sync = await run(['sync', '--from', 'local', '--to', 'vault://secret/app', '--yes'])
    assert.equal(sync.code, 0, sync.stderr)
    const clean = await run(['drift', '--from', 'local', '--to', 'vault://secret/app', '--json'])
    assert.equal(clean.code, 0, clean.stderr)
    const json = JSON.parse(clean.stdout)
    assert.deepEqual(
      json.items.map((i: {name: string; status: string}) => [i.name, i.status]),
      [
        ['DB_PASS', 'same'],
        ['DB_USER', 'same'],
      ],
    )
    assert.equal(json.drift, false)

    server.put('secret', 'app', {DB_PASS: CANARY, DB_USER: 'changed-behind-our-back'})
    const changed = await run(['drift', '--from', 'local', '--to', 'vault://secret/app'])
    assert.equal(changed.code, 17, changed.stderr)
    assert.match(
      changed.stdout,
      /^DB_USER +local:\/\/DB_USER \(v1\) +vault:\/\/secret\/app#DB_USER \(v\d+\) +different$/m,
    )
    assert.match(changed.stdout, /^DB_PASS .* same$/m)
    noValue(before, sync, clean, changed)
  })

  it('an unreachable mirror is UNAVAILABLE (exit 9), not drift', async () => {
    server.inject({kind: 'unavailable'})
    const r = await run(['drift', '--from', 'local', '--to', 'vault://secret/app'])
    server.faults.clear()
    assert.equal(r.code, 9, r.stderr)
    assert.match(r.stderr, /^Error \[UNAVAILABLE\]/)
    assert.equal(r.stdout, '')
    noValue(r)
  })
})
