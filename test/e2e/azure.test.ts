import assert from 'node:assert/strict'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, beforeEach, describe, it} from 'node:test'

import {Sandbox} from '../helpers/cli.js'
import {AzureTestServer} from '../servers/azure/server.js'
import {generateClientCertificate} from '../servers/azure/tls.js'
import {cliOnTerminal, skipWithoutPty, type TerminalResult, type TerminalScript} from '../helpers/terminal.js'

const APP = '11111111-1111-1111-1111-111111111111'
const APP_SECRET = 'app-client-secret-value-1'
const CI = '22222222-2222-2222-2222-222222222222'
const LIMITED = '33333333-3333-3333-3333-333333333333'
const LIMITED_SECRET = 'limited-client-secret-value'
const CERT_APP = '44444444-4444-4444-4444-444444444444'

describe('azure provider (Key Vault over HTTPS, Entra ID token endpoint)', () => {
  const sb = new Sandbox()
  let kv: AzureTestServer

  const config = (auth = 'client-secret', extra = '') =>
    `providers:\n  local: {type: local, path: .secrets/store.json}\n  azure:\n    type: azure\n    vaultUrl: ${kv.url}\n    authorityHost: ${kv.authorityHost}\n    disableChallengeResourceVerification: true\n    auth: {method: ${auth}}\n${extra}`

  const writeConfig = (text: string, env = '') => writeFileSync(join(sb.project, 'secrets.yaml'), `${text}${env}`)

  /** The environment of a client-secret login (the vault's CA through NODE_EXTRA_CA_CERTS). */
  const login = (clientId = APP, secret = APP_SECRET): Record<string, string> => ({
    NODE_EXTRA_CA_CERTS: kv.caFile,
    AZURE_TENANT_ID: kv.tenantId,
    AZURE_CLIENT_ID: clientId,
    AZURE_CLIENT_SECRET: secret,
  })

  /** Run the CLI on a pseudo-terminal answering prompts (asynchronously: the vault runs in this process). */
  const onTerminal = (args: string[], script: TerminalScript, env: Record<string, string>): Promise<TerminalResult> =>
    cliOnTerminal(sb, args, script, env)

  before(async () => {
    kv = await AzureTestServer.start()
    kv.addIdentity({clientId: APP, secret: APP_SECRET, access: 'all'})
    kv.addIdentity({clientId: CI, federatedSubject: 'repo:acme/app:ref:refs/heads/main', access: 'all'})
    kv.addIdentity({clientId: LIMITED, secret: LIMITED_SECRET, access: ['db-password', 'limited-note']})
    kv.seed('db-password', 'pw-from-azure')
    kv.seed('api-config', JSON.stringify({user: 'svc', token: 'tok-from-json'}))
    kv.seed('disabled-secret', 'never-shown-1', {enabled: false})
    kv.seed('expired-secret', 'never-shown-2', {exp: Math.floor(Date.now() / 1000) - 3600})
    kv.seed('future-secret', 'never-shown-3', {nbf: Math.floor(Date.now() / 1000) + 86400})
    await sb.init()
  })
  after(async () => {
    sb.cleanup()
    await kv.close()
  })
  beforeEach(() => {
    kv.tokenLifetime = 3600
    kv.faults.clear()
    kv.resetCounters()
    writeConfig(config())
  })

  it('gets a secret with a client-secret login: challenge, token from the token endpoint, then the value', async () => {
    const r = await sb.run(['get', 'azure://db-password'], {env: login()})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'pw-from-azure')
    assert.equal(kv.counters.challenges, 1)
    assert.equal(kv.counters.tokenRequests, 1)
    assert.deepEqual(kv.counters.log, ['GET /secrets/db-password/', 'GET /secrets/db-password/'])
  })

  it('maps a variable-style name (DB_PASSWORD -> db-password) and applies #field to JSON values', async () => {
    assert.equal((await sb.run(['get', 'azure://DB_PASSWORD'], {env: login()})).stdout, 'pw-from-azure')
    const r = await sb.run(['get', 'azure://api-config#token'], {env: login()})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'tok-from-json')
  })

  it('sets new versions (contentType via the reference), reads one by ?version=, lists and soft-deletes', async () => {
    const s1 = await sb.run(['set', 'azure://rotating?contentType=text/plain'], {env: login(), input: 'v1-value'})
    assert.equal(s1.code, 0, s1.stderr)
    assert.equal(kv.latest('rotating')?.contentType, 'text/plain')
    const firstVersion = kv.latest('rotating')!.id
    assert.equal((await sb.run(['set', 'azure://rotating'], {env: login(), input: 'v2-value'})).code, 0)
    assert.equal(kv.versionsOf('rotating'), 2)
    assert.equal((await sb.run(['get', 'azure://rotating'], {env: login()})).stdout, 'v2-value')
    const old = await sb.run(['get', `azure://rotating?version=${firstVersion}`], {env: login()})
    assert.equal(old.code, 0, old.stderr)
    assert.equal(old.stdout, 'v1-value')

    const list = await sb.run(['list', 'azure', '--json'], {env: login()})
    assert.equal(list.code, 0, list.stderr)
    const names = (JSON.parse(list.stdout).secrets as Array<{name: string}>).map((s) => s.name)
    assert.ok(names.includes('rotating') && names.includes('db-password'), names.join(','))
    assert.ok(!list.stdout.includes('v2-value'))

    const del = await sb.run(['delete', 'azure://rotating', '--yes'], {env: login()})
    assert.equal(del.code, 0, del.stderr)
    assert.match(
      del.stderr,
      /^✓ scheduled azure:\/\/rotating for deletion \(2 version\(s\)\); recoverable until \d{4}-\d\d-\d\dT[\d:.]+Z\n$/,
    )
    assert.equal(kv.isDeleted('rotating'), true)
    const gone = await sb.run(['get', 'azure://rotating'], {env: login()})
    assert.equal(gone.code, 5, gone.stderr)
    assert.match(gone.stderr, /secret "rotating" in vault https:\/\/127\.0\.0\.1:\d+ does not exist/)
  })

  it('lists over many pages by nextLink', async () => {
    for (let i = 0; i < 60; i++) kv.seed(`page-item-${String(i).padStart(2, '0')}`, `value-${i}`)
    const r = await sb.run(['list', 'azure', '--json'], {env: login()})
    assert.equal(r.code, 0, r.stderr)
    const names = (JSON.parse(r.stdout).secrets as Array<{name: string}>)
      .map((s) => s.name)
      .filter((n) => n.startsWith('page-item-'))
    assert.equal(names.length, 60)
    assert.ok(kv.counters.log.filter((l) => l.startsWith('GET /secrets')).length >= 3, kv.counters.log.join('\n'))
  })

  it('exec resolves many Azure references in parallel, with #field and ?version=', async () => {
    const v1 = kv.seed('versioned', 'old-value')
    kv.seed('versioned', 'new-value')
    const env: string[] = []
    for (let i = 0; i < 40; i++) {
      kv.seed(`par-${i}`, `parallel-${i}`)
      env.push(`  PAR_${i}: azure://par-${i}`)
    }
    writeConfig(
      config(),
      `env:\n  DB_PASSWORD: azure://DB_PASSWORD\n  API_TOKEN: azure://api-config#token\n  OLD: azure://versioned?version=${v1}\n${env.join('\n')}\n`,
    )
    kv.resetCounters()
    const r = await sb.run(
      [
        'exec',
        '--no-redact',
        '--',
        'sh',
        '-c',
        'printf "%s|%s|%s|%s|%s" "$DB_PASSWORD" "$API_TOKEN" "$OLD" "$PAR_0" "$PAR_39"',
      ],
      {env: login()},
    )
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'pw-from-azure|tok-from-json|old-value|parallel-0|parallel-39')
    assert.ok(kv.counters.maxInFlight > 1, `max concurrency ${kv.counters.maxInFlight}`)
    assert.ok(kv.counters.maxInFlight <= 8, `max concurrency ${kv.counters.maxInFlight}`)
    assert.equal(kv.counters.tokenRequests, 1)
  })

  it('signs in with a federated token file (workload identity)', async () => {
    const tokenFile = join(sb.root, 'federated-token')
    writeFileSync(tokenFile, kv.federatedToken('repo:acme/app:ref:refs/heads/main'))
    writeConfig(config('workload-identity'))
    const r = await sb.run(['get', 'azure://db-password'], {
      env: {
        NODE_EXTRA_CA_CERTS: kv.caFile,
        AZURE_TENANT_ID: kv.tenantId,
        AZURE_CLIENT_ID: CI,
        AZURE_FEDERATED_TOKEN_FILE: tokenFile,
      },
    })
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'pw-from-azure')
    assert.equal(kv.counters.tokenRequests, 1)

    writeFileSync(tokenFile, kv.federatedToken('repo:evil/fork:ref:refs/heads/main'))
    const bad = await sb.run(['get', 'azure://db-password'], {
      env: {
        NODE_EXTRA_CA_CERTS: kv.caFile,
        AZURE_TENANT_ID: kv.tenantId,
        AZURE_CLIENT_ID: CI,
        AZURE_FEDERATED_TOKEN_FILE: tokenFile,
      },
    })
    assert.equal(bad.code, 6, bad.stderr)
    assert.match(bad.stderr, /AADSTS70021: No matching federated identity record found for presented assertion\./)
  })

  it('signs in with a client certificate (a signed client assertion)', async () => {
    const cert = generateClientCertificate(sb.root, 'cert-app')
    kv.addIdentity({clientId: CERT_APP, certificatePem: cert.certPem, access: 'all'})
    writeConfig(config('client-certificate'))
    const env = {
      NODE_EXTRA_CA_CERTS: kv.caFile,
      AZURE_TENANT_ID: kv.tenantId,
      AZURE_CLIENT_ID: CERT_APP,
      AZURE_CLIENT_CERTIFICATE_PATH: cert.file,
    }
    const r = await sb.run(['get', 'azure://db-password'], {env})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'pw-from-azure')
    const other = generateClientCertificate(sb.root, 'not-registered')
    const bad = await sb.run(['get', 'azure://db-password'], {env: {...env, AZURE_CLIENT_CERTIFICATE_PATH: other.file}})
    assert.equal(bad.code, 6, bad.stderr)
    assert.match(bad.stderr, /AADSTS700027: Client assertion contains an invalid signature\./)
  })

  it('DefaultAzureCredential picks the client secret up from the AZURE_* variables', async () => {
    writeConfig(config('default'))
    const r = await sb.run(['get', 'azure://db-password'], {env: login()})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'pw-from-azure')
  })

  it('a wrong client secret fails at the token endpoint with a clear message and exit 6, never echoing it', async () => {
    const r = await sb.run(['get', 'azure://db-password'], {env: login(APP, 'wrong-secret-guess')})
    assert.equal(r.code, 6, r.stderr)
    assert.equal(r.stdout, '')
    assert.match(
      r.stderr,
      /Azure sign-in for https:\/\/127\.0\.0\.1:\d+ failed \(client-secret for client 11111111-1111-1111-1111-111111111111 in tenant [0-9a-f-]+\): invalid_client: AADSTS7000215: Invalid client secret provided\./,
    )
    assert.match(r.stderr, /Check AZURE_CLIENT_SECRET/)
    assert.ok(!r.stderr.includes('wrong-secret-guess'))
    assert.equal(kv.counters.vaultRequests, 1)
  })

  it('a client secret missing from the environment is IDENTITY_MISSING (exit 7)', async () => {
    const r = await sb.run(['get', 'azure://db-password'], {env: {...login(), AZURE_CLIENT_SECRET: undefined}})
    assert.equal(r.code, 7, r.stderr)
    assert.match(r.stderr, /signs in with client-secret, which needs AZURE_CLIENT_SECRET in the environment/)
  })

  it('403 names the vault and secret, hints at the role, prints no value (exit 6)', async () => {
    const ok = await sb.run(['get', 'azure://db-password'], {env: login(LIMITED, LIMITED_SECRET)})
    assert.equal(ok.code, 0, ok.stderr)
    const r = await sb.run(['get', 'azure://api-config'], {env: login(LIMITED, LIMITED_SECRET)})
    assert.equal(r.code, 6, r.stderr)
    assert.equal(r.stdout, '')
    assert.match(
      r.stderr,
      /Access denied to the secret "api-config" in vault https:\/\/127\.0\.0\.1:\d+ \(client-secret for client 33333333/,
    )
    assert.match(r.stderr, /Key Vault Secrets User/)
    assert.ok(!r.stderr.includes('tok-from-json'))
    const w = await sb.run(['set', 'azure://limited-note'], {env: login(LIMITED, LIMITED_SECRET), input: 'x'})
    assert.equal(w.code, 0, w.stderr)
  })

  it('refuses disabled, expired and not-yet-valid secrets, saying which', async () => {
    const cases: Array<[string, RegExp]> = [
      ['disabled-secret', /The secret "disabled-secret" in vault \S+ is disabled, so it cannot be read\./],
      ['expired-secret', /The secret "expired-secret" in vault \S+ expired on \d{4}-\d\d-\d\dT/],
      ['future-secret', /The secret "future-secret" in vault \S+ is not valid until \d{4}-\d\d-\d\dT.*\(not-before\)/],
    ]
    for (const [name, message] of cases) {
      const r = await sb.run(['get', `azure://${name}`], {env: login()})
      assert.equal(r.code, 6, `${name}: ${r.stderr}`)
      assert.equal(r.stdout, '')
      assert.match(r.stderr, message)
      assert.ok(!r.stderr.includes('never-shown'))
    }
  })

  it('retries 429 with Retry-After and recovers', async () => {
    kv.faults.inject({kind: 'throttled', op: '/secrets/db-password', retryAfter: 0, times: 2})
    const r = await sb.run(['get', 'azure://db-password'], {env: login()})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'pw-from-azure')
    assert.equal(kv.counters.faults, 2)
  })

  it('gives up on persistent throttling after bounded retries: UNAVAILABLE (exit 9)', async () => {
    kv.faults.inject({kind: 'throttled', op: '/secrets/db-password', retryAfter: 0})
    const r = await sb.run(['get', 'azure://db-password'], {env: login()})
    assert.equal(r.code, 9, r.stderr)
    assert.match(r.stderr, /is throttling requests \(Throttled\) and still did after the retries/)
    // The first request is answered by the fault before the challenge; 1 try + 3 retries.
    assert.equal(kv.counters.faults, 4)
  })

  it('retries a 500 and a connection reset', async () => {
    kv.faults.inject({kind: 'unavailable', op: '/secrets/db-password', times: 1})
    kv.faults.inject({kind: 'reset', op: '/secrets/db-password', times: 1})
    const r = await sb.run(['get', 'azure://db-password'], {env: login()})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'pw-from-azure')
    assert.equal(kv.counters.faults, 2)
  })

  it('without the vault CA, TLS fails with UNAVAILABLE naming the certificate problem', async () => {
    const r = await sb.run(['get', 'azure://db-password'], {env: {...login(), NODE_EXTRA_CA_CERTS: undefined}})
    assert.equal(r.code, 9, r.stderr)
    assert.match(r.stderr, /TLS to vault https:\/\/127\.0\.0\.1:\d+ failed: .*(CA|self-signed)/)
    assert.match(r.stderr, /NODE_EXTRA_CA_CERTS/)
  })

  it('two variable-style names mapping to one Key Vault name are an error, never a shared secret', async () => {
    writeConfig(config(), 'env:\n  DB_PASSWORD: azure://DB_PASSWORD\n  db_password: azure://db_password\n')
    const r = await sb.run(['exec', '--no-redact', '--', 'sh', '-c', 'printf %s "$DB_PASSWORD"'], {env: login()})
    assert.equal(r.code, 4, r.stderr)
    assert.equal(r.stdout, '')
    assert.match(
      r.stderr,
      /Name collision: azure:\/\/DB_PASSWORD and azure:\/\/db_password all map to the Key Vault secret "db-password"/,
    )

    writeConfig(config())
    assert.equal((await sb.run(['set', 'azure://SMTP_USER'], {env: login(), input: 'mailer'})).code, 0)
    assert.equal(kv.latest('smtp-user')?.tags?.['secrets-name'], 'SMTP_USER')
    const clash = await sb.run(['set', 'azure://smtp_user'], {env: login(), input: 'other'})
    assert.equal(clash.code, 4, clash.stderr)
    assert.match(
      clash.stderr,
      /Name collision: azure:\/\/smtp_user and SMTP_USER \(which wrote it\) all map to the Key Vault secret "smtp-user"/,
    )
    assert.equal(kv.versionsOf('smtp-user'), 1)
  })

  it('secrets doctor checks the vault', async () => {
    const r = await sb.run(['doctor', '--json'], {env: login()})
    const checks = JSON.parse(r.stdout).checks as Array<{name: string; status: string; detail: string}>
    const azure = checks.find((c) => c.name === 'provider azure')
    assert.equal(azure?.status, 'ok', JSON.stringify(azure))
    assert.match(azure!.detail, /signed in \(client-secret for client 11111111/)
    assert.ok(!readFileSync(sb.auditFile, 'utf8').includes('pw-from-azure'))
  })

  it('restore recovers a soft-deleted secret with all its versions; its name is taken until then (CONFLICT)', async () => {
    assert.equal((await sb.run(['set', 'azure://recoverable'], {env: login(), input: 'first-value'})).code, 0)
    assert.equal((await sb.run(['set', 'azure://recoverable'], {env: login(), input: 'second-value'})).code, 0)
    const del = await sb.run(['delete', 'azure://recoverable', '--yes', '--json'], {env: login()})
    assert.equal(del.code, 0, del.stderr)
    const deleted = JSON.parse(del.stdout) as {versions: number; recoverableUntil: string}
    assert.equal(deleted.versions, 2)
    // The test vault keeps deleted secrets 90 days, as Key Vault does by default.
    assert.equal(new Date(deleted.recoverableUntil).getUTCFullYear() >= new Date().getUTCFullYear(), true)
    assert.ok(new Date(deleted.recoverableUntil).getTime() > Date.now() + 89 * 86_400_000, deleted.recoverableUntil)

    const reuse = await sb.run(['set', 'azure://recoverable'], {env: login(), input: 'third-value'})
    assert.equal(reuse.code, 11, reuse.stderr)
    assert.equal(
      reuse.stderr,
      `Error [CONFLICT]: The secret "recoverable" in vault ${kv.url} is deleted but recoverable, so its name cannot be reused until it is recovered or purged (ObjectIsDeletedButRecoverable).\n` +
        '  → Recover it (`secrets restore azure://recoverable`) or purge it for good (`secrets purge azure://recoverable`), then try again.\n',
    )

    kv.resetCounters()
    const r = await sb.run(['restore', 'azure://recoverable'], {env: login()})
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, '', '✓ restored azure://recoverable\n'])
    assert.ok(kv.counters.log.includes('POST /deletedsecrets/recoverable/recover'), kv.counters.log.join('\n'))
    assert.equal(kv.isDeleted('recoverable'), false)
    assert.equal(kv.versionsOf('recoverable'), 2)
    assert.equal((await sb.run(['get', 'azure://recoverable'], {env: login()})).stdout, 'second-value')
    const audit = readFileSync(sb.auditFile, 'utf8')
    assert.match(
      audit,
      /"command":"restore","action":"restore","provider":"azure","ref":"azure:\/\/recoverable","outcome":"ok"/,
    )
    assert.ok(!audit.includes('second-value'))

    const again = await sb.run(['restore', 'azure://recoverable'], {env: login()})
    assert.equal(again.code, 0, again.stderr)
    const never = await sb.run(['restore', 'azure://never-existed'], {env: login()})
    assert.equal(never.code, 5, never.stderr)
    assert.match(
      never.stderr,
      /^Error \[NOT_FOUND\]: There is no deleted secret "never-existed" in vault \S+ to recover \(SecretNotFound\)\.\n/,
    )
  })

  it('purge erases a soft-deleted secret for good: --yes required without a terminal, then nothing to recover', async () => {
    assert.equal((await sb.run(['set', 'azure://purgeable'], {env: login(), input: 'CANARY-purge-value'})).code, 0)
    const live = await sb.run(['purge', 'azure://purgeable', '--yes'], {env: login()})
    assert.equal(live.code, 5, live.stderr)
    assert.match(
      live.stderr,
      /^Error \[NOT_FOUND\]: There is no deleted secret "purgeable" in vault \S+ to purge \(SecretNotFound\)\.\n {2}→ Only a soft-deleted secret can be purged: delete it first/,
    )
    assert.equal(kv.versionsOf('purgeable'), 1)

    assert.equal((await sb.run(['delete', 'azure://purgeable', '--yes'], {env: login()})).code, 0)
    const unconfirmed = await sb.run(['purge', 'azure://purgeable'], {env: login()})
    assert.equal(unconfirmed.code, 2, unconfirmed.stderr)
    assert.equal(
      unconfirmed.stderr,
      'Error [USAGE]: Refusing to purge azure://purgeable without confirmation: there is no terminal to ask on (or CI is set).\n  → Pass --yes to confirm; a purged secret cannot be recovered.\n',
    )
    assert.equal(kv.isDeleted('purgeable'), true)

    const r = await sb.run(['purge', 'azure://purgeable', '--yes', '--json'], {env: login()})
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(JSON.parse(r.stdout), {ref: 'azure://purgeable', purged: true})
    assert.equal(kv.versionsOf('purgeable'), 0)
    const gone = await sb.run(['restore', 'azure://purgeable'], {env: login()})
    assert.equal(gone.code, 5, gone.stderr)
    assert.match(
      readFileSync(sb.auditFile, 'utf8'),
      /"command":"purge","action":"purge","provider":"azure","ref":"azure:\/\/purgeable","outcome":"ok"/,
    )
    // The name is free again.
    assert.equal((await sb.run(['set', 'azure://purgeable'], {env: login(), input: 'reborn'})).code, 0)
    assert.equal(kv.versionsOf('purgeable'), 1)
  })

  it('purge asks on a terminal: declining is ABORTED (exit 12) and keeps the deleted secret recoverable', async (t) => {
    if (skipWithoutPty(t)) return
    assert.equal((await sb.run(['set', 'azure://asked'], {env: login(), input: 'asked-value'})).code, 0)
    assert.equal((await sb.run(['delete', 'azure://asked', '--yes'], {env: login()})).code, 0)
    const question = 'Purge azure://asked and all its versions'
    const no = await onTerminal(['purge', 'azure://asked'], [[question, 'n\r']], login())
    assert.equal(no.code, 12, no.output)
    assert.match(no.output, /Error \[ABORTED\]: Did not purge azure:\/\/asked\./)
    assert.equal(kv.isDeleted('asked'), true)
    const yes = await onTerminal(['purge', 'azure://asked'], [[question, 'y\r']], login())
    assert.equal(yes.code, 0, yes.output)
    assert.match(yes.output, /✓ purged azure:\/\/asked/)
    assert.equal(kv.versionsOf('asked'), 0)
  })

  it('delete --force deletes, then purges: no recovery window', async () => {
    assert.equal((await sb.run(['set', 'azure://forced'], {env: login(), input: 'x-value'})).code, 0)
    const r = await sb.run(['delete', 'azure://forced', '--force', '--yes'], {env: login()})
    assert.deepEqual([r.code, r.stderr], [0, '✓ deleted azure://forced (1 version(s))\n'])
    assert.equal(kv.versionsOf('forced'), 0)
    assert.ok(kv.counters.log.includes('DELETE /deletedsecrets/forced'), kv.counters.log.join('\n'))
  })

  it('purge on a provider without soft delete is UNSUPPORTED (exit 10), refused before any question', async () => {
    const r = await sb.run(['purge', 'local://SOMETHING'], {env: login()})
    assert.equal(r.code, 10, r.stderr)
    assert.match(r.stderr, /^Error \[UNSUPPORTED\]: Provider local \(local\) cannot purge deleted secrets\.\n/)
    const restore = await sb.run(['restore', 'local://SOMETHING'], {env: login()})
    assert.equal(restore.code, 10, restore.stderr)
  })

  it('list --json details and get --json metadata: dates, enabled, expiry, not-before, contentType, tags, recovery level; never the value', async () => {
    const t = Math.floor(Date.now() / 1000)
    const version = kv.seed('with-meta', 'CANARY-meta-value', {
      contentType: 'application/x-pem-file',
      tags: {owner: 'payments', rotate: '90d'},
      exp: t + 86_400,
      nbf: t - 60,
    })
    const latest = kv.latest('with-meta')!
    const expected = {
      enabled: true,
      created: new Date(latest.created * 1000).toISOString(),
      updated: new Date(latest.updated * 1000).toISOString(),
      expires: new Date((t + 86_400) * 1000).toISOString(),
      notBefore: new Date((t - 60) * 1000).toISOString(),
      contentType: 'application/x-pem-file',
      tags: {owner: 'payments', rotate: '90d'},
      recoveryLevel: 'Recoverable+Purgeable',
      recoverableDays: 90,
    }
    const list = await sb.run(['list', 'azure', '--json'], {env: login()})
    assert.equal(list.code, 0, list.stderr)
    const entry = (JSON.parse(list.stdout).secrets as Array<{name: string; version: string; details: unknown}>).find(
      (x) => x.name === 'with-meta',
    )
    assert.equal(entry?.version, version)
    assert.deepEqual(entry?.details, expected)
    assert.ok(!list.stdout.includes('CANARY-meta-value'))

    const get = await sb.run(['get', 'azure://with-meta', '--json'], {env: login()})
    assert.equal(get.code, 0, get.stderr)
    const got = JSON.parse(get.stdout) as {version: string; metadata: unknown; value: string}
    assert.deepEqual([got.version, got.metadata, got.value], [version, expected, 'CANARY-meta-value'])
    // One request for the value and its metadata together (after the challenge).
    assert.equal(kv.counters.log.filter((l) => l.startsWith('GET /secrets/with-meta')).length, 2)
  })

  it('a token that expires during a command is refreshed: the vault refuses it (401, new challenge), a new one is fetched, reads go on', async () => {
    for (let i = 0; i < 30; i++) kv.seed(`refresh-item-${String(i).padStart(2, '0')}`, `refresh-value-${i}`)
    // Tokens live 5 s; the request for the second page is held 6.1 s before the vault checks its token,
    // so that token has expired by then, whatever the machine's speed (a delay, never a timed assertion;
    // the 5 s leave a fresh token time to arrive on a busy machine).
    kv.tokenLifetime = 5
    kv.faults.inject({kind: 'latency', op: '/secrets', authorized: true, skip: 1, ms: 6100, times: 1})
    const r = await sb.run(['list', 'azure', '--json'], {env: login()})
    assert.equal(
      r.code,
      0,
      `${r.stdout}${r.stderr}\n${kv.counters.log.join('\n')}\nexpired ${kv.counters.expiredTokens} tokens ${kv.counters.tokenRequests}`,
    )
    const names = (JSON.parse(r.stdout).secrets as Array<{name: string}>)
      .map((s) => s.name)
      .filter((n) => n.startsWith('refresh-item-'))
    assert.equal(names.length, 30)
    assert.ok(kv.counters.expiredTokens >= 1, `expired tokens seen by the vault: ${kv.counters.expiredTokens}`)
    assert.ok(kv.counters.tokenRequests >= 2, `token requests: ${kv.counters.tokenRequests}`)
    // Paging went on after the refresh: more than one page was read with a valid token.
    assert.ok(kv.counters.log.filter((l) => l.startsWith('GET /secrets')).length >= 4, kv.counters.log.join('\n'))
  })
})
