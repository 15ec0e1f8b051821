// `secrets list` (what the app gets, and from where) and `secrets doctor` resolving the environment,
// both without printing a value.
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {Sandbox} from '../helpers/cli.js'
import {VaultTestServer} from '../servers/vault/server.js'

const CANARIES = ['canary-store-7f3a', 'canary-plain-2b9c', 'canary-cert-5d1e', 'canary-staging-8a4f']
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/

const CONFIG = `providers:
  local: {type: local, path: .secrets/store.json}
env:
  DATABASE_URL: local://STAGING_DB
  API_KEY: local://PLAIN
files:
  TLS_CERT: local://CERT_PEM
environments:
  staging:
    env:
      DATABASE_URL: local://STAGING_ONLY
  broken:
    env:
      DATABASE_URL: local://NOT_THERE
`

function assertNoValue(...outputs: string[]): void {
  for (const text of outputs) for (const canary of CANARIES) assert.ok(!text.includes(canary), `${canary} printed`)
}

describe('list: the environment the app gets', () => {
  const sb = new Sandbox()
  before(async () => {
    await sb.init()
    const values: Array<[string, string]> = [
      ['API_KEY', CANARIES[0]],
      ['PLAIN', CANARIES[1]],
      ['CERT_PEM', CANARIES[2]],
      ['STAGING_DB', CANARIES[0]],
      ['STAGING_ONLY', CANARIES[3]],
    ]
    for (const [name, value] of values) assert.equal((await sb.run(['set', name], {input: value})).code, 0)
    assert.equal((await sb.run(['set', 'PLAIN'], {input: `${CANARIES[1]}-v2`})).code, 0)
    writeFileSync(join(sb.project, 'secrets.yaml'), CONFIG)
  })
  after(() => sb.cleanup())

  it('shows each variable with reference, provider, source and version; a mapping shadowing a local secret is named', async () => {
    const r = await sb.run(['list'])
    assert.equal(r.code, 0, r.stderr)
    const rows = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => l.split(/ {2,}/))
    assert.deepEqual(rows[0], ['VARIABLE', 'REFERENCE', 'PROVIDER', 'TYPE', 'FROM', 'VERSION', 'UPDATED'])
    assert.deepEqual(
      rows.slice(1).map((row) => row.slice(0, 6)),
      [
        ['API_KEY', 'local://PLAIN', 'local', 'local', 'env:', '2'],
        ['DATABASE_URL', 'local://STAGING_DB', 'local', 'local', 'env:', '1'],
        ['PLAIN', 'local://PLAIN', 'local', 'local', 'implicit', '2'],
        ['STAGING_DB', 'local://STAGING_DB', 'local', 'local', 'implicit', '1'],
        ['STAGING_ONLY', 'local://STAGING_ONLY', 'local', 'local', 'implicit', '1'],
        ['TLS_CERT', 'local://CERT_PEM', 'local', 'local', 'files:', '1'],
      ],
    )
    for (const row of rows.slice(1)) assert.match(row[6], ISO)
    assert.equal(
      r.stderr,
      'Note: API_KEY is local://PLAIN (env:); the local secret local://API_KEY is not what the app gets.\n',
    )
    assertNoValue(r.stdout, r.stderr)
  })

  it('--env selects a named environment (and SECRETS_ENV does the same); --json has one exact shape', async () => {
    const r = await sb.run(['list', '--env', 'staging', '--json'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stderr, '')
    const json = JSON.parse(r.stdout)
    const updated = (name: string) => json.variables.find((v: {name: string}) => v.name === name).updated as string
    for (const v of json.variables) assert.match(v.updated, ISO)
    const base = {provider: 'local', kind: 'local'}
    assert.deepEqual(json, {
      environment: 'staging',
      variables: [
        {
          name: 'API_KEY',
          ref: 'local://PLAIN',
          ...base,
          from: 'env:',
          version: '2',
          updated: updated('API_KEY'),
          shadows: 'local://API_KEY',
        },
        {
          name: 'DATABASE_URL',
          ref: 'local://STAGING_ONLY',
          ...base,
          from: 'environments.staging',
          version: '1',
          updated: updated('DATABASE_URL'),
        },
        {name: 'PLAIN', ref: 'local://PLAIN', ...base, from: 'implicit', version: '2', updated: updated('PLAIN')},
        {
          name: 'STAGING_DB',
          ref: 'local://STAGING_DB',
          ...base,
          from: 'implicit',
          version: '1',
          updated: updated('STAGING_DB'),
        },
        {
          name: 'STAGING_ONLY',
          ref: 'local://STAGING_ONLY',
          ...base,
          from: 'implicit',
          version: '1',
          updated: updated('STAGING_ONLY'),
        },
        {
          name: 'TLS_CERT',
          ref: 'local://CERT_PEM',
          ...base,
          from: 'files:',
          file: 'TLS_CERT',
          version: '1',
          updated: updated('TLS_CERT'),
        },
      ],
    })
    const viaEnv = await sb.run(['list', '--json'], {env: {SECRETS_ENV: 'staging'}})
    assert.deepEqual(JSON.parse(viaEnv.stdout), json)
    assertNoValue(r.stdout, viaEnv.stdout)
  })

  it('a mapped secret that does not exist is listed with its error code, not a failure', async () => {
    const r = await sb.run(['list', '--env', 'broken', '--json'])
    assert.equal(r.code, 0, r.stderr)
    const db = JSON.parse(r.stdout).variables.find((v: {name: string}) => v.name === 'DATABASE_URL')
    assert.deepEqual(db, {
      name: 'DATABASE_URL',
      ref: 'local://NOT_THERE',
      provider: 'local',
      kind: 'local',
      from: 'environments.broken',
      error: {code: 'NOT_FOUND', message: `No secret named NOT_THERE in the local store ${sb.storeFile}.`},
    })
  })

  it('an unknown --env is CONFIG_INVALID naming the environments', async () => {
    const r = await sb.run(['list', '--env', 'prod'])
    assert.equal(r.code, 3)
    assert.match(
      r.stderr,
      /^Error \[CONFIG_INVALID\]: Environment "prod" is not defined in .*secrets\.yaml\.\n {2}→ Use one of: staging, broken\.\n$/,
    )
  })

  it('list ALIAS still lists that provider', async () => {
    const r = await sb.run(['list', 'local', '--json'])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(
      JSON.parse(r.stdout).secrets.map((s: {name: string}) => s.name),
      ['API_KEY', 'CERT_PEM', 'PLAIN', 'STAGING_DB', 'STAGING_ONLY'],
    )
    assertNoValue(r.stdout)
  })
})

describe('doctor: every variable of the environment resolves', () => {
  const sb = new Sandbox()
  before(async () => {
    await sb.init()
    for (const [name, value] of [
      ['PLAIN', CANARIES[1]],
      ['CERT_PEM', CANARIES[2]],
      ['STAGING_DB', CANARIES[0]],
      ['STAGING_ONLY', CANARIES[3]],
    ])
      assert.equal((await sb.run(['set', name], {input: value})).code, 0)
    writeFileSync(join(sb.project, 'secrets.yaml'), CONFIG)
  })
  after(() => sb.cleanup())

  it('exits 0 with every variable and files: entry ok', async () => {
    const r = await sb.run(['doctor'])
    assert.equal(r.code, 0, r.stdout)
    const lines = r.stdout.trimEnd().split('\n')
    assert.deepEqual(
      lines.slice(4).map((l) => l.split(/ +/).slice(0, 4)),
      [
        ['ok', 'variable', 'API_KEY', 'local://PLAIN'],
        ['ok', 'variable', 'DATABASE_URL', 'local://STAGING_DB'],
        ['ok', 'variable', 'PLAIN', 'local://PLAIN'],
        ['ok', 'variable', 'STAGING_DB', 'local://STAGING_DB'],
        ['ok', 'variable', 'STAGING_ONLY', 'local://STAGING_ONLY'],
        ['ok', 'variable', 'TLS_CERT', 'local://CERT_PEM'],
      ],
    )
    assertNoValue(r.stdout, r.stderr)
  })

  it('one missing secret: its code as exit status, the variable named, and the fix lines exec prints', async () => {
    const r = await sb.run(['doctor', '--env', 'broken'])
    assert.equal(r.code, 5, r.stdout)
    const exec = await sb.run(['exec', '--env', 'broken', '--', 'true'])
    assert.equal(exec.code, 5)
    const failing = r.stdout.split('\n').filter((l) => l.startsWith('FAIL'))
    assert.equal(failing.length, 1)
    assert.match(
      failing[0],
      /^FAIL {2}variable DATABASE_URL +local:\/\/NOT_THERE \(provider local\): No secret named NOT_THERE in the local store .*\. \[NOT_FOUND\]$/,
    )
    // The same error, line for line, as `exec` stops with.
    assert.ok(
      r.stdout.endsWith(`\n\`secrets exec --env broken\` would refuse to start with:\n${exec.stderr}`),
      r.stdout,
    )
    assert.match(
      exec.stderr,
      /^Error \[NOT_FOUND\]: Could not resolve 1 of 6 variable\(s\); nothing was used:\n {2}DATABASE_URL = local:\/\/NOT_THERE/,
    )
    assertNoValue(r.stdout, r.stderr)
  })

  it('--json gives a status per variable; --all-envs checks the base env: and every environment', async () => {
    const r = await sb.run(['doctor', '--all-envs', '--json'])
    assert.equal(r.code, 5)
    const json = JSON.parse(r.stdout)
    assert.equal(json.ok, false)
    assert.deepEqual(
      json.checks.map((c: {name: string; status: string}) => [c.name, c.status]),
      [
        ['config', 'ok'],
        ['identity', 'ok'],
        ['provider local', 'ok'],
        ['audit log', 'ok'],
      ],
    )
    const row = (environment: string | null, name: string, ref: string) => ({
      environment,
      name,
      ref,
      provider: 'local',
      status: 'ok',
    })
    const common = (environment: string | null) => [
      row(environment, 'API_KEY', 'local://PLAIN'),
      row(environment, 'PLAIN', 'local://PLAIN'),
      row(environment, 'STAGING_DB', 'local://STAGING_DB'),
      row(environment, 'STAGING_ONLY', 'local://STAGING_ONLY'),
      row(environment, 'TLS_CERT', 'local://CERT_PEM'),
    ]
    const withDb = (environment: string | null, db: object) => {
      const rows: object[] = common(environment)
      rows.splice(1, 0, db)
      return rows
    }
    assert.deepEqual(json.variables, [
      ...withDb(null, row(null, 'DATABASE_URL', 'local://STAGING_DB')),
      ...withDb('staging', row('staging', 'DATABASE_URL', 'local://STAGING_ONLY')),
      ...withDb('broken', {
        environment: 'broken',
        name: 'DATABASE_URL',
        ref: 'local://NOT_THERE',
        provider: 'local',
        status: 'fail',
        code: 'NOT_FOUND',
        exitCode: 5,
        message: `No secret named NOT_THERE in the local store ${sb.storeFile}.`,
      }),
    ])
    assertNoValue(r.stdout, r.stderr)
  })
})

describe('list and doctor with a Vault provider and a template (over the wire to the test server)', () => {
  const sb = new Sandbox()
  let server: VaultTestServer
  const env = () => ({VAULT_ADDR: server.url, VAULT_TOKEN: server.rootToken})
  before(async () => {
    server = await VaultTestServer.start()
    server.mountKv('kv1', 1)
    server.put('secret', 'app', {db_user: 'vault-canary-user', db_pass: 'vault-canary-pass'})
    server.put('secret', 'app', {db_user: 'vault-canary-user', db_pass: 'vault-canary-pass-2'})
    server.put('kv1', 'legacy', {token: 'vault-canary-legacy'})
    await sb.init()
    assert.equal((await sb.run(['set', 'DB_USER'], {input: CANARIES[0]})).code, 0)
    writeFileSync(
      join(sb.project, 'db.json.tpl'),
      '{"user": "{{ ref "DB_USER" }}", "pass": "{{ ref "vault://secret/app#db_pass" }}"}\n',
    )
    writeFileSync(join(sb.project, 'bad.json.tpl'), '{"x": "{{ ref "local://NOT_THERE" }}"}\n')
    writeFileSync(
      join(sb.project, 'secrets.yaml'),
      `providers:
  local: {type: local, path: .secrets/store.json}
  vault: {type: vault}
env:
  DB_PASS: vault://secret/app#db_pass
  LEGACY: vault://kv1/legacy#token
files:
  DB_CONFIG: {template: db.json.tpl, name: db.json}
environments:
  broken:
    env:
      DB_PASS: vault://secret/gone#db_pass
    files:
      DB_CONFIG: {template: bad.json.tpl}
`,
    )
  })
  after(async () => {
    await server.close()
    sb.cleanup()
  })

  it('list describes KV v2 from its metadata endpoint alone (no data read), KV v1 without a version', async () => {
    server.resetCounters()
    const r = await sb.run(['list', '--json'], {env: env()})
    assert.equal(r.code, 0, r.stderr)
    const {variables} = JSON.parse(r.stdout)
    const pass = variables.find((v: {name: string}) => v.name === 'DB_PASS')
    assert.match(pass.updated, /^\d{4}-\d\d-\d\dT/)
    assert.deepEqual(
      variables.map((v: Record<string, unknown>) => ({...v, updated: v.updated === undefined ? undefined : 'set'})),
      [
        {
          name: 'DB_CONFIG',
          from: 'files:',
          file: 'db.json',
          template: join(sb.project, 'db.json.tpl'),
          updated: undefined,
        },
        {
          name: 'DB_PASS',
          ref: 'vault://secret/app#db_pass',
          provider: 'vault',
          kind: 'vault',
          from: 'env:',
          version: '2',
          updated: 'set',
        },
        {
          name: 'DB_USER',
          ref: 'local://DB_USER',
          provider: 'local',
          kind: 'local',
          from: 'implicit',
          version: '1',
          updated: 'set',
        },
        {
          name: 'LEGACY',
          ref: 'vault://kv1/legacy#token',
          provider: 'vault',
          kind: 'vault',
          from: 'env:',
          updated: undefined,
        },
      ],
    )
    assert.equal(server.count('GET secret/metadata/app'), 1)
    assert.equal(server.count('GET secret/data/app'), 0)
    assert.equal(server.count('GET kv1/legacy'), 0)
    assertNoValue(r.stdout, r.stderr)
    for (const v of ['vault-canary-user', 'vault-canary-pass', 'vault-canary-legacy']) assert.ok(!r.stdout.includes(v))
    const table = await sb.run(['list'], {env: env()})
    assert.match(table.stdout, /^DB_CONFIG +template .*db\.json\.tpl +- +- +files: +- +-$/m)
  })

  it('doctor resolves the Vault variables and the template; a broken environment fails on both, exit 5', async () => {
    const ok = await sb.run(['doctor', '--json'], {env: env()})
    assert.equal(ok.code, 0, ok.stdout)
    assert.deepEqual(
      JSON.parse(ok.stdout).variables.map((v: {name: string; status: string}) => [v.name, v.status]),
      [
        ['DB_CONFIG', 'ok'],
        ['DB_PASS', 'ok'],
        ['DB_USER', 'ok'],
        ['LEGACY', 'ok'],
      ],
    )
    const bad = await sb.run(['doctor', '--env', 'broken'], {env: env()})
    assert.equal(bad.code, 5, bad.stdout)
    const failing = bad.stdout.split('\n').filter((l) => l.startsWith('FAIL'))
    assert.equal(failing.length, 2, bad.stdout)
    assert.match(
      failing[0],
      /^FAIL {2}variable DB_CONFIG +template .*bad\.json\.tpl: Could not resolve 1 of 1 variable\(s\); nothing was used: .*local:\/\/NOT_THERE .*\[NOT_FOUND\]$/,
    )
    assert.match(
      failing[1],
      /^FAIL {2}variable DB_PASS +vault:\/\/secret\/gone#db_pass \(provider vault\): .* \[NOT_FOUND\]$/,
    )
    assert.match(
      bad.stdout,
      /\n`secrets exec --env broken` would refuse to start with:\nError \[NOT_FOUND\]: Could not resolve 1 of 3 variable\(s\)/,
    )
    for (const out of [ok.stdout, bad.stdout, ok.stderr, bad.stderr]) {
      assertNoValue(out)
      for (const v of ['vault-canary-user', 'vault-canary-pass', 'vault-canary-legacy']) assert.ok(!out.includes(v))
    }
  })
})
