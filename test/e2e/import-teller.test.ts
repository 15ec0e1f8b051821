import assert from 'node:assert/strict'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {Sandbox} from '../helpers/cli.js'
import {VaultTestServer} from '../servers/vault/server.js'

const CANARY = 'CANARY-teller-7f3e-never-print'
const TOKEN_IN_TELLER = 'hvs.CANARY-teller-token-in-options'

describe('import --format teller: a .teller.yml becomes providers: and env: entries', () => {
  const sb = new Sandbox()
  let server: VaultTestServer
  const run = sb.runner(() => ({VAULT_TOKEN: server.rootToken, STAGE: ''}))
  const config = () => readFileSync(join(sb.project, 'secrets.yaml'), 'utf8')
  const teller = (address: string): string =>
    [
      'project: demo',
      'providers:',
      '  hashi_1:',
      '    kind: hashicorp',
      `    options: {address: "${address}", token: ${TOKEN_IN_TELLER}}`,
      '    maps:',
      '      - id: app',
      '        path: secret/{{ get_env(name="STAGE", default="dev") }}/app',
      '        keys:',
      '          GITHUB_TOKEN: ==',
      '          mg: FOO_BAR',
      '      - id: old',
      '        path: legacy/thing',
      '        protocol: kv1',
      '        keys: {pw: OLD_PW}',
      '      - id: everything',
      '        path: secret/all',
      '  aws_prod:',
      '    kind: aws_secretsmanager',
      '    options: {region: eu-west-1, access_key_id: AKIAEXAMPLE, secret_access_key: CANARY-aws-key}',
      '    maps:',
      '      - id: db',
      '        path: prod/db',
      '        keys: {password: DB_PASSWORD}',
      '  dot:',
      '    kind: dotenv',
      '    maps: [{id: stg, path: .env.stg}]',
      '',
    ].join('\n')

  before(async () => {
    server = await VaultTestServer.start()
    server.mountKv('legacy', 1)
    server.put('secret', 'dev/app', {GITHUB_TOKEN: CANARY, mg: `${CANARY}-mg`})
    server.put('legacy', 'thing', {pw: `${CANARY}-pw`})
    await sb.init()
    writeFileSync(join(sb.project, '.teller.yml'), teller(server.url))
  })
  after(async () => {
    await server.close()
    sb.cleanup()
  })

  it('--dry-run shows the plan, what is left out and why, and writes nothing', async () => {
    const before = config()
    const r = await run(['import', '.teller.yml', '--dry-run'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(
      r.stdout,
      [
        `+ providers.hashi-1: {"type":"vault","address":"${server.url}","kv":{"secret":2,"legacy":1}} (providers.hashi_1)`,
        '+ providers.aws-prod: {"type":"aws","region":"eu-west-1"} (providers.aws_prod)',
        '+ env.GITHUB_TOKEN: hashi-1://secret/dev/app#GITHUB_TOKEN',
        '+ env.FOO_BAR: hashi-1://secret/dev/app#mg',
        '+ env.OLD_PW: hashi-1://legacy/thing#pw',
        '+ env.DB_PASSWORD: aws-prod://prod/db#password',
        '- providers.hashi_1.maps[everything] (secret/all): no keys: teller maps every field it finds there, which only reading the secret can tell; list them under keys: and import again, or add env: entries by hand',
        '- providers.dot (kind dotenv, 1 map): a .env file: import its values with `secrets import <its path>`',
        `6 to write to ${join(sb.project, 'secrets.yaml')}, 2 left out.`,
        '',
      ].join('\n'),
    )
    assert.match(r.stderr, /providers\.hashi_1\.options token not copied/)
    assert.match(r.stderr, /providers\.aws_prod\.options access_key_id, secret_access_key not copied/)
    assert.match(r.stderr, /Rendered get_env\(\) with STAGE \(its default\)\./)
    assert.match(r.stderr, /Dry run: nothing was written\./)
    assert.equal(config(), before)
    assert.equal(server.requests.length, 0, 'no request may reach Vault')
  })

  it('writes the entries (no credential, no value), keeps the comments, and exec then resolves them', async () => {
    const r = await run(['import', '.teller.yml'])
    assert.equal(r.code, 0, r.stderr)
    const text = config()
    assert.ok(!text.includes('CANARY'), 'a credential from the teller options reached secrets.yaml')
    assert.match(text, /^# secrets\.yaml: which providers exist/m)
    assert.match(text, /^ {2}hashi-1: \{type: vault, address: .+, kv: \{secret: 2, legacy: 1\}\}$/m)
    assert.match(text, /^env:\n {2}GITHUB_TOKEN: hashi-1:\/\/secret\/dev\/app#GITHUB_TOKEN\n {2}FOO_BAR: /m)
    assert.equal(server.requests.length, 0, 'the import fetched a value')
    const child = 'process.stdout.write([process.env.GITHUB_TOKEN, process.env.FOO_BAR, process.env.OLD_PW].join(","))'
    const e = await run([
      'exec',
      '--only',
      'GITHUB_TOKEN',
      '--only',
      'FOO_BAR',
      '--only',
      'OLD_PW',
      '--no-redact',
      '--',
      process.execPath,
      '-e',
      child,
    ])
    assert.equal(e.code, 0, e.stderr)
    assert.equal(e.stdout, `${CANARY},${CANARY}-mg,${CANARY}-pw`)
  })

  it('importing again changes nothing; a variable mapped elsewhere needs --overwrite', async () => {
    const same = await run(['import', '.teller.yml'])
    assert.equal(same.code, 0, same.stderr)
    assert.match(same.stdout, /^= providers\.hashi-1: /m)
    assert.match(same.stdout, /^0 to write to /m)
    const text = config().replace('FOO_BAR: hashi-1://secret/dev/app#mg', 'FOO_BAR: local://FOO_BAR')
    writeFileSync(join(sb.project, 'secrets.yaml'), text)
    const refused = await run(['import', '.teller.yml'])
    assert.equal(refused.code, 2, refused.stderr)
    assert.match(refused.stdout, /^~ env\.FOO_BAR: local:\/\/FOO_BAR → hashi-1:\/\/secret\/dev\/app#mg$/m)
    assert.match(refused.stderr, /maps FOO_BAR to local:\/\/FOO_BAR already, .*nothing was written/)
    assert.equal(config(), text)
    const forced = await run(['import', '.teller.yml', '--overwrite'])
    assert.equal(forced.code, 0, forced.stderr)
    assert.match(config(), /^ {2}FOO_BAR: hashi-1:\/\/secret\/dev\/app#mg$/m)
  })

  it('refuses a template it cannot evaluate, --to, and a file that is not teller configuration', async () => {
    writeFileSync(
      join(sb.project, 'odd.teller.yml'),
      'providers:\n  v:\n    kind: hashicorp\n    maps:\n      - id: a\n        path: "secret/{{ now() }}"\n',
    )
    const tpl = await run(['import', 'odd.teller.yml'])
    assert.equal(tpl.code, 2, tpl.stderr)
    assert.match(tpl.stderr, /odd\.teller\.yml line 6 holds a template secrets cannot evaluate/)
    const to = await run(['import', '.teller.yml', '--to', 'local'])
    assert.equal(to.code, 2, to.stderr)
    assert.match(to.stderr, /--to has no meaning with a teller file/)
    writeFileSync(join(sb.project, 'plain.yml'), 'A: b\n')
    const plain = await run(['import', 'plain.yml', '--format', 'teller'])
    assert.equal(plain.code, 2, plain.stderr)
    assert.match(
      plain.stderr,
      /plain\.yml is not a teller configuration: it has no providers: mapping; nothing was imported\./,
    )
  })
})
