import assert from 'node:assert/strict'
import {chmodSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {after, before, describe, it} from 'node:test'

import {Sandbox} from '../helpers/cli.js'
import {VaultTestServer} from '../servers/vault/server.js'

const CANARY = 'CANARY-fallback-51c2-never-print'
const PRINT = ['sh', '-c', 'printf %s "$A|$B"']
const CONFIG =
  'providers:\n  local: {type: local, path: .secrets/store.json, inject: false}\n  vault: {type: vault, retries: 1}\nenv:\n  A: vault://secret/app#a\n  B: vault://secret/app#b\n'

describe('offline fallback cache (--fallback, --max-age, --offline, cache:) against the Vault test server', () => {
  const sb = new Sandbox()
  let server: VaultTestServer
  let url: string
  const cacheDir = () => join(sb.home, '.cache', 'secrets')
  const cacheFiles = () => readdirSync(cacheDir()).filter((f) => /^cache-[0-9a-f]{16}\.json$/.test(f))
  const run = sb.runner(() => ({VAULT_ADDR: url, VAULT_TOKEN: server.rootToken}))
  const audit = () =>
    sb
      .auditText()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))

  before(async () => {
    server = await VaultTestServer.start()
    url = server.url
    server.put('secret', 'app', {a: 'alpha', b: CANARY})
    await sb.init()
    writeFileSync(join(sb.project, 'secrets.yaml'), CONFIG)
  })
  after(async () => {
    await server.close().catch(() => undefined)
    sb.cleanup()
  })

  it('without a flag nothing is cached; --fallback caches what it reads in an encrypted 0600 file', async () => {
    const plain = await run(['exec', '--no-redact', '--', ...PRINT])
    assert.deepEqual([plain.code, plain.stdout], [0, `alpha|${CANARY}`], plain.stderr)
    assert.throws(() => statSync(cacheDir()), /ENOENT/)
    const r = await run(['exec', '--fallback', '--no-redact', '--', ...PRINT])
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, `alpha|${CANARY}`, ''])
    const [file] = cacheFiles()
    assert.ok(file, 'no cache file')
    assert.equal(statSync(join(cacheDir(), file)).mode & 0o777, 0o600)
    assert.equal(statSync(cacheDir()).mode & 0o777, 0o700)
    const text = readFileSync(join(cacheDir(), file), 'utf8')
    const doc = JSON.parse(text)
    assert.equal(doc.format, 'secrets-store/1')
    assert.equal(Object.keys(doc.secrets).length, 2)
    assert.ok(
      !text.includes(CANARY) && !text.includes('alpha') && !text.includes('secret/app'),
      'the cache shows a value or a reference',
    )
  })

  it('--offline opens no connection: the values come from the cache, and stderr and the audit log say how old', async () => {
    server.resetCounters()
    const r = await run(['exec', '--offline', '--no-redact', '--', ...PRINT])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, `alpha|${CANARY}`)
    assert.equal(server.requests.length, 0, 'the Vault test server was contacted')
    const lines = r.stderr.trim().split('\n')
    assert.equal(lines.length, 2)
    assert.match(
      lines[0],
      /^Warning: A \(vault:\/\/secret\/app#a\) came from the offline cache: fetched \d{4}-\d\d-\d\dT[\d:.]+Z, \d+s ago \(--offline\)\.$/,
    )
    assert.match(lines[1], /^Warning: B \(vault:\/\/secret\/app#b\) came from the offline cache/)
    const reads = audit().filter((e) => e.command === 'exec' && e.source === 'cache')
    assert.deepEqual(
      reads.map((e) => [e.ref, e.outcome, typeof e.fetched, typeof e.ageSeconds]),
      [
        ['vault://secret/app#a', 'ok', 'string', 'number'],
        ['vault://secret/app#b', 'ok', 'string', 'number'],
      ],
    )
    assert.ok(!sb.auditText().includes(CANARY))
    const json = await run(['get', 'vault://secret/app#a', '--offline', '--json'])
    assert.equal(json.code, 0, json.stderr)
    const got = JSON.parse(json.stdout)
    assert.deepEqual(
      [got.value, got.provider, typeof got.cached.fetched, typeof got.cached.ageSeconds],
      ['alpha', 'vault', 'string', 'number'],
    )
    assert.equal(server.requests.length, 0)
  })

  it('only an unreachable provider falls back: a denied read is PERMISSION_DENIED even with a fresh cache', async () => {
    const limited = server.createToken([])
    const r = await run(['exec', '--fallback', '--max-age', '1h', '--', ...PRINT], {env: {VAULT_TOKEN: limited}})
    assert.equal(r.code, 6, r.stderr)
    assert.match(r.stderr, /^Error \[PERMISSION_DENIED\]: Could not resolve 2 of 2 variable\(s\); nothing was used:/)
    assert.ok(!r.stderr.includes('cache'))
  })

  it('5xx after retries falls back to a cache within `cache: {maxAge}` from secrets.yaml', async () => {
    writeFileSync(join(sb.project, 'secrets.yaml'), `${CONFIG}cache: {maxAge: 1h}\n`)
    try {
      server.inject({kind: 'unavailable', times: 100})
      const r = await run(['exec', '--no-redact', '--', ...PRINT])
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stdout, `alpha|${CANARY}`)
      assert.match(
        r.stderr,
        /came from the offline cache: fetched .*, \d+s ago \(provider vault could not be reached\)\./,
      )
    } finally {
      server.faults.clear()
      writeFileSync(join(sb.project, 'secrets.yaml'), CONFIG)
    }
  })

  it('with the server stopped: --max-age 1h runs from the fresh cache; a stale cache and a missing --max-age are refused', async () => {
    await server.close()
    const fresh = await run(['exec', '--fallback', '--max-age', '1h', '--no-redact', '--', ...PRINT])
    assert.equal(fresh.code, 0, fresh.stderr)
    assert.equal(fresh.stdout, `alpha|${CANARY}`)
    assert.match(
      fresh.stderr,
      /^Warning: A \(vault:\/\/secret\/app#a\) came from the offline cache: fetched .*\(provider vault could not be reached\)\.\n/,
    )

    const noAge = await run(['exec', '--fallback', '--', 'sh', '-c', 'echo started'])
    assert.equal(noAge.code, 9)
    assert.equal(noAge.stdout, '')
    assert.match(noAge.stderr, /a cached value from \d+s ago exists, but the cache is used only within a maximum age\./)
    assert.match(noAge.stderr, /→ Pass --max-age \(e\.g\. --max-age 24h\)/)

    await sleep(2100)
    const stale = await run(['exec', '--fallback', '--max-age', '1s', '--', 'sh', '-c', 'echo started'])
    assert.equal(stale.code, 9)
    assert.equal(stale.stdout, '', 'a child started')
    assert.match(
      stale.stderr,
      /^Error \[UNAVAILABLE\]: Could not resolve 2 of 2 variable\(s\); nothing was used:\n {2}A = vault:\/\/secret\/app#a \(provider vault\): \[UNAVAILABLE\] .*; the cached value is \d+s old \(fetched [^)]+\), older than the maximum age of 1s, so it was not used\.\n/,
    )
    assert.ok(!stale.stderr.includes(CANARY))
  })

  it('the cache belongs to one identity, and a cache that others can read is refused', async () => {
    const {generateIdentity} = await import('age-encryption')
    const other = await sb.run(['exec', '--offline', '--', 'true'], {env: {SECRETS_AGE_KEY: await generateIdentity()}})
    assert.equal(other.code, 9, other.stderr)
    assert.match(
      other.stderr,
      /--offline: provider vault was not contacted; the offline cache has no value for vault:\/\/secret\/app#a\./,
    )
    const file = join(cacheDir(), cacheFiles()[0])
    chmodSync(file, 0o644)
    try {
      const r = await run(['exec', '--offline', '--', 'true'])
      assert.equal(r.code, 6)
      assert.match(
        r.stderr,
        /^Error \[INSECURE_PERMISSIONS\]: The offline cache .* is accessible by group or others \(mode 0644\); refusing to use it\./,
      )
    } finally {
      chmodSync(file, 0o600)
    }
  })
})
