import assert from 'node:assert/strict'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {BIN, Sandbox} from '../helpers/cli.js'
import {SecretsManagerServer} from '../servers/aws/server.js'
import {AzureTestServer} from '../servers/azure/server.js'
import {VaultTestServer} from '../servers/vault/server.js'
import {onTerminal as onTerminalRun, skipWithoutPty} from '../helpers/terminal.js'

const CANARY = 'CANARY-sync-7f3e-never-print'

/** What one remote provider needs for the shared scenario below. */
interface Remote {
  alias: string
  providerYaml: () => string
  env: () => Record<string, string>
  /** Seed DB_USER / DB_PASS (the canary) on the server; returns the references the app uses. */
  seed: () => {user: string; pass: string}
  /** Change DB_USER's value on the server. */
  change: () => void
  /** The --to prefix that the "back" direction writes to, and the references it produces. */
  back: {to: string; refs: (name: string) => string}
  writes: () => number
  reads: () => number
  reset: () => void
}

/**
 * The shared scenario: remote -> local (dry run, refusal without --yes, write, nothing on the second
 * run, one changed value), then local -> remote with a second config, again twice.
 */
function scenario(remote: () => Remote): void {
  const sb = new Sandbox()
  let r: Remote
  let refs: {user: string; pass: string}
  const run = sb.runner(() => r.env())

  before(async () => {
    r = remote()
    await sb.init()
    refs = r.seed()
    writeFileSync(
      join(sb.project, 'secrets.yaml'),
      `providers:\n  local: {type: local, path: .secrets/store.json}\n${r.providerYaml()}env:\n  DB_USER: ${refs.user}\n  DB_PASS: ${refs.pass}\n`,
    )
    writeFileSync(
      join(sb.project, 'back.yaml'),
      `providers:\n  local: {type: local, path: .secrets/store.json}\n${r.providerYaml()}`,
    )
  })
  after(() => sb.cleanup())

  const diff = (lines: Array<[string, string, string, string, string]>): string => {
    const nw = Math.max(...lines.map((l) => l[1].length))
    const fw = Math.max(...lines.map((l) => l[2].length))
    return lines.map(([m, n, f, arrow, t]) => `${m} ${n.padEnd(nw)}  ${f.padEnd(fw)}  ${arrow} ${t}\n`).join('')
  }

  it('remote -> local: --dry-run shows the diff and writes nothing; without --yes and a TTY it refuses', async () => {
    const store = readFileSync(sb.storeFile, 'utf8')
    const dry = await run(['sync', '--from', r.alias, '--to', 'local', '--dry-run'])
    assert.equal(dry.code, 0, dry.stderr)
    const expected = diff([
      ['+', 'DB_PASS', `${refs.pass} (v1)`, '→', 'local://DB_PASS (new)'],
      ['+', 'DB_USER', `${refs.user} (v1)`, '→', 'local://DB_USER (new)'],
    ])
    assert.equal(dry.stdout.replaceAll(/\(v[^)]{3,}\)/g, '(v1)'), `${expected}2 to write, 0 unchanged.\n`)
    assert.equal(dry.stderr, 'Dry run: nothing was written.\n')
    const refused = await run(['sync', '--from', r.alias, '--to', 'local'])
    assert.equal(refused.code, 2)
    assert.match(
      refused.stderr,
      /^Error \[USAGE\]: Refusing to write 2 secret\(s\) to local without confirmation: there is no terminal to ask on \(or CI is set\)\.\n {2}→ Pass --yes to write them, or --dry-run to only see the diff\.\n$/,
    )
    assert.equal(readFileSync(sb.storeFile, 'utf8'), store)
    for (const out of [dry, refused]) assert.ok(!out.stdout.includes(CANARY) && !out.stderr.includes(CANARY))
  })

  it('remote -> local writes both, audits each write, and a second sync writes nothing', async () => {
    const first = await run(['sync', '--from', r.alias, '--to', 'local', '--yes'])
    assert.equal(first.code, 0, first.stderr)
    assert.match(first.stdout, /2 to write, 0 unchanged\.\n$/)
    assert.equal(first.stderr, '✓ wrote local://DB_PASS (v1), local://DB_USER (v1)\n')
    assert.equal((await run(['get', 'local://DB_PASS'])).stdout, CANARY)
    assert.equal((await run(['get', 'local://DB_USER'])).stdout, 'app-user')
    const writes = sb
      .auditText()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((e) => e.command === 'sync' && e.action === 'write')
    assert.deepEqual(
      writes.map((e) => [e.provider, e.ref, e.version, e.outcome]),
      [
        ['local', 'local://DB_PASS', '1', 'ok'],
        ['local', 'local://DB_USER', '1', 'ok'],
      ],
    )
    assert.ok(!sb.auditText().includes(CANARY))

    const store = readFileSync(sb.storeFile, 'utf8')
    r.reset()
    const second = await run(['sync', '--from', r.alias, '--to', 'local', '--yes'])
    assert.equal(second.code, 0, second.stderr)
    assert.equal(
      second.stdout.replaceAll(/\(v[^)]{3,}\)/g, '(v1)'),
      `${diff([
        ['=', 'DB_PASS', `${refs.pass} (v1)`, '=', 'local://DB_PASS (v1)'],
        ['=', 'DB_USER', `${refs.user} (v1)`, '=', 'local://DB_USER (v1)'],
      ])}0 to write, 2 unchanged.\n`,
    )
    assert.equal(second.stderr, '')
    assert.equal(readFileSync(sb.storeFile, 'utf8'), store, 'the second sync rewrote the store')
    assert.equal(r.writes(), 0)
    assert.ok(r.reads() > 0)
  })

  it('a value changed at the source is the only one written; --only narrows the sync', async () => {
    r.change()
    const only = await run(['sync', '--from', r.alias, '--to', 'local', '--only', 'DB_PASS', '--yes'])
    assert.equal(only.code, 0, only.stderr)
    assert.match(only.stdout, /^= DB_PASS .*\n0 to write, 1 unchanged\.\n$/)
    const changed = await run(['sync', '--from', r.alias, '--to', 'local', '--yes', '--json'])
    assert.equal(changed.code, 0, changed.stderr)
    const json = JSON.parse(changed.stdout)
    assert.deepEqual(
      json.items.map((i: {name: string; status: string; to: string; toVersion?: string; written?: string}) => [
        i.name,
        i.status,
        i.to,
        i.toVersion,
        i.written,
      ]),
      [
        ['DB_PASS', 'same', 'local://DB_PASS', '1', undefined],
        ['DB_USER', 'change', 'local://DB_USER', '1', '2'],
      ],
    )
    assert.equal(json.written, 1)
    assert.equal((await run(['get', 'local://DB_USER'])).stdout, 'app-user-2')
  })

  it('local -> remote (a config whose variables are the local secrets), then nothing on the second run', async () => {
    r.reset()
    const back = await run(['sync', '--config', 'back.yaml', '--from', 'local', '--to', r.back.to, '--yes'])
    assert.equal(back.code, 0, back.stderr)
    assert.match(
      back.stdout,
      /^\+ DB_PASS {2}local:\/\/DB_PASS \(v1\) {2}→ .* \(new\)\n\+ DB_USER {2}local:\/\/DB_USER \(v2\) {2}→ .* \(new\)\n2 to write, 0 unchanged\.\n$/,
    )
    assert.ok(r.writes() >= 2)
    for (const [name, value] of [
      ['DB_PASS', CANARY],
      ['DB_USER', 'app-user-2'],
    ]) {
      const got = await run(['get', r.back.refs(name)])
      assert.deepEqual([got.code, got.stdout], [0, value], got.stderr)
    }
    r.reset()
    const again = await run(['sync', '--config', 'back.yaml', '--from', 'local', '--to', r.back.to, '--yes'])
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stdout, /0 to write, 2 unchanged\.\n$/)
    assert.equal(r.writes(), 0)
    assert.ok(!again.stdout.includes(CANARY) && !again.stderr.includes(CANARY))
  })
}

describe('sync: Vault <-> local store', () => {
  let server: VaultTestServer
  before(async () => {
    server = await VaultTestServer.start()
  })
  after(() => server.close())
  scenario(() => ({
    alias: 'vault',
    providerYaml: () => '  vault: {type: vault}\n',
    env: () => ({VAULT_ADDR: server.url, VAULT_TOKEN: server.rootToken}),
    seed: () => {
      server.put('secret', 'app', {db_user: 'app-user', db_pass: CANARY})
      return {user: 'vault://secret/app#db_user', pass: 'vault://secret/app#db_pass'}
    },
    change: () => void server.put('secret', 'app', {db_user: 'app-user-2', db_pass: CANARY}),
    back: {to: 'vault://secret/restored', refs: (name) => `vault://secret/restored#${name}`},
    writes: () => server.requests.filter((q) => q.method === 'POST' && q.path.startsWith('secret/data/')).length,
    reads: () => server.requests.filter((q) => q.method === 'GET' && q.path.startsWith('secret/data/')).length,
    reset: () => server.resetCounters(),
  }))
})

describe('sync: AWS Secrets Manager <-> local store', () => {
  let server: SecretsManagerServer
  const KEY_ID = 'AKIASYNCTESTKEY00001'
  const SECRET_KEY = 'sync/secret+access/key00000000000000000'
  before(async () => {
    server = await SecretsManagerServer.start({
      credentials: [{accessKeyId: KEY_ID, secretAccessKey: SECRET_KEY, arn: 'arn:aws:iam::123456789012:user/sync'}],
    })
  })
  after(() => server.close())
  scenario(() => ({
    alias: 'aws',
    providerYaml: () => '  aws: {type: aws}\n',
    env: () => ({
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: server.url,
      AWS_ACCESS_KEY_ID: KEY_ID,
      AWS_SECRET_ACCESS_KEY: SECRET_KEY,
      AWS_EC2_METADATA_DISABLED: 'true',
    }),
    seed: () => {
      server.seed('app/db', JSON.stringify({user: 'app-user'}))
      server.seed('app/pass', CANARY)
      return {user: 'aws://app/db#user', pass: 'aws://app/pass'}
    },
    change: () => void server.seedVersion('app/db', JSON.stringify({user: 'app-user-2'}), ['AWSCURRENT']),
    back: {to: 'aws://restored/', refs: (name) => `aws://restored/${name}`},
    writes: () => (server.counts.PutSecretValue ?? 0) + (server.counts.CreateSecret ?? 0),
    reads: () => (server.counts.GetSecretValue ?? 0) + (server.counts.BatchGetSecretValue ?? 0),
    reset: () => server.faults.resetCounts(),
  }))
})

describe('sync: Azure Key Vault <-> local store', () => {
  let kv: AzureTestServer
  const APP = '11111111-1111-1111-1111-111111111111'
  const APP_SECRET = 'sync-client-secret-value'
  before(async () => {
    kv = await AzureTestServer.start()
    kv.addIdentity({clientId: APP, secret: APP_SECRET, access: 'all'})
  })
  after(() => kv.close())
  scenario(() => ({
    alias: 'azure',
    providerYaml: () =>
      `  azure:\n    type: azure\n    vaultUrl: ${kv.url}\n    authorityHost: ${kv.authorityHost}\n    disableChallengeResourceVerification: true\n    auth: {method: client-secret}\n`,
    env: () => ({
      NODE_EXTRA_CA_CERTS: kv.caFile,
      AZURE_TENANT_ID: kv.tenantId,
      AZURE_CLIENT_ID: APP,
      AZURE_CLIENT_SECRET: APP_SECRET,
    }),
    seed: () => {
      kv.seed('app-user', 'app-user')
      kv.seed('app-pass', CANARY)
      return {user: 'azure://app-user', pass: 'azure://app-pass'}
    },
    change: () => void kv.seed('app-user', 'app-user-2'),
    back: {to: 'azure', refs: (name) => `azure://${name}`},
    writes: () => kv.counters.log.filter((l) => l.startsWith('PUT ')).length,
    reads: () => kv.counters.log.filter((l) => l.startsWith('GET ')).length,
    reset: () => kv.resetCounters(),
  }))
})

describe('sync on a terminal asks before writing', () => {
  const sb = new Sandbox()
  let server: VaultTestServer
  before(async () => {
    server = await VaultTestServer.start()
    server.put('secret', 'app', {a: 'value-a-1234'})
    server.put('secret', 'app2', {b: 'value-b-5678'})
    await sb.init()
    writeFileSync(
      join(sb.project, 'secrets.yaml'),
      'providers:\n  local: {type: local, path: .secrets/store.json}\n  vault: {type: vault}\nenv:\n  A: vault://secret/app#a\nenvironments:\n  two:\n    env:\n      B: vault://secret/app2#b\n',
    )
  })
  after(async () => {
    await server.close()
    sb.cleanup()
  })

  // On a pseudo-terminal, asynchronously: the test server answers from this process.
  const onTerminal = (answer: string) =>
    onTerminalRun(
      process.execPath,
      [BIN, 'sync', '--from', 'vault', '--to', 'local'],
      [['Write 1 secret(s) to local?', answer]],
      {
        cwd: sb.project,
        env: sb.env({TERM: 'xterm', CI: undefined, VAULT_ADDR: server.url, VAULT_TOKEN: server.rootToken}),
      },
    )

  it('a reference prefix takes whole path segments; an unknown --only, no source variable and a --to with #field are refused', async () => {
    const env = {VAULT_ADDR: server.url, VAULT_TOKEN: server.rootToken}
    const r = await sb.run(['sync', '--env', 'two', '--from', 'vault://secret/app', '--to', 'local', '--dry-run'], {
      env,
    })
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, '+ A  vault://secret/app#a (v1)  → local://A (new)\n1 to write, 0 unchanged.\n')
    const only = await sb.run(['sync', '--from', 'vault', '--to', 'local', '--only', 'NOPE'], {env})
    assert.equal(only.code, 5)
    assert.equal(
      only.stderr,
      'Error [NOT_FOUND]: --only names NOPE, which is not a variable read from vault.\n  → Variables read from vault: A.\n',
    )
    const none = await sb.run(['sync', '--from', 'local', '--to', 'vault://secret/x'], {env})
    assert.equal(none.code, 5)
    assert.match(
      none.stderr,
      /^Error \[NOT_FOUND\]: No variable of this environment is read from local, so there is nothing to sync\.\n {2}→ Providers the variables use: vault\./,
    )
    const badTo = await sb.run(['sync', '--from', 'vault', '--to', 'vault://secret/x#f'], {env})
    assert.equal(badTo.code, 2)
    assert.match(badTo.stderr, /--to vault:\/\/secret\/x#f may not hold #field or \?parameters/)
  })

  it('no is ABORTED (exit 12) and writes nothing; yes writes', async (t) => {
    if (skipWithoutPty(t)) return
    const store = readFileSync(sb.storeFile, 'utf8')
    const no = await onTerminal('n\r')
    assert.equal(no.code, 12, no.output)
    assert.match(no.output, /\+ A {2}vault:\/\/secret\/app#a \(v1\) {2}→ local:\/\/A \(new\)/)
    assert.match(no.output, /Error \[ABORTED\]: Nothing was written to local\./)
    assert.equal(readFileSync(sb.storeFile, 'utf8'), store)
    const yes = await onTerminal('y\r')
    assert.equal(yes.code, 0, yes.output)
    // A is mapped to vault in secrets.yaml, so the copy is read by its reference.
    assert.equal((await sb.run(['get', 'local://A'])).stdout, 'value-a-1234')
  })
})
