import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {after, before, describe, it} from 'node:test'

import {ClientSecretCredential} from '@azure/identity'
import {CryptographyClient, KeyClient} from '@azure/keyvault-keys'

import {AzureKeyWrapper} from '../../../src/providers/azure/keys.js'
import {SecretsError} from '../../../src/errors.js'
import {AzureTestServer} from '../../servers/azure/server.js'

const APP = '99999999-9999-9999-9999-999999999999'
const APP_SECRET = 'keys-protocol-client-secret'

/** The keys subset of the test vault, driven by the real @azure/keyvault-keys clients over HTTPS. */
describe("azure keys: the test vault speaks Key Vault's keys protocol to the real SDK", () => {
  let kv: AzureTestServer
  let credential: ClientSecretCredential
  const options = {disableChallengeResourceVerification: true, retryOptions: {maxRetries: 0}}
  let restoreTls = () => {}

  before(async () => {
    kv = await AzureTestServer.start()
    kv.addIdentity({clientId: APP, secret: APP_SECRET, access: 'all'})
    credential = new ClientSecretCredential(kv.tenantId, APP, APP_SECRET, {
      authorityHost: kv.authorityHost,
      disableInstanceDiscovery: true,
      additionallyAllowedTenants: ['*'],
    })
  })
  after(async () => {
    restoreTls()
    await kv.close()
  })

  // Node reads NODE_EXTRA_CA_CERTS only at start-up, and this run's CA is made after it: trust it in
  // every TLS context of this test process instead (verification stays on).
  before(async () => {
    const tls = (await import('node:tls')).default
    const original = tls.createSecureContext
    tls.createSecureContext = (opts?: Parameters<typeof original>[0]) => {
      const ctx = original(opts)
      ctx.context.addCACert(kv.tls.caPem)
      return ctx
    }
    restoreTls = () => {
      tls.createSecureContext = original
    }
  })

  it('createKey returns an RSA key whose public JWK matches the private key that unwraps', async () => {
    const keys = new KeyClient(kv.url, credential, options)
    const key = await keys.createRsaKey('protocol-key', {keySize: 2048, keyOps: ['wrapKey', 'unwrapKey']})
    assert.equal(key.keyType, 'RSA')
    assert.deepEqual(key.keyOperations, ['wrapKey', 'unwrapKey'])
    assert.match(key.id ?? '', new RegExp(`^${kv.url}/keys/protocol-key/[0-9a-f]{32}$`))
    const fetched = await keys.getKey('protocol-key')
    assert.equal(fetched.id, key.id)

    const plain = randomBytes(32)
    const crypto = new CryptographyClient(key.id!, credential, options)
    // RSA-OAEP (SHA-1) wraps locally with the public JWK; the vault must unwrap it with its private key.
    const local = await crypto.wrapKey('RSA-OAEP', plain)
    assert.deepEqual(Buffer.from((await crypto.unwrapKey('RSA-OAEP', local.result)).result), plain)
    // RSA-OAEP-256 is done by the vault both ways.
    const remote = await crypto.wrapKey('RSA-OAEP-256', plain)
    assert.equal(remote.result.length, 256)
    assert.deepEqual(Buffer.from((await crypto.unwrapKey('RSA-OAEP-256', remote.result)).result), plain)
    assert.ok(
      kv.counters.log.includes(`POST /keys/protocol-key/${key.properties.version}/unwrapkey`),
      kv.counters.log.join('\n'),
    )
  })

  it("errors have Key Vault's shapes: 404 KeyNotFound, 400 for a ciphertext the key cannot unwrap", async () => {
    const keys = new KeyClient(kv.url, credential, options)
    await assert.rejects(
      keys.getKey('no-such-key'),
      (e: {statusCode?: number; code?: string}) => e.statusCode === 404 && e.code === 'KeyNotFound',
    )
    kv.createKey('other-key')
    const crypto = new CryptographyClient(`${kv.url}/keys/other-key`, credential, options)
    await assert.rejects(
      crypto.unwrapKey('RSA-OAEP-256', randomBytes(256)),
      (e: {statusCode?: number; code?: string}) => e.statusCode === 400 && e.code === 'BadParameter',
    )
  })

  it("AzureKeyWrapper round-trips a data key and maps the vault's errors into the error tree", async () => {
    const settings = {
      vaultUrl: kv.url,
      authorityHost: kv.authorityHost,
      disableChallengeResourceVerification: true,
      auth: {method: 'client-secret'},
    }
    const env = {AZURE_TENANT_ID: kv.tenantId, AZURE_CLIENT_ID: APP, AZURE_CLIENT_SECRET: APP_SECRET}
    const version = kv.createKey('wrapper-key')
    const host = kv.url.slice('https://'.length)
    const wrapper = new AzureKeyWrapper(`azurekv://${host}/wrapper-key`, env, settings)
    const dataKey = randomBytes(32)
    const wrapped = await wrapper.wrap(dataKey)
    assert.ok(wrapped.startsWith(`${version}:`), wrapped)
    assert.ok(!wrapped.includes(dataKey.toString('base64')))
    assert.deepEqual(await wrapper.unwrap(wrapped), dataKey)
    // A pinned version wraps and unwraps with that version, also when a newer one exists.
    kv.createKey('wrapper-key')
    const pinned = new AzureKeyWrapper(`azurekv://${host}/wrapper-key/${version}`, env, settings)
    assert.ok((await pinned.wrap(dataKey)).startsWith(`${version}:`))

    await assert.rejects(
      wrapper.unwrap('not the format'),
      (e: unknown) => e instanceof SecretsError && e.code === 'INTEGRITY',
    )
    const missing = new AzureKeyWrapper(`azurekv://${host}/wrapper-key/0123456789abcdef0123456789abcdef`, env, settings)
    await assert.rejects(
      missing.wrap(dataKey),
      (e: unknown) =>
        e instanceof SecretsError && e.code === 'NOT_FOUND' && /The key "wrapper-key" in vault/.test(e.message),
    )
    // A vault name resolves through the provider's `vaults:` list.
    const named = new AzureKeyWrapper('azurekv://team-kv/wrapper-key', env, {
      ...settings,
      vaults: [`team-kv=${kv.url}`],
    })
    assert.equal(named.vaultUrl, kv.url)
    assert.equal(new AzureKeyWrapper('azurekv://acme-kv/k', env, {}).vaultUrl, 'https://acme-kv.vault.azure.net')
    // Another host than the provider names keeps the challenge check: no token goes to it.
    const port = new URL(kv.url).port
    const elsewhere = new AzureKeyWrapper(`azurekv://localhost:${port}/wrapper-key`, env, settings)
    kv.resetCounters()
    await assert.rejects(
      elsewhere.wrap(dataKey),
      (e: unknown) =>
        e instanceof SecretsError &&
        e.code === 'CONFIG_INVALID' &&
        /is not in the domain its sign-in challenge names/.test(e.message),
    )
    assert.equal(kv.counters.tokenRequests, 0)
  })

  it('a `vaults:` entry that is not https is CONFIG_INVALID naming the setting, as for the provider (it was INTERNAL at the first wrap)', () => {
    const env = {AZURE_TENANT_ID: 't', AZURE_CLIENT_ID: 'c', AZURE_CLIENT_SECRET: 's'}
    assert.throws(
      () => new AzureKeyWrapper('azurekv://team-kv/k', env, {vaults: ['team-kv=http://127.0.0.1:8443']}, 'kv'),
      (e: unknown) =>
        e instanceof SecretsError &&
        e.code === 'CONFIG_INVALID' &&
        e.message === 'providers.kv.vaults: http://127.0.0.1:8443 must use https:// (Key Vault only talks TLS).',
    )
    assert.throws(
      () => new AzureKeyWrapper('azurekv://team-kv/k', env, {vaults: ['https://team-kv.example']}, 'kv'),
      (e: unknown) =>
        e instanceof SecretsError &&
        e.code === 'CONFIG_INVALID' &&
        e.message === 'providers.kv.vaults: "https://team-kv.example" must be name=https://url.',
    )
  })
})
