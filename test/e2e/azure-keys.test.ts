import assert from 'node:assert/strict'
import {readFileSync, renameSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, afterEach, before, describe, it} from 'node:test'

import {Sandbox, type RunResult} from '../helpers/cli.js'
import {AzureTestServer} from '../servers/azure/server.js'

const APP = '11111111-1111-1111-1111-111111111111'
const APP_SECRET = 'app-client-secret-value-1'
const SECRETS_ONLY = '55555555-5555-5555-5555-555555555555'
const SECRETS_ONLY_SECRET = 'secrets-only-client-secret'
const CANARY = 'CANARY-azurekv-4b7e-do-not-print'

interface Doc {
  recipients: Array<{type: string; recipient?: string; label?: string; wrapped: string}>
}

describe('Azure Key Vault keys as a recipient of the local store (azurekv://)', () => {
  const sb = new Sandbox()
  let kv: AzureTestServer
  let recipient: string
  let firstVersion: string
  let run: (args: string[], o?: {input?: string; env?: Record<string, string | undefined>}) => Promise<RunResult>
  const hideIdentity = () => renameSync(sb.identityFile, `${sb.identityFile}.away`)
  const restoreIdentity = () => renameSync(`${sb.identityFile}.away`, sb.identityFile)
  const doc = () => JSON.parse(readFileSync(sb.storeFile, 'utf8')) as Doc
  const ops = () => kv.counters.log.filter((l) => l.startsWith('POST /keys/'))

  before(async () => {
    kv = await AzureTestServer.start()
    kv.addIdentity({clientId: APP, secret: APP_SECRET, access: 'all'})
    kv.addIdentity({clientId: SECRETS_ONLY, secret: SECRETS_ONLY_SECRET, access: 'all', keys: 'none'})
    firstVersion = kv.createKey('store-key')
    kv.createKey('no-unwrap', {ops: ['wrapKey']})
    // The provider settings the key recipient signs in with: the same as the azure provider's.
    await sb.init()
    writeFileSync(
      join(sb.project, 'secrets.yaml'),
      `providers:\n  local: {type: local, path: .secrets/store.json}\n  azure:\n    type: azure\n    vaultUrl: ${kv.url}\n    authorityHost: ${kv.authorityHost}\n    disableChallengeResourceVerification: true\n    auth: {method: client-secret}\n`,
    )
    recipient = `azurekv://${kv.url.slice('https://'.length)}/store-key`
    const login = {
      NODE_EXTRA_CA_CERTS: kv.caFile,
      AZURE_TENANT_ID: kv.tenantId,
      AZURE_CLIENT_ID: APP,
      AZURE_CLIENT_SECRET: APP_SECRET,
    }
    run = (args, o = {}) => sb.run(args, {input: o.input, env: {...login, ...o.env}})
    assert.equal((await run(['set', 'DB_PASSWORD'], {input: CANARY})).code, 0)
  })
  afterEach(() => {
    kv.faults.clear()
    kv.resetCounters()
  })
  after(async () => {
    await kv.close()
    sb.cleanup()
  })

  it('key add azurekv://<host>/<key> wraps the data key with wrapKey (RSA-OAEP-256) and records the key version', async () => {
    const r = await run(['key', 'add', recipient, '--label', 'ci'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stderr, `✓ added ${recipient} to ${sb.storeFile}\n`)
    // No version in the recipient: the SDK asks for the latest (an empty version segment).
    assert.deepEqual(ops(), ['POST /keys/store-key//wrapkey'])
    const entry = doc().recipients.find((x) => x.type === 'azurekv')
    assert.deepEqual([entry?.recipient, entry?.label], [recipient, 'ci'])
    // `<version>:<base64 of a 2048-bit RSA-OAEP block>`: the version that wrapped it, so a rotated key still unwraps.
    assert.match(entry!.wrapped, new RegExp(`^${firstVersion}:[A-Za-z0-9+/]{342}==$`))
    const list = await run(['key', 'list'])
    assert.match(list.stdout, new RegExp(`\\nazurekv +${recipient.replaceAll('.', '\\.')} +ci +\\d{4}-`))
  })

  it('unlocks the store with no age identity (CI) through unwrapKey, also after the key got a new version', async () => {
    kv.createKey('store-key')
    hideIdentity()
    try {
      const r = await run(['get', 'DB_PASSWORD'])
      assert.deepEqual([r.code, r.stdout, r.stderr], [0, CANARY, ''])
      assert.deepEqual(ops(), [`POST /keys/store-key/${firstVersion}/unwrapkey`])
    } finally {
      restoreIdentity()
    }
  })

  it('an identity without key permissions is PERMISSION_DENIED (exit 6) naming the key, the vault and the role', async () => {
    hideIdentity()
    try {
      const r = await run(['get', 'DB_PASSWORD'], {
        env: {AZURE_CLIENT_ID: SECRETS_ONLY, AZURE_CLIENT_SECRET: SECRETS_ONLY_SECRET},
      })
      assert.equal(r.code, 6, r.stderr)
      assert.equal(r.stdout, '')
      assert.equal(
        r.stderr,
        `Error [PERMISSION_DENIED]: Access denied to the key "store-key" in vault ${kv.url} (client-secret for client ${SECRETS_ONLY} in tenant ${kv.tenantId}): the identity lacks permission to unwrap (ForbiddenByRbac).\n` +
          '  → Grant this identity the "Key Vault Crypto Service Encryption User" role (or an access policy with key permissions get and unwrapKey) on the vault or the key.\n',
      )
      assert.ok(!r.stderr.includes(CANARY) && !r.stderr.includes(SECRETS_ONLY_SECRET))
    } finally {
      restoreIdentity()
    }
  })

  it('a wrong client secret fails at the token endpoint (exit 6) and names the recipient; never the secret', async () => {
    hideIdentity()
    try {
      const r = await run(['get', 'DB_PASSWORD'], {env: {AZURE_CLIENT_SECRET: 'wrong-guess-123'}})
      assert.equal(r.code, 6, r.stderr)
      assert.match(
        r.stderr,
        /^Error \[PERMISSION_DENIED\]: Azure sign-in for https:\/\/127\.0\.0\.1:\d+ failed \(client-secret for client 1{8}-.*AADSTS7000215: Invalid client secret provided\./,
      )
      assert.ok(!r.stderr.includes('wrong-guess-123'))
    } finally {
      restoreIdentity()
    }
  })

  it('a disabled key is refused (exit 6), saying so', async () => {
    kv.setKeyEnabled('store-key', false)
    hideIdentity()
    try {
      const r = await run(['get', 'DB_PASSWORD'])
      assert.equal(r.code, 6, r.stderr)
      assert.match(
        r.stderr,
        /^Error \[PERMISSION_DENIED\]: The key "store-key" in vault https:\/\/127\.0\.0\.1:\d+ is disabled, so it cannot unwrap the store's data key\.\n {2}→ Enable it \(`az keyvault key set-attributes --enabled true`\)/,
      )
    } finally {
      restoreIdentity()
      kv.setKeyEnabled('store-key', true)
    }
  })

  it('a recipient on a host the Azure provider does not name keeps the challenge check: CONFIG_INVALID (exit 3), no token sent', async () => {
    // Same server, another name (its certificate is valid for localhost too): as if an edited store entry pointed elsewhere.
    const elsewhere = `azurekv://localhost:${new URL(kv.url).port}/store-key`
    const r = await run(['key', 'add', elsewhere])
    assert.equal(r.code, 3, r.stderr)
    assert.equal(
      r.stderr,
      `Error [CONFIG_INVALID]: https://localhost:${new URL(kv.url).port} is not in the domain its sign-in challenge names, so secrets does not send it a token.\n` +
        '  → For a private endpoint or another host you trust, set `disableChallengeResourceVerification: true` on the Azure provider, and name the host in its `vaultUrl` or `vaults:` (azurekv:// recipients skip the check only for those).\n',
    )
    assert.equal(kv.counters.tokenRequests, 0)
    assert.equal(kv.counters.challenges, 1)
  })

  it('a key that does not exist is NOT_FOUND (exit 5) at key add, and nothing is added', async () => {
    const before = readFileSync(sb.storeFile, 'utf8')
    const r = await run(['key', 'add', recipient.replace('store-key', 'missing-key')])
    assert.equal(r.code, 5, r.stderr)
    assert.match(
      r.stderr,
      /^Error \[NOT_FOUND\]: The key "missing-key" in vault https:\/\/127\.0\.0\.1:\d+ does not exist \(KeyNotFound\)\.\n {2}→ Check the key name and version/,
    )
    assert.equal(readFileSync(sb.storeFile, 'utf8'), before)
  })

  it('a key whose key_ops exclude unwrapKey is refused with a message saying so', async () => {
    const other = recipient.replace('store-key', 'no-unwrap')
    assert.equal((await run(['key', 'add', other])).code, 0)
    const r = await run(['key', 'remove', recipient, '--yes'])
    assert.equal(r.code, 0, r.stderr)
    hideIdentity()
    try {
      const get = await run(['get', 'DB_PASSWORD'])
      assert.equal(get.code, 6, get.stderr)
      assert.match(get.stderr, /The Key Vault key "no-unwrap" in vault \S+ does not allow unwrapKey \(its key_ops\)/)
    } finally {
      restoreIdentity()
    }
    assert.equal((await run(['key', 'add', recipient, '--label', 'ci'])).code, 0)
    assert.equal((await run(['key', 'remove', other, '--yes'])).code, 0)
  })

  it('removing the age recipient re-wraps the new data key for the Key Vault key; a tampered entry is INTEGRITY (exit 8)', async () => {
    const mine = /# public key: (age1\w+)/.exec(readFileSync(sb.identityFile, 'utf8'))![1]
    const r = await run(['key', 'remove', mine, '--yes'])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(
      doc().recipients.map((x) => x.type),
      ['azurekv'],
    )
    hideIdentity()
    try {
      const get = await run(['get', 'DB_PASSWORD'])
      assert.deepEqual([get.code, get.stdout], [0, CANARY], get.stderr)
      const d = doc()
      const [version, b64] = d.recipients[0].wrapped.split(':')
      const bytes = Buffer.from(b64, 'base64')
      bytes[10] ^= 1
      d.recipients[0].wrapped = `${version}:${bytes.toString('base64')}`
      writeFileSync(sb.storeFile, JSON.stringify(d))
      const tampered = await run(['get', 'DB_PASSWORD'])
      assert.equal(tampered.code, 8, tampered.stderr)
      assert.match(
        tampered.stderr,
        /^Error \[INTEGRITY\]: The store's data key wrapped for azurekv:\/\/\S+\/store-key does not unwrap with that Key Vault key/,
      )
      assert.ok(!tampered.stderr.includes(CANARY))
    } finally {
      restoreIdentity()
    }
  })

  it('a malformed azurekv:// recipient is refused (exit 2) before any call', async () => {
    for (const bad of [
      'azurekv://acme-kv',
      'azurekv://acme-kv/key_with_underscore',
      'azurekv://a/b',
      'azurekv://acme-kv/k/v/extra',
    ]) {
      const r = await run(['key', 'add', bad])
      assert.equal(r.code, 2, `${bad}: ${r.stderr}`)
      assert.match(r.stderr, /use azurekv:\/\/<vault-name or host>\/<key-name>\[\/<version>\]/)
    }
    assert.equal(kv.counters.requests, 0)
  })
})
