// `secrets audit trail` for Azure: Key Vault AuditEvent diagnostic logs from a Log Analytics workspace,
// queried with @azure/monitor-query against the test server's query API; the vault's requests land there.
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, beforeEach, describe, it} from 'node:test'

import {Sandbox, type RunResult} from '../helpers/cli.js'
import {AzureTestServer} from '../servers/azure/server.js'

const APP = '11111111-1111-1111-1111-111111111111'
const APP_SECRET = 'trail-app-client-secret-1'
const NO_LOGS = '55555555-5555-5555-5555-555555555555'
const NO_LOGS_SECRET = 'trail-nologs-client-secret'
const EVIL = '99999999-9999-9999-9999-999999999999'
const CANARY = 'CANARY-trail-azure-0b7a-do-not-print'
const HOUR = 3_600_000

interface Row {
  time: string
  source: string
  actor: string
  action: string
  secret: string
  outcome: string
  version?: string
  code?: string
}

describe('audit trail --provider azure (Key Vault diagnostic logs in Log Analytics)', () => {
  const sb = new Sandbox()
  let kv: AzureTestServer
  const config = (extra = '', workspace?: string) =>
    writeFileSync(
      join(sb.project, 'secrets.yaml'),
      `providers:
  local: {type: local, path: .secrets/store.json}
  azure:
    type: azure
    vaultUrl: ${kv.url}
    authorityHost: ${kv.authorityHost}
    disableChallengeResourceVerification: true
    auth: {method: client-secret}
    logAnalyticsWorkspaceId: ${workspace ?? kv.workspace.id}
    logAnalyticsEndpoint: ${kv.url}
${extra}env:
  DB: azure://DB_PASSWORD
  API: azure://api-config#token
`,
    )
  const login = (clientId = APP, secret = APP_SECRET): Record<string, string> => ({
    NODE_EXTRA_CA_CERTS: kv.caFile,
    AZURE_TENANT_ID: kv.tenantId,
    AZURE_CLIENT_ID: clientId,
    AZURE_CLIENT_SECRET: secret,
  })
  const run = sb.runner(() => login())
  const trail = async (args: string[] = [], env = login()): Promise<{r: RunResult; rows: Row[]}> => {
    const r = await run(['audit', 'trail', '--provider', 'azure', '--json', ...args], {env})
    return {r, rows: r.code === 0 ? (JSON.parse(r.stdout) as {events: Row[]}).events : []}
  }

  before(async () => {
    kv = await AzureTestServer.start()
    kv.addIdentity({clientId: APP, secret: APP_SECRET, access: 'all', logAnalyticsReader: true})
    kv.addIdentity({clientId: NO_LOGS, secret: NO_LOGS_SECRET, access: 'all'})
    kv.seed('db-password', CANARY)
    kv.seed('api-config', JSON.stringify({token: 'tok-azure'}))
    const planted = {vaultUrl: kv.url, requestUri: `${kv.url}/secrets/db-password/abc123?api-version=2025-07-01`}
    kv.workspace.record({
      ...planted,
      time: new Date(Date.now() - 72 * HOUR),
      operation: 'SecretGet',
      status: 200,
      secret: 'db-password',
      version: 'abc123',
      upn: 'alice@contoso.example',
      appId: '04b07795-8ddb-461a-bbee-02f9e1bf7b46',
    })
    kv.workspace.record({
      ...planted,
      time: new Date(Date.now() - 48 * HOUR),
      operation: 'SecretGet',
      status: 403,
      secret: 'api-config',
      appId: EVIL,
      oid: EVIL,
    })
    kv.workspace.record({
      ...planted,
      time: new Date(Date.now() - 24 * HOUR),
      operation: 'SecretGet',
      status: 200,
      secret: 'unrelated',
      appId: EVIL,
    })
    // Another vault's log with the same secret name is not this vault's secret.
    kv.workspace.record({
      ...planted,
      vaultUrl: 'https://other.vault.azure.net',
      time: new Date(Date.now() - 20 * HOUR),
      operation: 'SecretGet',
      status: 200,
      secret: 'db-password',
      appId: EVIL,
    })
    await sb.init()
  })
  after(async () => {
    sb.cleanup()
    await kv.close()
  })
  beforeEach(() => {
    kv.faults.clear()
    kv.resetCounters()
    config()
  })

  it('returns planted and served AuditEvents of the configured secrets, merged with the local log in time order', async () => {
    const got = await run(['get', 'azure://db-password'])
    assert.deepEqual([got.code, got.stdout], [0, CANARY], got.stderr)
    const {r, rows} = await trail()
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(
      rows.map((e) => [e.source, e.actor, e.action, e.secret, e.outcome]),
      [
        ['provider', 'alice@contoso.example', 'SecretGet', 'azure://DB_PASSWORD', 'ok'],
        ['provider', `app ${EVIL}`, 'SecretGet', 'azure://api-config', 'denied'],
        ['provider', `app ${APP}`, 'SecretGet', 'azure://DB_PASSWORD', 'ok'],
        ['local', rows[3].actor, 'read (get)', 'azure://db-password', 'ok'],
      ],
    )
    assert.equal(rows[0].version, 'abc123')
    assert.equal(rows[2].version, kv.latest('db-password')!.id)
    assert.equal(rows[1].code, 'Forbidden')
    assert.deepEqual(
      kv.counters.log.filter((l) => l.startsWith('POST /v1/')),
      [`POST /v1/workspaces/${kv.workspace.id}/query`],
    )
  })

  it('--since sends the time range as the query timespan; the resource-specific AZKVAuditLogs table works the same', async () => {
    const since = await trail(['--since', '60h', '--until', '30h'])
    assert.equal(since.r.code, 0, since.r.stderr)
    assert.deepEqual(
      since.rows.map((e) => [e.actor, e.secret, e.outcome]),
      [[`app ${EVIL}`, 'azure://api-config', 'denied']],
    )
    config('    logAnalyticsTable: AZKVAuditLogs\n')
    const {r, rows} = await trail(['--since', '80h', '--until', '30h'])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(
      rows.map((e) => [e.actor, e.action, e.secret, e.outcome, e.version]),
      [
        ['alice@contoso.example', 'SecretGet', 'azure://DB_PASSWORD', 'ok', 'abc123'],
        [`app ${EVIL}`, 'SecretGet', 'azure://api-config', 'denied', undefined],
      ],
    )
  })

  it('an identity without Log Analytics Reader gets PERMISSION_DENIED (exit 6) naming the role', async () => {
    const r = await run(['audit', 'trail', '--provider', 'azure'], {env: login(NO_LOGS, NO_LOGS_SECRET)})
    assert.equal(r.code, 6, r.stderr)
    assert.match(
      r.stderr,
      new RegExp(
        `Error \\[PERMISSION_DENIED\\]: Access denied to Log Analytics workspace ${kv.workspace.id} \\(client-secret for client ${NO_LOGS}.*\\): the identity may not query its logs \\(InsufficientAccessError\\)`,
      ),
    )
    assert.match(r.stderr, /"Log Analytics Reader" role/)
    assert.equal(r.stdout, '')
  })

  it('a wrong workspace id is NOT_FOUND (exit 5), a missing one CONFIG_INVALID (exit 3), both naming logAnalyticsWorkspaceId', async () => {
    config('', '00000000-0000-0000-0000-00000000abcd')
    const wrong = await run(['audit', 'trail', '--provider', 'azure'])
    assert.equal(wrong.code, 5, wrong.stderr)
    assert.match(wrong.stderr, /Log Analytics workspace 00000000-0000-0000-0000-00000000abcd was not found/)
    assert.match(wrong.stderr, /logAnalyticsWorkspaceId/)
    writeFileSync(
      join(sb.project, 'secrets.yaml'),
      `providers:\n  azure: {type: azure, vaultUrl: "${kv.url}"}\nenv:\n  DB: azure://db-password\n`,
    )
    const missing = await run(['audit', 'trail', '--provider', 'azure'])
    assert.equal(missing.code, 3, missing.stderr)
    assert.match(
      missing.stderr,
      /Error \[CONFIG_INVALID\]: Provider azure \(azure\) needs `logAnalyticsWorkspaceId` for its trail/,
    )
  })

  it('an unreachable Log Analytics endpoint is UNAVAILABLE (exit 9)', async () => {
    writeFileSync(
      join(sb.project, 'secrets.yaml'),
      `providers:\n  azure:\n    type: azure\n    vaultUrl: ${kv.url}\n    authorityHost: ${kv.authorityHost}\n    auth: {method: client-secret}\n    maxRetries: 0\n    logAnalyticsWorkspaceId: ${kv.workspace.id}\n    logAnalyticsEndpoint: https://127.0.0.1:1\nenv:\n  DB: azure://db-password\n`,
    )
    const r = await run(['audit', 'trail', '--provider', 'azure'])
    assert.equal(r.code, 9, r.stderr)
    assert.match(
      r.stderr,
      /Error \[UNAVAILABLE\]: Cannot reach the Log Analytics endpoint https:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\)/,
    )
  })

  it('never shows a value: the canary read and written stays out of the trail and the table', async () => {
    assert.equal((await sb.run(['set', 'azure://api-config'], {env: login(), input: CANARY})).code, 0)
    const json = await trail()
    const table = await run(['audit', 'trail', '--provider', 'azure'])
    assert.equal(table.code, 0, table.stderr)
    assert.match(table.stdout, /^TIME +SOURCE +ACTOR +ACTION +SECRET +OUTCOME\n/)
    assert.match(
      table.stdout,
      /azure +app 11111111-1111-1111-1111-111111111111 +SecretSet +azure:\/\/api-config \(v [0-9a-f]+\) +ok/,
    )
    for (const t of [json.r.stdout, json.r.stderr, table.stdout, table.stderr, JSON.stringify(kv.workspace.all())])
      assert.ok(!t.includes(CANARY))
  })
})
