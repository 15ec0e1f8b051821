import assert from 'node:assert/strict'
import {chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, beforeEach, describe, it} from 'node:test'

import {Sandbox} from '../helpers/cli.js'
import {AzureTestServer} from '../servers/azure/server.js'

const SYSTEM_MI = '66666666-6666-6666-6666-666666666666'
const USER_MI = '77777777-7777-7777-7777-777777777777'
const CLI_USER = '88888888-8888-8888-8888-888888888888'
const IDENTITY_HEADER = 'identity-header-secret-0f3a'

describe('azure sign-in with a managed identity and with the Azure CLI', () => {
  const sb = new Sandbox()
  let kv: AzureTestServer
  let mi: {IDENTITY_ENDPOINT: string; IDENTITY_HEADER: string}
  const bin = join(sb.root, 'fake-bin')
  const azArgs = join(sb.root, 'az-args.txt')
  const azOutput = join(sb.root, 'az-output.json')

  const writeConfig = (method: string) =>
    writeFileSync(
      join(sb.project, 'secrets.yaml'),
      `providers:\n  azure:\n    type: azure\n    vaultUrl: ${kv.url}\n    authorityHost: ${kv.authorityHost}\n    disableChallengeResourceVerification: true\n    auth: {method: ${method}}\n`,
    )

  /** A fake `az` first on PATH: records its arguments, prints what the test put in az-output.json, or fails like a signed-out CLI. */
  const fakeAz = (mode: 'ok' | 'signed-out') => {
    mkdirSync(bin, {recursive: true})
    const body =
      mode === 'ok'
        ? `printf '%s\\n' "$*" >> '${azArgs}'\ncat '${azOutput}'\n`
        : `printf '%s\\n' "$*" >> '${azArgs}'\necho "ERROR: Please run 'az login' to setup account." >&2\nexit 1\n`
    writeFileSync(join(bin, 'az'), `#!/bin/sh\n${body}`)
    chmodSync(join(bin, 'az'), 0o755)
    rmSync(azArgs, {force: true})
  }

  /** What `az account get-access-token --output json` prints, with a token the test vault accepts. */
  const cliToken = (clientId: string) => {
    const {token, expiresOn} = kv.issueToken(clientId)
    const local = new Date(expiresOn * 1000).toISOString().replace('T', ' ').replace('Z', '000')
    writeFileSync(
      azOutput,
      JSON.stringify(
        {
          accessToken: token,
          expiresOn: local,
          expires_on: expiresOn,
          subscription: '00000000-aaaa-bbbb-cccc-000000000000',
          tenant: kv.tenantId,
          tokenType: 'Bearer',
        },
        null,
        2,
      ),
    )
  }

  before(async () => {
    kv = await AzureTestServer.start()
    kv.addIdentity({clientId: SYSTEM_MI, access: 'all'})
    kv.addIdentity({clientId: USER_MI, managed: true, access: ['db-password']})
    kv.addIdentity({clientId: CLI_USER, access: ['db-password']})
    kv.seed('db-password', 'pw-via-platform-identity')
    kv.seed('other-secret', 'CANARY-other-not-for-user-mi')
    mi = await kv.startManagedIdentityEndpoint(IDENTITY_HEADER, SYSTEM_MI)
  })
  after(async () => {
    sb.cleanup()
    await kv.close()
  })
  beforeEach(() => kv.resetCounters())

  it('managed identity (system-assigned): a token from IDENTITY_ENDPOINT with IDENTITY_HEADER, then the value', async () => {
    writeConfig('managed-identity')
    const r = await sb.run(['get', 'azure://db-password'], {env: {NODE_EXTRA_CA_CERTS: kv.caFile, ...mi}})
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'pw-via-platform-identity', ''])
    assert.deepEqual(kv.counters.managedIdentity, ['system'])
    assert.equal(kv.counters.challenges, 1)
  })

  it('managed identity (user-assigned by AZURE_CLIENT_ID): the request names client_id; its access is its own', async () => {
    writeConfig('managed-identity')
    const env = {NODE_EXTRA_CA_CERTS: kv.caFile, ...mi, AZURE_CLIENT_ID: USER_MI}
    const r = await sb.run(['get', 'azure://db-password'], {env})
    assert.deepEqual([r.code, r.stdout], [0, 'pw-via-platform-identity'], r.stderr)
    assert.deepEqual(kv.counters.managedIdentity, [USER_MI])
    const denied = await sb.run(['get', 'azure://other-secret'], {env})
    assert.equal(denied.code, 6, denied.stderr)
    assert.match(
      denied.stderr,
      new RegExp(
        `^Error \\[PERMISSION_DENIED\\]: Access denied to the secret "other-secret" in vault \\S+ \\(managed-identity for client ${USER_MI}\\)`,
      ),
    )
    assert.ok(!denied.stderr.includes('CANARY-other'))
  })

  it('DefaultAzureCredential finds the managed identity when no other credential is configured', async () => {
    writeConfig('default')
    const r = await sb.run(['get', 'azure://db-password'], {env: {NODE_EXTRA_CA_CERTS: kv.caFile, ...mi}})
    assert.deepEqual([r.code, r.stdout], [0, 'pw-via-platform-identity'], r.stderr)
    assert.deepEqual(kv.counters.managedIdentity, ['system'])
  })

  it('a user-assigned identity not assigned to this resource fails with a clear message and never prints the identity header', async () => {
    writeConfig('managed-identity')
    const r = await sb.run(['get', 'azure://db-password'], {
      env: {NODE_EXTRA_CA_CERTS: kv.caFile, ...mi, AZURE_CLIENT_ID: CLI_USER},
    })
    assert.equal(r.code, 7, r.stderr)
    assert.equal(
      r.stderr,
      `Error [IDENTITY_MISSING]: No Azure credential is available to sign in to ${kv.url} (managed-identity for client ${CLI_USER}): No user-assigned managed identity with client id ${CLI_USER} is assigned to this resource.\n` +
        '  → Run where a managed identity is available (VM, App Service, Functions, AKS ...); for a user-assigned one, set its client id in AZURE_CLIENT_ID or `clientId`, and check it is assigned to this resource.\n',
    )
    assert.equal(r.stdout, '')
    assert.ok(!r.stderr.includes(IDENTITY_HEADER))
    assert.deepEqual(kv.counters.managedIdentity.slice(0, 1), [CLI_USER])
    assert.equal(kv.counters.vaultRequests, 1)
  })

  it('Azure CLI: runs `az account get-access-token --output json --resource <vault resource> --tenant <id>` and uses its token', async () => {
    writeConfig('azure-cli')
    fakeAz('ok')
    cliToken(CLI_USER)
    const r = await sb.run(['get', 'azure://db-password'], {
      env: {NODE_EXTRA_CA_CERTS: kv.caFile, PATH: `${bin}:${process.env.PATH}`, AZURE_TENANT_ID: kv.tenantId},
    })
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'pw-via-platform-identity', ''])
    assert.equal(
      readFileSync(azArgs, 'utf8'),
      `account get-access-token --output json --resource https://vault.azure.net --tenant ${kv.tenantId}\n`,
    )
    assert.equal(kv.counters.tokenRequests, 0)
    const denied = await sb.run(['get', 'azure://other-secret'], {
      env: {NODE_EXTRA_CA_CERTS: kv.caFile, PATH: `${bin}:${process.env.PATH}`},
    })
    assert.equal(denied.code, 6, denied.stderr)
    assert.match(denied.stderr, /Access denied to the secret "other-secret" in vault \S+ \(azure-cli\)/)
    // Without AZURE_TENANT_ID the SDK still passes the tenant that the vault's challenge names.
    assert.equal(
      readFileSync(azArgs, 'utf8').split('\n')[1],
      `account get-access-token --output json --resource https://vault.azure.net --tenant ${kv.tenantId}`,
    )
  })

  it('Azure CLI signed out: IDENTITY_MISSING (exit 7) saying to sign in', async () => {
    writeConfig('azure-cli')
    fakeAz('signed-out')
    const r = await sb.run(['get', 'azure://db-password'], {
      env: {NODE_EXTRA_CA_CERTS: kv.caFile, PATH: `${bin}:${process.env.PATH}`},
    })
    assert.equal(r.code, 7, r.stderr)
    assert.equal(
      r.stderr,
      `Error [IDENTITY_MISSING]: No Azure credential is available to sign in to ${kv.url} (azure-cli): Please run 'az login' from a command prompt to authenticate before using this credential.\n` +
        '  → Sign in with `az login` as this user (and check `az account show`); the Azure CLI must be on PATH.\n',
    )
    assert.equal(
      readFileSync(azArgs, 'utf8'),
      `account get-access-token --output json --resource https://vault.azure.net --tenant ${kv.tenantId}\n`,
    )
  })
})
