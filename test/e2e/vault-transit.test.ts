import assert from 'node:assert/strict'
import {readFileSync, renameSync} from 'node:fs'
import {after, before, describe, it} from 'node:test'

import {Sandbox, type RunResult} from '../helpers/cli.js'
import {VaultTestServer} from '../servers/vault/server.js'

const CANARY = 'CANARY-transit-7a3c-do-not-print'

describe('Vault transit as a recipient of the local store', () => {
  const sb = new Sandbox()
  let server: VaultTestServer
  let token: string
  let run: (args: string[], o?: {input?: string; env?: Record<string, string | undefined>}) => Promise<RunResult>
  const hideIdentity = () => renameSync(sb.identityFile, `${sb.identityFile}.away`)
  const restoreIdentity = () => renameSync(`${sb.identityFile}.away`, sb.identityFile)

  before(async () => {
    server = await VaultTestServer.start()
    server.mountTransit()
    server.policy('unlock', {'transit/encrypt/store': ['update'], 'transit/decrypt/store': ['update']})
    server.policy('encrypt-only', {'transit/encrypt/store': ['update']})
    token = server.createToken(['unlock'])
    run = (args, o = {}) => sb.run(args, {input: o.input, env: {VAULT_ADDR: server.url, VAULT_TOKEN: token, ...o.env}})
    await sb.init()
    assert.equal((await run(['set', 'DB_PASSWORD'], {input: CANARY})).code, 0)
  })
  after(async () => {
    await server.close()
    sb.cleanup()
  })

  it('key add vault-transit://transit/store wraps the data key through transit/encrypt', async () => {
    const r = await run(['key', 'add', 'vault-transit://transit/store', '--label', 'ci'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stderr, `✓ added vault-transit://transit/store to ${sb.storeFile}\n`)
    assert.equal(server.count('POST transit/encrypt/store'), 1)
    const store = JSON.parse(readFileSync(sb.storeFile, 'utf8')) as {
      recipients: Array<{type: string; recipient?: string; wrapped?: string; label?: string}>
    }
    const entry = store.recipients.find((x) => x.type === 'vault-transit')
    assert.deepEqual([entry?.recipient, entry?.label], ['vault-transit://transit/store', 'ci'])
    assert.match(entry?.wrapped ?? '', /^vault:v1:/)
  })

  it('unlocks the store with no age identity (CI), through transit/decrypt', async () => {
    server.resetCounters()
    hideIdentity()
    try {
      const r = await run(['get', 'DB_PASSWORD'])
      assert.deepEqual([r.code, r.stdout, r.stderr], [0, CANARY, ''])
      assert.equal(server.count('POST transit/decrypt/store'), 1)
    } finally {
      restoreIdentity()
    }
  })

  it('a token without decrypt permission is PERMISSION_DENIED (exit 6) naming the transit path', async () => {
    hideIdentity()
    try {
      const r = await run(['get', 'DB_PASSWORD'], {env: {VAULT_TOKEN: server.createToken(['encrypt-only'])}})
      assert.equal(r.code, 6, r.stderr)
      assert.equal(r.stdout, '')
      assert.equal(
        r.stderr,
        'Error [PERMISSION_DENIED]: Vault denied decrypt on transit/decrypt/store (vault-transit://transit/store): permission denied.\n' +
          '  → Ask your Vault admin for a policy granting "update" on this path, e.g. path "transit/decrypt/store" { capabilities = ["update"] }.\n' +
          '  → Check that the token is still valid: `vault token lookup`, or log in again.\n',
      )
      assert.ok(!r.stderr.includes(CANARY))
    } finally {
      restoreIdentity()
    }
  })
})
