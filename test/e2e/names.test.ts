import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {Sandbox, type RunResult} from '../helpers/cli.js'
import {VaultTestServer} from '../servers/vault/server.js'

/** One canary per secret, so an output can be checked for every value at once. */
const V = {
  base: 'CANARY-names-base-4f1e',
  staging: 'CANARY-names-staging-9c2a',
  tls: 'CANARY-names-tls-77ab',
  plain: 'CANARY-names-plain-3b8d',
  clash: 'CANARY-names-clash-e05f',
}
const CANARIES = [...Object.values(V), 'CANARY-names-new']

/**
 * The model under test: DATABASE_URL is mapped in env: (to BASE_DB) and per environment (staging:
 * STAGING_DB), and the local store also holds a secret named DATABASE_URL (the clash: the mapping
 * wins). TLS_CERT is a `files:` entry; PLAIN_KEY is an implicit local variable.
 */
const YAML = `providers:
  local: {type: local, path: .secrets/store.json}
env:
  DATABASE_URL: local://BASE_DB
files:
  TLS_CERT: local://TLS_PEM
environments:
  staging:
    env:
      DATABASE_URL: local://STAGING_DB
`

async function project(): Promise<Sandbox> {
  const sb = new Sandbox()
  await sb.init()
  writeFileSync(join(sb.project, 'secrets.yaml'), YAML)
  const seed: Array<[string, string]> = [
    ['local://BASE_DB', V.base],
    ['local://STAGING_DB', V.staging],
    ['local://TLS_PEM', V.tls],
    ['local://PLAIN_KEY', V.plain],
    ['local://DATABASE_URL', V.clash],
  ]
  for (const [ref, value] of seed) {
    const r = await sb.run(['set', ref], {input: value})
    assert.equal(r.code, 0, r.stderr)
  }
  return sb
}

/** No value on stderr, and none on stdout except the one the command is asked to print. */
function noValue(r: RunResult, allowedOnStdout: string[] = []): void {
  for (const c of CANARIES) {
    assert.ok(!r.stderr.includes(c), `stderr holds a value: ${r.stderr}`)
    if (!allowedOnStdout.includes(c)) assert.ok(!r.stdout.includes(c), `stdout holds a value: ${r.stdout}`)
  }
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex')
const CLASH_GET =
  'Warning: DATABASE_URL is mapped to local://BASE_DB, which is what this printed; the local secret local://DATABASE_URL of the same name is not used.\n'

function typo(r: RunResult, name: string, near: string, file: string): void {
  assert.equal(r.code, 5, r.stderr)
  assert.equal(
    r.stderr,
    `Error [NOT_FOUND]: ${name} is neither a variable of this environment nor a secret in the local store local.\n` +
      `  → Did you mean ${near}?\n` +
      `  → Create it with \`secrets set ${name}\` (stored in local://${name}), or map it to a reference under env: in ${file}.\n`,
  )
  noValue(r)
}

describe('names: get and set mean the variable exec would set', () => {
  let sb: Sandbox
  let file: string
  before(async () => {
    sb = await project()
    file = join(sb.project, 'secrets.yaml')
  })
  after(() => sb.cleanup())

  it('get: a mapping wins over the local secret of the same name, and says so', async () => {
    const r = await sb.run(['get', 'DATABASE_URL'])
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, V.base, CLASH_GET])
    const explicit = await sb.run(['get', 'local://DATABASE_URL'])
    assert.deepEqual([explicit.code, explicit.stdout, explicit.stderr], [0, V.clash, ''])
  })

  it('get: --env and SECRETS_ENV pick the environment; files: and implicit ones resolve as exec does', async () => {
    const flag = await sb.run(['get', 'DATABASE_URL', '--env', 'staging'])
    assert.deepEqual([flag.code, flag.stdout], [0, V.staging])
    assert.equal(flag.stderr, CLASH_GET.replace('BASE_DB', 'STAGING_DB'))
    const json = await sb.run(['get', 'DATABASE_URL', '--json'], {env: {SECRETS_ENV: 'staging'}})
    const got = JSON.parse(json.stdout)
    assert.deepEqual(
      [got.name, got.source, got.ref, got.value],
      ['DATABASE_URL', 'environment', 'local://STAGING_DB', V.staging],
    )
    const tls = JSON.parse((await sb.run(['get', 'TLS_CERT', '--json'])).stdout)
    assert.deepEqual([tls.name, tls.source, tls.ref, tls.value], ['TLS_CERT', 'files', 'local://TLS_PEM', V.tls])
    const plain = JSON.parse((await sb.run(['get', 'PLAIN_KEY', '--json'])).stdout)
    assert.deepEqual([plain.name, plain.source, plain.ref], ['PLAIN_KEY', 'implicit', 'local://PLAIN_KEY'])
    const base = JSON.parse((await sb.run(['get', 'DATABASE_URL', '--json'])).stdout)
    assert.deepEqual([base.source, base.ref], ['env', 'local://BASE_DB'])
  })

  it('get: an unknown name names the closest variables and secrets, then how to create it', async () => {
    typo(await sb.run(['get', 'DATABSE_URL']), 'DATABSE_URL', 'DATABASE_URL', file)
    typo(await sb.run(['get', 'PLAIN_KY']), 'PLAIN_KY', 'PLAIN_KEY', file)
    const far = await sb.run(['get', 'QQQQQQQQ'])
    assert.equal(far.code, 5)
    assert.equal(
      far.stderr,
      `Error [NOT_FOUND]: QQQQQQQQ is neither a variable of this environment nor a secret in the local store local.\n  → Create it with \`secrets set QQQQQQQQ\` (stored in local://QQQQQQQQ), or map it to a reference under env: in ${file}.\n`,
    )
    const staged = await sb.run(['get', 'DATABSE_URL', '--env', 'staging'])
    assert.equal(staged.code, 5)
    assert.match(staged.stderr, /^Error \[NOT_FOUND\]: DATABSE_URL is neither a variable of environment staging /)
  })

  it('set: a mapped variable gets a new version at its reference, and says where', async () => {
    const r = await sb.run(['set', 'DATABASE_URL', '--env', 'staging'], {input: `${V.staging}-v2`})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(
      r.stderr,
      `Warning: DATABASE_URL is mapped to local://STAGING_DB (environments.staging.env in ${file}), so this writes there; the local secret local://DATABASE_URL of the same name is not used.\n` +
        '✓ DATABASE_URL -> local://STAGING_DB is now version 2\n',
    )
    noValue(r)
    assert.equal((await sb.run(['get', 'local://STAGING_DB'])).stdout, `${V.staging}-v2`)
    assert.equal((await sb.run(['get', 'local://DATABASE_URL'])).stdout, V.clash)
    const tls = await sb.run(['set', 'TLS_CERT', '--json'], {input: V.tls})
    assert.deepEqual(JSON.parse(tls.stdout), {name: 'TLS_CERT', ref: 'local://TLS_PEM', version: '2'})
    const plain = await sb.run(['set', 'PLAIN_KEY'], {input: V.plain})
    assert.equal(plain.stderr, '✓ local://PLAIN_KEY is now version 2\n')
    const base = await sb.run(['set', 'DATABASE_URL'], {input: V.base, env: {SECRETS_ENV: ''}})
    assert.match(base.stderr, /\n✓ DATABASE_URL -> local:\/\/BASE_DB is now version 2\n$/)
    assert.match(base.stderr, /^Warning: DATABASE_URL is mapped to local:\/\/BASE_DB \(env: in /)
  })

  it('set: a name that is neither a variable nor a secret creates it in the default local store', async () => {
    const r = await sb.run(['set', 'BRAND_NEW'], {input: 'CANARY-names-new'})
    assert.deepEqual([r.code, r.stderr], [0, '✓ local://BRAND_NEW is now version 1\n'])
    assert.equal((await sb.run(['get', 'BRAND_NEW'])).stdout, 'CANARY-names-new')
  })
})

describe('names: versions, rollback, delete', () => {
  let sb: Sandbox
  let file: string
  before(async () => {
    sb = await project()
    file = join(sb.project, 'secrets.yaml')
    for (const ref of ['local://STAGING_DB', 'local://TLS_PEM', 'local://PLAIN_KEY'])
      assert.equal((await sb.run(['set', ref], {input: `${V.plain}-v2`})).code, 0)
  })
  after(() => sb.cleanup())

  it('versions: the history behind the variable', async () => {
    const refOf = async (args: string[]) => {
      const r = await sb.run(['versions', ...args, '--json'])
      assert.equal(r.code, 0, r.stderr)
      const json = JSON.parse(r.stdout)
      return [json.ref, json.versions.length]
    }
    assert.deepEqual(await refOf(['DATABASE_URL']), ['local://BASE_DB', 1])
    assert.deepEqual(await refOf(['DATABASE_URL', '--env', 'staging']), ['local://STAGING_DB', 2])
    assert.deepEqual(await refOf(['TLS_CERT']), ['local://TLS_PEM', 2])
    assert.deepEqual(await refOf(['PLAIN_KEY']), ['local://PLAIN_KEY', 2])
    assert.deepEqual(await refOf(['local://DATABASE_URL']), ['local://DATABASE_URL', 1])
    typo(await sb.run(['versions', 'TLSCERT']), 'TLSCERT', 'TLS_CERT', file)
  })

  it('rollback: the secret behind the variable, named in the message', async () => {
    const r = await sb.run(['rollback', 'DATABASE_URL', '--env', 'staging', '--yes'])
    assert.deepEqual(
      [r.code, r.stderr],
      [0, '✓ DATABASE_URL -> local://STAGING_DB: version 1 is current again; it was 2\n'],
    )
    assert.equal((await sb.run(['get', 'local://STAGING_DB'])).stdout, V.staging)
    const tls = await sb.run(['rollback', 'TLS_CERT', '--yes'])
    assert.equal(tls.stderr, '✓ TLS_CERT -> local://TLS_PEM: version 1 is current again; it was 2\n')
    const plain = await sb.run(['rollback', 'PLAIN_KEY', '--yes'])
    assert.equal(plain.stderr, '✓ local://PLAIN_KEY: version 1 is current again; it was 2\n')
    // The base mapping has one version: nothing to roll back, and the clashing local secret is untouched.
    const base = await sb.run(['rollback', 'DATABASE_URL', '--yes'])
    assert.equal(base.code, 5)
    assert.match(base.stderr, /^Error \[NOT_FOUND\]: local:\/\/BASE_DB has no earlier version to roll back to\./)
    typo(await sb.run(['rollback', 'PLAIN_KY', '--yes']), 'PLAIN_KY', 'PLAIN_KEY', file)
    noValue(r)
  })

  it('delete: the secret behind the mapping, the question names the reference, secrets.yaml is not edited', async () => {
    const refused = await sb.run(['delete', 'TLS_CERT'])
    assert.equal(refused.code, 2)
    assert.match(
      refused.stderr,
      /^Error \[USAGE\]: Refusing to delete TLS_CERT -> local:\/\/TLS_PEM without confirmation/,
    )
    const r = await sb.run(['delete', 'DATABASE_URL', '--env', 'staging', '--yes'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(
      r.stderr,
      `Warning: DATABASE_URL is mapped to local://STAGING_DB (environments.staging.env in ${file}), so this deletes that; the local secret local://DATABASE_URL of the same name is kept.\n` +
        '✓ deleted DATABASE_URL -> local://STAGING_DB (2 version(s))\n' +
        `Warning: DATABASE_URL is still mapped to local://STAGING_DB (environments.staging.env in ${file}); secrets.yaml was not changed.\n`,
    )
    assert.equal(readFileSync(file, 'utf8'), YAML)
    assert.equal((await sb.run(['get', 'local://STAGING_DB'])).code, 5)
    assert.equal((await sb.run(['get', 'local://DATABASE_URL'])).stdout, V.clash)
    const tls = await sb.run(['delete', 'TLS_CERT', '--yes'])
    assert.equal(
      tls.stderr,
      `✓ deleted TLS_CERT -> local://TLS_PEM (2 version(s))\nWarning: TLS_CERT is still mapped to local://TLS_PEM (files: in ${file}); secrets.yaml was not changed.\n`,
    )
    const plain = await sb.run(['delete', 'PLAIN_KEY', '--yes'])
    assert.equal(plain.stderr, '✓ deleted local://PLAIN_KEY (2 version(s))\n')
    typo(await sb.run(['delete', 'BASE_D', '--yes']), 'BASE_D', 'BASE_DB', file)
  })
})

describe('names: rotate and status', () => {
  let sb: Sandbox
  let file: string
  before(async () => {
    sb = await project()
    file = join(sb.project, 'secrets.yaml')
  })
  after(() => sb.cleanup())

  it('rotate: the variable of the selected environment, a files: entry, an implicit one', async () => {
    const dry = async (args: string[]) => {
      const r = await sb.run(['rotate', ...args, '--generate', 'password', '--dry-run', '--json'])
      assert.equal(r.code, 0, r.stderr)
      noValue(r)
      const [one] = JSON.parse(r.stdout).rotations
      return [one.name, one.ref, one.status]
    }
    assert.deepEqual(await dry(['DATABASE_URL']), ['DATABASE_URL', 'local://BASE_DB', 'would-rotate'])
    assert.deepEqual(await dry(['DATABASE_URL', '--env', 'staging']), [
      'DATABASE_URL',
      'local://STAGING_DB',
      'would-rotate',
    ])
    assert.deepEqual(await dry(['TLS_CERT']), ['TLS_CERT', 'local://TLS_PEM', 'would-rotate'])
    assert.deepEqual(await dry(['PLAIN_KEY']), ['PLAIN_KEY', 'local://PLAIN_KEY', 'would-rotate'])
    const r = await sb.run(['rotate', 'DATABASE_URL', '--value-stdin', '--yes', '--json'], {
      input: `${V.staging}-rotated\n`,
      env: {SECRETS_ENV: 'staging'},
    })
    assert.equal(r.code, 0, r.stderr)
    noValue(r)
    assert.equal(JSON.parse(r.stdout).rotations[0].ref, 'local://STAGING_DB')
    assert.equal((await sb.run(['get', 'local://STAGING_DB'])).stdout, `${V.staging}-rotated`)
    assert.equal((await sb.run(['get', 'local://DATABASE_URL'])).stdout, V.clash)
  })

  it('rotate: an unknown name is NOT_FOUND with the closest names', async () => {
    typo(await sb.run(['rotate', 'DATABSE_URL', '--yes']), 'DATABSE_URL', 'DATABASE_URL', file)
  })

  it('status NAME: the variable of the selected environment; an unknown name is NOT_FOUND', async () => {
    const row = async (args: string[]) => {
      const r = await sb.run(['status', ...args, '--json'])
      assert.equal(r.code, 0, r.stderr)
      const [one] = JSON.parse(r.stdout).secrets
      return [one.name, one.ref, one.due]
    }
    assert.deepEqual(await row(['DATABASE_URL']), ['DATABASE_URL', 'local://BASE_DB', false])
    assert.deepEqual(await row(['DATABASE_URL', '--env', 'staging']), ['DATABASE_URL', 'local://STAGING_DB', false])
    assert.deepEqual(await row(['TLS_CERT']), ['TLS_CERT', 'local://TLS_PEM', false])
    assert.deepEqual(await row(['PLAIN_KEY']), ['PLAIN_KEY', 'local://PLAIN_KEY', false])
    typo(await sb.run(['status', 'TLS_CRT']), 'TLS_CRT', 'TLS_CERT', file)
  })
})

describe('names: export --only, exec --only, render, audit log --secret, scan', () => {
  let sb: Sandbox
  let file: string
  before(async () => {
    sb = await project()
    file = join(sb.project, 'secrets.yaml')
  })
  after(() => sb.cleanup())

  it('export --only: the variables exec would set, for the selected environment', async () => {
    const out = async (args: string[]) => {
      const r = await sb.run(['export', '--format', 'json', ...args])
      assert.equal(r.code, 0, r.stderr)
      return JSON.parse(r.stdout)
    }
    assert.deepEqual(await out(['--only', 'DATABASE_URL']), {DATABASE_URL: V.base})
    assert.deepEqual(await out(['--only', 'DATABASE_URL', '--env', 'staging']), {DATABASE_URL: V.staging})
    assert.deepEqual(await out(['--only', 'PLAIN_KEY']), {PLAIN_KEY: V.plain})
    const bad = await sb.run(['export', '--only', 'DATABSE_URL'])
    assert.equal(bad.code, 5)
    assert.equal(
      bad.stderr,
      'Error [NOT_FOUND]: --only names DATABSE_URL, which is not a variable of this environment.\n' +
        '  → Did you mean DATABASE_URL?\n' +
        '  → Variables: BASE_DB, DATABASE_URL, PLAIN_KEY, STAGING_DB.\n' +
        `  → Create it with \`secrets set DATABSE_URL\` (a local secret), or map it under env: in ${file}.\n`,
    )
    noValue(bad)
  })

  it('exec --only: a mapped variable, its environment, a files: entry; a typo is refused before the start', async () => {
    const script =
      'const {createHash} = require("node:crypto"); const fs = require("node:fs");' +
      'const h = (s) => s === undefined ? "unset" : createHash("sha256").update(s).digest("hex");' +
      'const e = process.env; process.stdout.write([h(e.DATABASE_URL), e.TLS_CERT ? h(fs.readFileSync(e.TLS_CERT, "utf8")) : "unset", h(e.PLAIN_KEY)].join(" "))'
    const run = async (args: string[]) => {
      const r = await sb.run(['exec', ...args, '--', process.execPath, '-e', script])
      assert.equal(r.code, 0, r.stderr)
      noValue(r)
      return r.stdout.split(' ')
    }
    assert.deepEqual(await run(['--only', 'DATABASE_URL', '--env', 'staging']), [sha(V.staging), 'unset', 'unset'])
    assert.deepEqual(await run(['--only', 'DATABASE_URL']), [sha(V.base), 'unset', 'unset'])
    assert.deepEqual(await run(['--only', 'TLS_CERT', '--only', 'PLAIN_KEY']), ['unset', sha(V.tls), sha(V.plain)])
    const bad = await sb.run(['exec', '--only', 'TLS_CRT', '--', 'true'])
    assert.equal(bad.code, 5)
    assert.match(
      bad.stderr,
      /^Error \[NOT_FOUND\]: --only names TLS_CRT, which is not a variable of this environment\.\n {2}→ Did you mean TLS_CERT\?\n/,
    )
  })

  it('render: {{ ref "NAME" }} is the environment\'s variable, else the local secret', async () => {
    writeFileSync(
      join(sb.project, 'app.tpl'),
      '{{ ref "DATABASE_URL" }}|{{ ref "TLS_CERT" }}|{{ ref "PLAIN_KEY" }}|{{ ref "local://DATABASE_URL" }}\n',
    )
    const r = await sb.run(['render', 'app.tpl', '-o', 'app.out', '--env', 'staging'])
    assert.equal(r.code, 0, r.stderr)
    noValue(r)
    assert.equal(readFileSync(join(sb.project, 'app.out'), 'utf8'), `${V.staging}|${V.tls}|${V.plain}|${V.clash}\n`)
    const base = await sb.run(['render', 'app.tpl', '-o', 'app.out'])
    assert.equal(base.code, 0, base.stderr)
    assert.equal(readFileSync(join(sb.project, 'app.out'), 'utf8'), `${V.base}|${V.tls}|${V.plain}|${V.clash}\n`)
    writeFileSync(join(sb.project, 'typo.tpl'), 'url={{ ref "DATABSE_URL" }}\n')
    const bad = await sb.run(['render', 'typo.tpl', '-o', 'typo.out'])
    assert.equal(bad.code, 5)
    noValue(bad)
    assert.match(bad.stderr, /= local:\/\/DATABSE_URL \(provider local\): \[NOT_FOUND\] No secret named DATABSE_URL /)
    assert.match(
      bad.stderr,
      /\n {2}→ Did you mean DATABASE_URL\?\n {2}→ Run `secrets list` to see the names, or `secrets set DATABSE_URL` to create it\.\n$/,
    )
  })

  it('audit log --secret NAME: the accesses of the secret behind the variable', async () => {
    assert.equal((await sb.run(['get', 'DATABASE_URL', '--env', 'staging'])).code, 0)
    const refs = async (args: string[]) => {
      const r = await sb.run(['audit', 'log', '--json', ...args])
      assert.equal(r.code, 0, r.stderr)
      noValue(r)
      return [...new Set(JSON.parse(r.stdout).records.map((x: {ref: string}) => x.ref))].sort()
    }
    assert.deepEqual(await refs(['--secret', 'DATABASE_URL', '--env', 'staging']), ['local://STAGING_DB'])
    assert.deepEqual(await refs(['--secret', 'DATABASE_URL']), ['local://BASE_DB'])
    assert.deepEqual(await refs(['--secret', 'TLS_CERT']), ['local://TLS_PEM'])
    assert.deepEqual(await refs(['--secret', 'local://DATABASE_URL']), ['local://DATABASE_URL'])
  })

  it("scan: findings and baseline entries are named by the environment's variables", async () => {
    writeFileSync(join(sb.project, 'leak.txt'), `url=${V.staging}\n`)
    const r = await sb.run(['scan', '--env', 'staging', '--baseline', 'base.json', '--update-baseline'])
    assert.equal(r.code, 0, r.stderr)
    noValue(r)
    // app.out (rendered above) holds values too; this test is about leak.txt.
    const baseline = JSON.parse(readFileSync(join(sb.project, 'base.json'), 'utf8'))
    const text = JSON.stringify(baseline)
    for (const c of CANARIES) assert.ok(!text.includes(c))
    assert.deepEqual(
      baseline.findings
        .filter((f: {file: string}) => f.file === 'leak.txt')
        .map((f: {file: string; variable?: string}) => [f.file, f.variable]),
      [['leak.txt', 'DATABASE_URL, STAGING_DB']],
    )
    // Without --env, DATABASE_URL is the base mapping: the value is only the implicit STAGING_DB there.
    const base = await sb.run(['scan', '--json'])
    const leaks = JSON.parse(base.stdout).findings.filter((f: {file: string}) => f.file === 'leak.txt')
    assert.deepEqual(
      leaks.map((f: {variable?: string}) => f.variable),
      ['STAGING_DB'],
    )
  })
})

describe('names: sync --only', () => {
  const sb = new Sandbox()
  let server: VaultTestServer
  let env: Record<string, string>
  before(async () => {
    server = await VaultTestServer.start()
    server.put('secret', 'app', {db: V.staging, other: V.base})
    env = {VAULT_ADDR: server.url, VAULT_TOKEN: server.rootToken}
    await sb.init()
    writeFileSync(
      join(sb.project, 'secrets.yaml'),
      'providers:\n  local: {type: local, path: .secrets/store.json}\n  vault: {type: vault}\nenv:\n  OTHER: vault://secret/app#other\nenvironments:\n  staging:\n    env:\n      DATABASE_URL: vault://secret/app#db\n',
    )
  })
  after(async () => {
    await server.close()
    sb.cleanup()
  })

  it('copies the variable of the selected environment; a typo names the closest', async () => {
    const r = await sb.run(['sync', '--from', 'vault', '--to', 'local', '--only', 'DATABASE_URL', '--yes'], {
      env: {...env, SECRETS_ENV: 'staging'},
    })
    assert.equal(r.code, 0, r.stderr)
    noValue(r)
    assert.equal((await sb.run(['get', 'local://DATABASE_URL'])).stdout, V.staging)
    assert.equal((await sb.run(['get', 'local://OTHER'])).code, 5)
    const bad = await sb.run(
      ['sync', '--from', 'vault', '--to', 'local', '--only', 'DATABSE_URL', '--env', 'staging'],
      {env},
    )
    assert.equal(bad.code, 5)
    assert.equal(
      bad.stderr,
      'Error [NOT_FOUND]: --only names DATABSE_URL, which is not a variable read from vault.\n' +
        '  → Did you mean DATABASE_URL?\n' +
        '  → Variables read from vault: DATABASE_URL, OTHER.\n',
    )
    const base = await sb.run(['sync', '--from', 'vault', '--to', 'local', '--only', 'DATABASE_URL'], {env})
    assert.equal(base.code, 5)
    assert.match(
      base.stderr,
      /^Error \[NOT_FOUND\]: --only names DATABASE_URL, which is not a variable read from vault\./,
    )
  })
})
