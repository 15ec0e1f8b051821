import assert from 'node:assert/strict'
import {existsSync, mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {Sandbox} from '../helpers/cli.js'

describe('config, references and usage errors from the command line', () => {
  const sb = new Sandbox()
  before(() => sb.init())
  after(() => sb.cleanup())

  it('no secrets.yaml: CONFIG_NOT_FOUND (exit 3) with the fix', async () => {
    const elsewhere = join(sb.root, 'empty')
    mkdirSync(elsewhere)
    const r = await sb.run(['list'], {cwd: elsewhere})
    assert.equal(r.code, 3)
    assert.equal(
      r.stderr,
      `Error [CONFIG_NOT_FOUND]: No secrets.yaml found in ${elsewhere} or any parent directory.\n  → Run \`secrets init\` to create one here, or pass --config PATH (or set SECRETS_CONFIG).\n`,
    )
  })

  it('secrets.yaml is found from a subdirectory', async () => {
    const sub = join(sb.project, 'src', 'deep')
    mkdirSync(sub, {recursive: true})
    assert.equal((await sb.run(['set', 'FROM_SUB'], {input: 'sub-value', cwd: sub})).code, 0)
    assert.equal((await sb.run(['get', 'FROM_SUB'])).stdout, 'sub-value')
  })

  it('a malformed secrets.yaml names file, line and field (exit 3)', async () => {
    const bad = join(sb.root, 'bad.yaml')
    writeFileSync(bad, 'providers:\n  local: {type: local, path: .secrets/store.json}\nenv:\n  DB_URL: local:/DB\n')
    const r = await sb.run(['export', '--config', bad])
    assert.equal(r.code, 3)
    assert.equal(
      r.stderr,
      `Error [CONFIG_INVALID]: Invalid reference in ${bad}:4 (env.DB_URL): expected "://" after the provider alias at character 6:\n  "local:/DB"\n        ^\n` +
        '  → References look like alias://path[#field][?version=N], for example vault://secret/app#db_url or local://API_KEY.\n',
    )
    writeFileSync(bad, 'providers:\n  local: {type: local}\n  vault:\n    type: vault\n    token: s.abc\n')
    const cred = await sb.run(['list'], {env: {SECRETS_CONFIG: bad}})
    assert.equal(cred.code, 3)
    assert.equal(
      cred.stderr.split('\n')[0],
      `Error [CONFIG_INVALID]: ${bad}:5: \`providers.vault.token\` looks like a credential; secrets.yaml never holds secrets or credentials. Provide it through the environment (VAULT_TOKEN, VAULT_ROLE_ID/VAULT_SECRET_ID or a token file).`,
    )
    assert.ok(!cred.stderr.includes('s.abc'))
  })

  it('a malformed reference on the command line points at the character (exit 4)', async () => {
    const r = await sb.run(['get', 'local://A#b#c'])
    assert.equal(r.code, 4)
    assert.equal(
      r.stderr,
      'Error [REFERENCE_INVALID]: Invalid reference: a second "#" at character 12:\n  "local://A#b#c"\n              ^\n' +
        '  → References look like alias://path[#field][?version=N], for example vault://secret/app#db_url or local://API_KEY.\n',
    )
    const alias = await sb.run(['get', 'nope://x'])
    assert.equal(alias.code, 4)
    assert.equal(
      alias.stderr.split('\n')[0],
      `Error [REFERENCE_INVALID]: No provider with alias "nope" is declared in ${join(sb.project, 'secrets.yaml')}.`,
    )
    const param = await sb.run(['get', 'local://A?stage=x'])
    assert.equal(param.code, 4)
    assert.match(
      param.stderr,
      /^Error \[REFERENCE_INVALID\]: Invalid reference: unknown parameter "stage" for this provider \(allowed: version\) at character 11:/,
    )
  })

  it('a flag without its value and an unknown flag are usage errors (exit 2), also with --json', async () => {
    const r = await sb.run(['export', '--format'])
    assert.equal(r.code, 2)
    assert.equal(
      r.stderr,
      'Error [USAGE]: Flag --format expects one of these values: dotenv, json, yaml, shell, github\n  → See `secrets export --help` for the flags and arguments.\n',
    )
    const unknown = await sb.run(['list', '--nope'])
    assert.equal(unknown.code, 2)
    assert.equal(
      unknown.stderr,
      'Error [USAGE]: Unknown flag --nope for `secrets list`.\n  → See `secrets list --help` for the flags.\n',
    )
    const json = await sb.run(['get', '--json'])
    assert.equal(json.code, 2)
    assert.deepEqual(JSON.parse(json.stdout), {
      error: {
        code: 'USAGE',
        exitCode: 2,
        message: 'Missing 1 required arg:\nref  A NAME (variable, else local secret) or a reference.',
        suggestions: ['See `secrets get --help` for the flags and arguments.'],
      },
    })
  })

  it('an unknown --env names the ones that exist', async () => {
    writeFileSync(
      join(sb.project, 'secrets.yaml'),
      'providers:\n  local: {type: local, path: .secrets/store.json}\nenvironments:\n  staging:\n    env:\n      DB: local://FROM_SUB\n',
    )
    const r = await sb.run(['export', '--env', 'prod'])
    assert.equal(r.code, 3)
    assert.equal(
      r.stderr,
      `Error [CONFIG_INVALID]: Environment "prod" is not defined in ${join(sb.project, 'secrets.yaml')}.\n  → Use one of: staging.\n`,
    )
    const staging = await sb.run(['export', '--format', 'json', '--only', 'DB'], {env: {SECRETS_ENV: 'staging'}})
    assert.equal(staging.code, 0, staging.stderr)
    assert.deepEqual(JSON.parse(staging.stdout), {DB: 'sub-value'})
  })

  it('a provider that cannot be used fails the export (no Vault token: exit 7), and nothing is half-exported', async () => {
    writeFileSync(
      join(sb.project, 'secrets.yaml'),
      'providers:\n  local: {type: local, path: .secrets/store.json}\n  vault: {type: vault}\nenv:\n  DB: vault://secret/app#db\n',
    )
    const out = join(sb.root, 'out.env')
    const r = await sb.run(['export', '-o', out])
    assert.equal(r.code, 7)
    assert.match(
      r.stderr,
      /^Error \[IDENTITY_MISSING\]: Could not resolve 1 of 2 variable\(s\); nothing was used:\n {2}DB = vault:\/\/secret\/app#db \(provider vault\): \[IDENTITY_MISSING\] No Vault token for provider vault: VAULT_TOKEN is not set and /,
    )
    assert.equal(r.stdout, '')
    assert.equal(existsSync(out), false)
  })

  it('the root help lists the exit codes; a command page does not', async () => {
    for (const args of [
      ['init', '--help'],
      ['key', 'add', '--help'],
      ['help', 'exec'],
    ]) {
      const r = await sb.run(args)
      assert.equal(r.code, 0, r.stderr)
      assert.doesNotMatch(r.stdout, /EXIT CODES/)
    }
    for (const args of [['--help'], ['help'], ['-h']]) {
      const r = await sb.run(args)
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, /\nEXIT CODES\n {6}0 {2}success\n {6}1 {2}INTERNAL: /)
      assert.match(
        r.stdout,
        /\n {6}7 {2}IDENTITY_MISSING, DECRYPT_FAILED: no identity that can open the store, or the wrong key\/passphrase\n/,
      )
      assert.match(r.stdout, /\n {2}128\+N {2}exec: the child died from signal N/)
    }
  })
})
