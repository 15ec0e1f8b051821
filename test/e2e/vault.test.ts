import assert from 'node:assert/strict'
import {generateKeyPairSync, sign, type KeyObject} from 'node:crypto'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, beforeEach, describe, it} from 'node:test'

import {Sandbox} from '../helpers/cli.js'
import {createPki, type TestPki} from '../servers/vault/pki.js'
import {VaultTestServer} from '../servers/vault/server.js'

const PRINT = ['sh', '-c', 'printf %s "$A|$B|$C|$D"']

function b64url(x: string | Buffer): string {
  return Buffer.from(x).toString('base64url')
}

function signJwt(claims: Record<string, unknown>, key: KeyObject, kid = 'k1'): string {
  const input = `${b64url(JSON.stringify({alg: 'RS256', typ: 'JWT', kid}))}.${b64url(JSON.stringify(claims))}`
  return `${input}.${b64url(sign('sha256', Buffer.from(input), key))}`
}

/** Seed the same data and policies into a server. */
function seed(server: VaultTestServer): void {
  server.mountKv('kv1', 1)
  server.put('secret', 'app', {db_user: 'alice', db_pass: 's3cr3t-pass', api_key: 'k-123'})
  server.customMetadata('secret', 'app', {owner: 'payments', rotate: '90d'})
  server.put('secret', 'admin', {root: 'top-secret-admin'})
  server.put('kv1', 'legacy', {token: 'legacy-v1-value'})
  server.policy('app', {
    'secret/data/app': ['read', 'create', 'update'],
    'secret/data/shared': ['read', 'create', 'update'],
    'secret/data/tmp': ['read', 'create', 'update'],
    'secret/metadata/tmp': ['read', 'delete'],
    'secret/metadata/*': ['list'],
    'kv1/*': ['read', 'create', 'update', 'list'],
    'secret/data/admin': ['deny'],
  })
}

describe('vault provider against the test server (token auth, KV v1 and v2)', () => {
  const sb = new Sandbox()
  let server: VaultTestServer
  let token: string
  const yaml = (extra = ''): string =>
    `providers:\n  vault: {type: vault${extra}}\nenv:\n  A: vault://secret/app#db_user\n  B: vault://secret/app#db_pass\n  C: vault://secret/app#api_key\n  D: vault://kv1/legacy#token\n`
  const env = (extra: Record<string, string | undefined> = {}): Record<string, string | undefined> => ({
    VAULT_ADDR: server.url,
    VAULT_TOKEN: token,
    ...extra,
  })

  before(async () => {
    server = await VaultTestServer.start()
    seed(server)
    token = server.createToken(['app'])
    writeFileSync(join(sb.project, 'secrets.yaml'), yaml())
  })
  after(async () => {
    await server.close()
    sb.cleanup()
  })
  beforeEach(() => {
    server.faults.clear()
    server.resetCounters()
  })

  it('get prints one field exactly, or the whole map as JSON', async () => {
    const r = await sb.run(['get', 'vault://secret/app#db_pass'], {env: env()})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 's3cr3t-pass')
    const whole = await sb.run(['get', 'vault://kv1/legacy'], {env: env()})
    assert.equal(whole.code, 0, whole.stderr)
    assert.equal(whole.stdout, '{"token":"legacy-v1-value"}')
  })

  it('exec resolves KV v1 and v2 side by side; three fields of one path cost one read', async () => {
    const r = await sb.run(['exec', '--no-redact', '--', ...PRINT], {env: env()})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'alice|s3cr3t-pass|k-123|legacy-v1-value')
    assert.equal(server.count('GET secret/data/app'), 1)
    assert.equal(server.count('GET kv1/legacy'), 1)
    // KV versions detected once per mount through sys/internal/ui/mounts.
    assert.equal(server.requests.filter((q) => q.path.startsWith('sys/internal/ui/mounts/')).length, 2)
    // By default exec masks the values in the child's output.
    const masked = await sb.run(['exec', '--', ...PRINT], {env: env()})
    assert.equal(masked.code, 0, masked.stderr)
    assert.equal(masked.stdout, '<secret:A>|<secret:B>|<secret:C>|<secret:D>')
  })

  it('uses ~/.vault-token when VAULT_TOKEN is unset, and a pinned kv version skips detection', async () => {
    writeFileSync(join(sb.home, '.vault-token'), `${token}\n`)
    writeFileSync(join(sb.project, 'secrets.yaml'), yaml(', kv: {secret: 2, kv1: 1}'))
    try {
      const r = await sb.run(['exec', '--no-redact', '--', ...PRINT], {env: env({VAULT_TOKEN: undefined})})
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stdout, 'alice|s3cr3t-pass|k-123|legacy-v1-value')
      assert.equal(server.requests.filter((q) => q.path.startsWith('sys/internal/ui/mounts')).length, 0)
    } finally {
      writeFileSync(join(sb.project, 'secrets.yaml'), yaml())
    }
  })

  it('a missing token is IDENTITY_MISSING (exit 7) naming both places', async () => {
    const r = await sb.run(['get', 'vault://secret/app#db_pass'], {
      env: env({VAULT_TOKEN: undefined, HOME: join(sb.root, 'nohome')}),
    })
    assert.equal(r.code, 7)
    assert.match(
      r.stderr,
      /No Vault token for provider vault: VAULT_TOKEN is not set and .*\.vault-token does not exist\./,
    )
  })

  it('set writes KV v2 with check-and-set (a new version) and KV v1 in place; ?version reads an old one', async () => {
    const set = await sb.run(['set', 'vault://secret/app#api_key'], {env: env(), input: 'k-456\n'})
    assert.equal(set.code, 0, set.stderr)
    assert.equal(set.stderr, '✓ vault://secret/app#api_key is now version 2\n')
    assert.deepEqual(server.peek('secret', 'app'), {db_user: 'alice', db_pass: 's3cr3t-pass', api_key: 'k-456'})
    assert.equal((await sb.run(['get', 'vault://secret/app#api_key?version=1'], {env: env()})).stdout, 'k-123')
    assert.equal((await sb.run(['get', 'vault://secret/app#api_key'], {env: env()})).stdout, 'k-456')
    const v1 = await sb.run(['set', 'vault://kv1/legacy#extra'], {env: env(), input: 'x1'})
    assert.equal(v1.code, 0, v1.stderr)
    assert.deepEqual(server.peek('kv1', 'legacy'), {token: 'legacy-v1-value', extra: 'x1'})
    const whole = await sb.run(['set', 'vault://secret/tmp'], {env: env(), input: '{"a":"1","b":"2"}'})
    assert.equal(whole.code, 0, whole.stderr)
    assert.deepEqual(server.peek('secret', 'tmp'), {a: '1', b: '2'})
    // DEBUG=* turns on every debug log (oclif's, axios's, node-vault's): none may show a value or the token.
    const debug = await sb.run(['set', 'vault://secret/tmp#c'], {env: env({DEBUG: '*'}), input: 'debug-canary-value'})
    assert.equal(debug.code, 0, debug.stderr)
    assert.ok(!debug.stderr.includes('debug-canary-value') && !debug.stderr.includes(token), 'DEBUG output leaks')
    const notJson = await sb.run(['set', 'vault://secret/tmp'], {env: env(), input: 'plain'})
    assert.equal(notJson.code, 2)
    assert.match(notJson.stderr, /the value must be a JSON object, or name the field to set/)
  })

  it("rolls back by writing an old version's map as the new version", async () => {
    const old = await sb.run(['get', 'vault://secret/app?version=1'], {env: env()})
    assert.equal(old.code, 0, old.stderr)
    const back = await sb.run(['set', 'vault://secret/app'], {env: env(), input: old.stdout})
    assert.equal(back.code, 0, back.stderr)
    assert.equal(back.stderr, '✓ vault://secret/app is now version 3\n')
    assert.deepEqual(server.peek('secret', 'app'), {db_user: 'alice', db_pass: 's3cr3t-pass', api_key: 'k-123'})
    assert.equal((await sb.run(['get', 'vault://secret/app#api_key'], {env: env()})).stdout, 'k-123')
  })

  it('two concurrent writers: one wins, the other gets CONFLICT (exit 11); nothing is lost silently', async () => {
    server.put('secret', 'shared', {k: 'v0'})
    // Hold both writers' reads until both arrived, so both name the same check-and-set version.
    server.inject({kind: 'barrier', count: 2, op: 'GET secret/data/shared'})
    // Two machines: each writer has its own access log (one user's writes serialize on their log's lock).
    const second = mkdtempSync(join(tmpdir(), 'secrets-writer-'))
    const [a, b] = await Promise.all([
      sb.run(['set', 'vault://secret/shared#k'], {env: env(), input: 'one'}),
      sb.run(['set', 'vault://secret/shared#k'], {
        env: env({XDG_STATE_HOME: second, SECRETS_AUDIT_LOG: undefined, SECRETS_AUDIT_KEY_FILE: undefined}),
        input: 'two',
      }),
    ]).finally(() => rmSync(second, {recursive: true, force: true}))
    assert.deepEqual([a.code, b.code].sort(), [0, 11], a.stderr + b.stderr)
    const [winner, loser] = a.code === 0 ? [a, b] : [b, a]
    assert.match(
      loser.stderr,
      /vault:\/\/secret\/shared#k was changed by someone else while secrets was writing it \(Vault: check-and-set parameter did not match the current version\); nothing was overwritten\./,
    )
    assert.equal(winner.stderr, '✓ vault://secret/shared#k is now version 2\n')
    assert.deepEqual(server.peek('secret', 'shared'), {k: winner === a ? 'one' : 'two'})
    assert.deepEqual(server.peekMeta('secret', 'shared'), {current: 2, versions: 2})
  })

  it('403 is PERMISSION_DENIED (exit 6) naming the path and a policy hint, never the value', async () => {
    const r = await sb.run(['get', 'vault://secret/admin#root'], {env: env()})
    assert.equal(r.code, 6)
    assert.match(
      r.stderr,
      /Vault denied read on secret\/data\/admin \(vault:\/\/secret\/admin#root\): permission denied\./,
    )
    assert.match(r.stderr, /path "secret\/data\/admin" \{ capabilities = \["read"\] \}/)
    assert.doesNotMatch(r.stderr + r.stdout + sb.auditText(), /top-secret-admin/)
    assert.ok(!(r.stderr + sb.auditText()).includes(token))
  })

  it('a missing secret or field is NOT_FOUND (exit 5)', async () => {
    const r = await sb.run(['get', 'vault://secret/app/nope#x'], {env: env({VAULT_TOKEN: server.rootToken})})
    assert.equal(r.code, 5)
    assert.match(r.stderr, /vault:\/\/secret\/app\/nope does not exist in Vault/)
    const field = await sb.run(['get', 'vault://secret/app#nope'], {env: env()})
    assert.equal(field.code, 5)
    assert.match(field.stderr, /Field "nope" is not in vault:\/\/secret\/app \(fields: db_user, db_pass, api_key\)/)
  })

  it('retries recover from two 503s, a 429 and a reset connection', async () => {
    server.inject({kind: 'sealed', times: 2, op: 'GET secret/data/app'})
    const r = await sb.run(['get', 'vault://secret/app#db_user'], {env: env()})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'alice')
    assert.equal(server.count('GET secret/data/app'), 3)
    server.resetCounters()
    server.inject({kind: 'throttled', op: 'GET secret/data/app', times: 1})
    server.inject({kind: 'reset', op: 'GET secret/data/app', times: 1})
    const again = await sb.run(['get', 'vault://secret/app#db_user'], {env: env()})
    assert.equal(again.code, 0, again.stderr)
    assert.equal(server.count('GET secret/data/app'), 3)
  })

  it('gives up after 3 retries with UNAVAILABLE (exit 9)', async () => {
    server.inject({kind: 'sealed', times: 100, op: 'GET secret/data/app'})
    const r = await sb.run(['get', 'vault://secret/app#db_user'], {env: env()})
    assert.equal(r.code, 9)
    assert.match(
      r.stderr,
      /Vault at http:\/\/127\.0\.0\.1:\d+ is sealed; gave up after retrying read on secret\/data\/app\./,
    )
    assert.equal(server.count('GET secret/data/app'), 4)
    server.faults.clear()
    server.inject({kind: 'unavailable', times: 100, op: 'GET secret/data/app'})
    const five = await sb.run(['get', 'vault://secret/app#db_user'], {env: env({VAULT_MAX_RETRIES: '1'})})
    assert.equal(five.code, 9)
    assert.match(five.stderr, /failed with 500 on read secret\/data\/app \(internal error\); gave up after retrying\./)
    assert.equal(server.count('GET secret/data/app'), 4 + 2)
  })

  it('a slow server times out after the configured timeout (exit 9)', async () => {
    writeFileSync(join(sb.project, 'secrets.yaml'), yaml(', timeout: 0.3, retries: 0'))
    server.inject({kind: 'latency', ms: 1500, op: 'GET secret/data/app', times: 1})
    try {
      const r = await sb.run(['get', 'vault://secret/app#db_user'], {env: env()})
      assert.equal(r.code, 9)
      assert.match(r.stderr, /did not answer read secret\/data\/app in time/)
    } finally {
      writeFileSync(join(sb.project, 'secrets.yaml'), yaml())
    }
  })

  it('list walks every KV mount the token can see; delete removes all versions', async () => {
    const r = await sb.run(['list', 'vault', '--json'], {env: env()})
    assert.equal(r.code, 0, r.stderr)
    const names = JSON.parse(r.stdout).secrets.map((s: {name: string}) => s.name)
    assert.deepEqual(names, ['kv1/legacy', 'secret/admin', 'secret/app', 'secret/shared', 'secret/tmp'])
    const root = await sb.run(['list', 'vault', '--json'], {env: env({VAULT_TOKEN: server.rootToken})})
    assert.equal(root.code, 0, root.stderr)
    const app = JSON.parse(root.stdout).secrets.find((s: {name: string}) => s.name === 'secret/app')
    assert.deepEqual([app.ref, app.version, app.versions, typeof app.updated], ['vault://secret/app', '3', 3, 'string'])
    assert.deepEqual(
      {...app.details, created: typeof app.details.created},
      {mount: 'secret', kv: 2, created: 'string', oldestVersion: 1, customMetadata: {owner: 'payments', rotate: '90d'}},
    )
    const field = await sb.run(['delete', 'vault://secret/tmp#c', '--yes'], {env: env()})
    assert.equal(field.code, 0, field.stderr)
    assert.equal(field.stderr, '✓ deleted vault://secret/tmp#c (0 version(s))\n')
    assert.deepEqual(server.peek('secret', 'tmp'), {a: '1', b: '2'})
    const del = await sb.run(['delete', 'vault://secret/tmp', '--yes'], {env: env()})
    assert.equal(del.code, 0, del.stderr)
    assert.equal(del.stderr, '✓ deleted vault://secret/tmp (3 version(s))\n')
    assert.equal(server.peek('secret', 'tmp'), undefined)
  })

  it('sends VAULT_NAMESPACE as X-Vault-Namespace, and doctor checks health and the token', async () => {
    const r = await sb.run(['get', 'vault://secret/app#db_user'], {env: env({VAULT_NAMESPACE: 'team-a'})})
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual([...new Set(server.requests.map((q) => q.namespace))], ['team-a'])
    const doc = await sb.run(['doctor', '--json'], {env: env()})
    const check = JSON.parse(doc.stdout).checks.find((c: {name: string}) => c.name === 'provider vault')
    assert.equal(check.status, 'ok')
    assert.equal(
      check.detail,
      `${server.url}: Vault 1.17.0+test, active; token auth, token policies default, app, ttl ${check.detail.match(/ttl (\d+)s/)[1]}s`,
    )
  })

  it('refuses plain http:// to a non-loopback address (exit 3)', async () => {
    const r = await sb.run(['get', 'vault://secret/app#db_user'], {
      env: env({VAULT_ADDR: 'http://vault.example.com:8200'}),
    })
    assert.equal(r.code, 3)
    assert.match(r.stderr, /Refusing plain http:\/\/ for Vault at vault\.example\.com:8200/)
  })
})

describe('vault auth methods: AppRole, JWT, Kubernetes (tokens revoked on exit)', () => {
  const sb = new Sandbox()
  let server: VaultTestServer
  const {privateKey, publicKey} = generateKeyPairSync('rsa', {modulusLength: 2048})
  const other = generateKeyPairSync('rsa', {modulusLength: 2048})
  const yaml = (auth: string): string =>
    `providers:\n  vault: {type: vault, auth: {${auth}}}\nenv:\n  A: vault://secret/app#db_user\n  B: vault://secret/app#db_pass\n  C: vault://secret/app#api_key\n  D: vault://kv1/legacy#token\n`
  const run = (auth: string, extra: Record<string, string | undefined> = {}) => {
    writeFileSync(join(sb.project, 'secrets.yaml'), yaml(auth))
    return sb.run(['exec', '--no-redact', '--', ...PRINT], {env: {VAULT_ADDR: server.url, ...extra}})
  }
  const now = () => Math.floor(Date.now() / 1000)

  before(async () => {
    server = await VaultTestServer.start()
    seed(server)
    server.jwtConfig(
      [{...publicKey.export({format: 'jwk'}), kid: 'k1', alg: 'RS256', use: 'sig'}],
      'https://ci.example',
    )
    server.jwtRole('ci', {
      policies: ['app'],
      user_claim: 'sub',
      bound_audiences: ['vault'],
      bound_claims: {ref: 'refs/heads/main'},
    })
    server.kubernetesRole(
      'app',
      {bound_service_account_names: ['app-sa'], bound_service_account_namespaces: ['prod'], policies: ['app']},
      'k8s-prod',
    )
    server.kubernetesServiceAccount('sa-token-app', 'app-sa', 'prod', 'k8s-prod')
    server.kubernetesServiceAccount('sa-token-other', 'other-sa', 'prod', 'k8s-prod')
  })
  after(async () => {
    await server.close()
    sb.cleanup()
  })

  it('AppRole from VAULT_ROLE_ID / VAULT_SECRET_ID; the token is revoked on exit', async () => {
    const {roleId, secretId} = server.approle('app', ['app'])
    const r = await run('method: approle', {VAULT_ROLE_ID: roleId, VAULT_SECRET_ID: secretId})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'alice|s3cr3t-pass|k-123|legacy-v1-value')
    assert.equal(server.count('POST auth/approle/login'), 1)
    assert.equal(server.count('POST auth/token/revoke-self'), 1)
    assert.equal(server.revokedAccessors.length, 1)
  })

  it('a login token is renewed while the child runs, then revoked', async () => {
    const {roleId, secretId} = server.approle('short', ['app'], 'approle-short', 2)
    writeFileSync(join(sb.project, 'secrets.yaml'), yaml('method: approle, mount: approle-short'))
    server.resetCounters()
    const r = await sb.run(['exec', '--no-redact', '--', 'sh', '-c', 'sleep 1.6; printf %s "$A"'], {
      env: {VAULT_ADDR: server.url, VAULT_ROLE_ID: roleId, VAULT_SECRET_ID: secretId},
    })
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'alice')
    assert.equal(server.count('POST auth/token/renew-self'), 1)
    assert.equal(server.count('POST auth/token/revoke-self'), 1)
  })

  it('AppRole from roleIdFile / secretIdFile at a non-default mount; a bad secret ID is exit 6', async () => {
    const {roleId, secretId} = server.approle('ci', ['app'], 'ci-approle')
    writeFileSync(join(sb.project, 'role-id'), roleId)
    writeFileSync(join(sb.project, 'secret-id'), `${secretId}\n`)
    const auth = 'method: approle, mount: ci-approle, roleIdFile: role-id, secretIdFile: secret-id'
    const r = await run(auth)
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'alice|s3cr3t-pass|k-123|legacy-v1-value')
    assert.equal(server.count('POST auth/ci-approle/login'), 1)
    writeFileSync(join(sb.project, 'secret-id'), 'wrong-secret-id-value')
    const bad = await run(auth)
    assert.equal(bad.code, 6)
    assert.match(bad.stderr, /Vault approle login at auth\/ci-approle\/login was refused: invalid role or secret ID\./)
    assert.doesNotMatch(bad.stderr, /wrong-secret-id-value/)
  })

  it('JWT from tokenFile, verified against the JWKS with bound claims', async () => {
    const jwt = signJwt(
      {
        iss: 'https://ci.example',
        aud: 'vault',
        sub: 'repo:acme/app',
        ref: 'refs/heads/main',
        exp: now() + 600,
        iat: now(),
      },
      privateKey,
    )
    writeFileSync(join(sb.project, 'id-token'), jwt)
    const r = await run('method: jwt, role: ci, tokenFile: id-token')
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'alice|s3cr3t-pass|k-123|legacy-v1-value')
    assert.equal(server.count('POST auth/jwt/login'), 1)
  })

  it('JWT from VAULT_JWT: expired, wrong key or unbound claim are refused (exit 6)', async () => {
    const base = {iss: 'https://ci.example', aud: 'vault', sub: 'repo:acme/app', ref: 'refs/heads/main', iat: now()}
    const cases: Array<[string, RegExp]> = [
      [signJwt({...base, exp: now() - 3600}, privateKey), /validation failed, token is expired \(exp\)/],
      [signJwt({...base, exp: now() + 600}, other.privateKey), /failed to verify id token signature/],
      [
        signJwt({...base, ref: 'refs/heads/dev', exp: now() + 600}, privateKey),
        /claim "ref" does not match any associated bound claim values/,
      ],
    ]
    for (const [jwt, why] of cases) {
      const r = await run('method: jwt, role: ci', {VAULT_JWT: jwt})
      assert.equal(r.code, 6, r.stderr)
      assert.match(r.stderr, /Vault jwt login at auth\/jwt\/login \(role ci\) was refused: error validating/)
      assert.match(r.stderr, why)
      assert.ok(!r.stderr.includes(jwt))
    }
  })

  it('Kubernetes with the service-account token file and a non-default mount; an unbound account is exit 6', async () => {
    writeFileSync(join(sb.project, 'sa-token'), 'sa-token-app')
    const r = await run('method: kubernetes, role: app, mount: k8s-prod, tokenFile: sa-token')
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'alice|s3cr3t-pass|k-123|legacy-v1-value')
    writeFileSync(join(sb.project, 'sa-token'), 'sa-token-other')
    const bad = await run('method: kubernetes, role: app, mount: k8s-prod, tokenFile: sa-token')
    assert.equal(bad.code, 6)
    assert.match(
      bad.stderr,
      /Vault kubernetes login at auth\/k8s-prod\/login \(role app\) was refused: service account name not authorized\./,
    )
  })
})

describe('vault over TLS: CA per run, mutual TLS', () => {
  const sb = new Sandbox()
  let pki: TestPki
  let mtls: VaultTestServer
  let tls: VaultTestServer

  before(async () => {
    pki = createPki()
    mtls = await VaultTestServer.start({pki, requireClientCert: true})
    tls = await VaultTestServer.start({pki})
    for (const s of [mtls, tls]) seed(s)
    writeFileSync(join(sb.project, 'secrets.yaml'), 'providers:\n  vault: {type: vault}\n')
  })
  after(async () => {
    await mtls.close()
    await tls.close()
    pki.cleanup()
    sb.cleanup()
  })

  const get = (server: VaultTestServer, extra: Record<string, string | undefined>) =>
    sb.run(['get', 'vault://secret/app#db_pass'], {
      env: {VAULT_ADDR: server.url, VAULT_TOKEN: server.rootToken, ...extra},
    })

  it('mutual TLS with VAULT_CACERT, VAULT_CLIENT_CERT and VAULT_CLIENT_KEY', async () => {
    const r = await get(mtls, {
      VAULT_CACERT: pki.ca.certFile,
      VAULT_CLIENT_CERT: pki.client.certFile,
      VAULT_CLIENT_KEY: pki.client.keyFile,
    })
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 's3cr3t-pass')
  })

  it('without a client certificate, or with one from another CA, the server refuses (exit 6)', async () => {
    const none = await get(mtls, {VAULT_CACERT: pki.ca.certFile})
    assert.equal(none.code, 6, none.stderr)
    assert.match(none.stderr, /the server did not accept a client certificate \(tlsv13 alert certificate required\)\./)
    assert.match(none.stderr, /set VAULT_CLIENT_CERT and VAULT_CLIENT_KEY/)
    const foreign = await get(mtls, {
      VAULT_CACERT: pki.ca.certFile,
      VAULT_CLIENT_CERT: pki.otherClient.certFile,
      VAULT_CLIENT_KEY: pki.otherClient.keyFile,
    })
    assert.equal(foreign.code, 6, foreign.stderr)
    assert.match(
      foreign.stderr,
      /the server did not accept a client certificate \(the server closed the connection right after the TLS handshake\)\./,
    )
  })

  it('a server certificate from a CA that is not trusted is a TLS error naming the problem (exit 9)', async () => {
    const wrong = await get(tls, {VAULT_CACERT: pki.otherCa.certFile})
    assert.equal(wrong.code, 9, wrong.stderr)
    assert.match(
      wrong.stderr,
      /TLS error talking to Vault at https:\/\/127\.0\.0\.1:\d+: the server certificate (is signed by|chains to) a CA that is not trusted \([A-Z_]+\)\./,
    )
    const name = await get(tls, {VAULT_CACERT: pki.ca.certFile, VAULT_TLS_SERVER_NAME: 'other.test'})
    assert.equal(name.code, 9)
    assert.match(name.stderr, /the server certificate does not name this host \(ERR_TLS_CERT_ALTNAME_INVALID\)/)
    const capath = await get(tls, {VAULT_CAPATH: pki.dir, VAULT_TLS_SERVER_NAME: 'vault.test'})
    assert.equal(capath.code, 0, capath.stderr)
  })

  it('VAULT_SKIP_VERIFY works only with a loud warning', async () => {
    const r = await get(tls, {VAULT_SKIP_VERIFY: '1'})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 's3cr3t-pass')
    assert.match(
      r.stderr,
      /^Warning: VAULT_SKIP_VERIFY is set: the TLS certificate of Vault at https:\/\/127\.0\.0\.1:\d+ is NOT verified/,
    )
  })
})
