import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {Sandbox} from '../helpers/cli.js'
import {AzureTestServer} from '../servers/azure/server.js'
import {rotateArgs, rotationSuite} from '../suites/rotation.js'

const APP = '55555555-5555-5555-5555-555555555555'
const APP_SECRET = 'rotate-client-secret-value'

describe('rotate on Azure Key Vault (test server)', () => {
  const sb = new Sandbox()
  let kv: AzureTestServer
  let round = 0
  const current = {A: '', B: ''}
  before(async () => {
    kv = await AzureTestServer.start()
    kv.addIdentity({clientId: APP, secret: APP_SECRET, access: 'all'})
  })
  after(async () => {
    await kv.close()
    sb.cleanup()
  })
  rotationSuite(() => ({
    sb,
    env: {
      NODE_EXTRA_CA_CERTS: kv.caFile,
      AZURE_TENANT_ID: kv.tenantId,
      AZURE_CLIENT_ID: APP,
      AZURE_CLIENT_SECRET: APP_SECRET,
    },
    config: `providers:\n  azure:\n    type: azure\n    vaultUrl: ${kv.url}\n    authorityHost: ${kv.authorityHost}\n    disableChallengeResourceVerification: true\n    auth: {method: client-secret}\nenv:\n  A_VAR: {{REF}}\n  B_VAR: {{REF2}}\n`,
    async seed(name, value) {
      current[name] = `rot-${name.toLowerCase()}-${++round}`
      kv.seed(current[name], value)
      return `azure://${current[name]}`
    },
    async pendingLeft(name) {
      const v = kv.latest(`${current[name]}-pending`)
      return v !== undefined && v.enabled
    },
  }))

  describe('Azure specifics', () => {
    const env = () => ({
      NODE_EXTRA_CA_CERTS: kv.caFile,
      AZURE_TENANT_ID: kv.tenantId,
      AZURE_CLIENT_ID: APP,
      AZURE_CLIENT_SECRET: APP_SECRET,
    })
    // rotate needs --yes without a terminal, and --generate for a secret with no rotate.generate (issue 16).
    const runner = sb.runner(env)
    const run: typeof runner = (args, o) => runner(rotateArgs(args), o)
    before(() =>
      writeFileSync(
        join(sb.project, 'secrets.yaml'),
        `providers:\n  azure:\n    type: azure\n    vaultUrl: ${kv.url}\n    authorityHost: ${kv.authorityHost}\n    disableChallengeResourceVerification: true\n    auth: {method: client-secret}\n`,
      ),
    )

    it('the staging secret holds the pending value enabled, is disabled after promotion, and list does not show it; tags are kept', async () => {
      kv.seed('rot-tags', 'CANARY-azure-tags-44', {tags: {owner: 'payments'}, contentType: 'text/plain'})
      const r = await run([
        'rotate',
        'azure://rot-tags',
        '--verify-cmd',
        'test "$(printf %s "$ROT_TAGS" | wc -c)" -eq 32',
        '--json',
      ])
      assert.equal(r.code, 0, r.stderr)
      const staging = kv.latest('rot-tags-pending')!
      assert.equal(staging.enabled, false)
      assert.deepEqual(staging.tags, {
        'managed-by': 'secrets',
        'secrets-rotation-of': 'rot-tags',
        'secrets-rotation': 'promoted',
        'secrets-rotation-base': JSON.parse(r.stdout).rotations[0].oldVersion,
      })
      const current = kv.latest('rot-tags')!
      assert.deepEqual(
        [current.tags, current.contentType, current.value],
        [{owner: 'payments'}, 'text/plain', staging.value],
      )
      const list = await run(['list', 'azure', '--json'])
      assert.equal(list.code, 0, list.stderr)
      const names = JSON.parse(list.stdout).secrets.map((x: {name: string}) => x.name)
      assert.ok(names.includes('rot-tags') && !names.includes('rot-tags-pending'), names.join(','))
    })

    it('a secret named like a staging secret but not one is refused (CONFLICT), nothing written', async () => {
      kv.seed('rot-clash', 'CANARY-clash-55')
      kv.seed('rot-clash-pending', 'someone-elses-secret')
      const r = await run(['rotate', 'azure://rot-clash'])
      assert.equal(r.code, 11, r.stderr)
      assert.match(
        r.stderr,
        /the secret rot-clash-pending, where its pending value would wait, exists and is not a staging secret of rot-clash/,
      )
      assert.equal(kv.latest('rot-clash')!.value, 'CANARY-clash-55')
      assert.equal(kv.latest('rot-clash-pending')!.value, 'someone-elses-secret')
    })
  })
})
