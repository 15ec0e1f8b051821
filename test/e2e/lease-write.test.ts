import assert from 'node:assert/strict'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, beforeEach, describe, it} from 'node:test'

import {Sandbox, type RunResult} from '../helpers/cli.js'
import type {AwsEngine} from '../servers/vault/aws-engine.js'
import type {IssuedCertificate, PkiEngine} from '../servers/vault/pki-engine.js'
import {VaultTestServer} from '../servers/vault/server.js'

// The child checks what it got (the certificate from the environment, the key and the CA from files) and
// writes only the verdict, never a value.
const CHECK = (out: string): string =>
  [
    "const c = require('crypto'), fs = require('fs')",
    'const cert = new c.X509Certificate(process.env.TLS_CERT)',
    'const ca = new c.X509Certificate(fs.readFileSync(process.env.TLS_CA))',
    'const key = c.createPrivateKey(fs.readFileSync(process.env.TLS_KEY))',
    `fs.writeFileSync(${JSON.stringify(out)}, JSON.stringify({matches: cert.checkPrivateKey(key), signedByCa: cert.verify(ca.publicKey), subject: cert.subject, serial: cert.serialNumber}))`,
  ].join(';')

const revokedWhileLive = (l: IssuedCertificate): boolean | undefined => l.revoked?.whileLive

describe('dynamic secrets that need a write: Vault pki/issue and aws/sts with parameters from params: or the query', () => {
  const sb = new Sandbox()
  let server: VaultTestServer
  let pki: PkiEngine
  let aws: AwsEngine
  const got = join(sb.root, 'verdict.json')
  const ledger = join(sb.home, '.local', 'state', 'secrets', 'leases.json')
  const run = sb.runner(() => ({VAULT_ADDR: server.url, VAULT_TOKEN: server.rootToken}))
  const ledgerEntries = (): Array<{id: string; kept: boolean; path: string}> =>
    existsSync(ledger) ? JSON.parse(readFileSync(ledger, 'utf8')).leases : []
  const issued = (): IssuedCertificate[] => [...pki.leases.values()]
  const noKey = (...outs: RunResult[]): void => {
    for (const l of issued()) {
      const body = l.privateKey.split('\n')[1]
      for (const o of outs) assert.ok(!o.stdout.includes(body) && !o.stderr.includes(body), 'a private key was printed')
      assert.ok(!sb.auditText().includes(body), 'a private key reached the audit log')
      if (existsSync(ledger)) assert.ok(!readFileSync(ledger, 'utf8').includes(body), 'a private key in the ledger')
    }
  }
  const yaml = (lines: string[]): void =>
    writeFileSync(
      join(sb.project, 'secrets.yaml'),
      [
        'providers:',
        '  local: {type: local, path: .secrets/store.json, inject: false}',
        '  vault: {type: vault}',
        ...lines,
        '',
      ].join('\n'),
    )

  before(async () => {
    server = await VaultTestServer.start()
    pki = server.mountPki('pki', {
      web: {ttl: 600, maxTtl: 3600, allowedDomains: ['app.internal'], allowSubdomains: true},
    })
    server.mountKv('secret', 2)
    aws = server.mountAws('aws', {
      deploy: {roleArns: ['arn:aws:iam::123456789012:role/deploy'], defaultStsTtl: 3600, maxStsTtl: 7200},
    })
    await sb.init()
  })
  beforeEach(() => {
    pki.leases.clear()
    aws.leases.clear()
    server.resetCounters()
  })
  after(async () => {
    await server.close()
    sb.cleanup()
  })

  it('certificate, private key and CA from one issue (params: in any order, or the query, on env and files entries); revoked when the child exits', async () => {
    yaml([
      'env:',
      '  TLS_CERT: {ref: "vault://pki/issue/web#certificate", params: {common_name: app.internal, ttl: 300}}',
      'files:',
      '  TLS_KEY: {ref: "vault://pki/issue/web#private_key", params: {ttl: 300, common_name: app.internal}}',
      '  TLS_CA: "vault://pki/issue/web?ttl=300&common_name=app.internal#issuing_ca"',
    ])
    const r = await run(['exec', '--', process.execPath, '-e', CHECK(got)])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(server.count('POST pki/issue/web'), 1, 'the same path and parameters: one write')
    const [cert] = issued()
    assert.deepEqual(cert.request, {common_name: 'app.internal', ttl: 300})
    const serial = cert.serial.replaceAll(':', '').toUpperCase()
    assert.deepEqual(JSON.parse(readFileSync(got, 'utf8')), {
      matches: true,
      signedByCa: true,
      subject: 'CN=app.internal',
      serial,
    })
    assert.equal(revokedWhileLive(cert), true)
    assert.ok(pki.revokedSerials.has(cert.serial))
    assert.deepEqual(ledgerEntries(), [])
    noKey(r)
  })

  it('different parameters are different credentials: two writes, two leases, both revoked', async () => {
    yaml([
      'env:',
      '  A_CERT: {ref: "vault://pki/issue/web#certificate", params: {common_name: a.app.internal}}',
      '  B_CERT: "vault://pki/issue/web?common_name=b.app.internal#certificate"',
    ])
    const r = await run(['exec', '--', process.execPath, '-e', ''])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(
      issued()
        .map((l) => l.commonName)
        .sort(),
      ['a.app.internal', 'b.app.internal'],
    )
    assert.deepEqual(
      issued().map((l) => revokedWhileLive(l)),
      [true, true],
    )
  })

  it('get with the parameters in the query: one issue, the lease kept and recorded until `lease revoke`', async () => {
    yaml(['env: {}'])
    const g = await run(['get', 'vault://pki/issue/web?common_name=api.app.internal&ttl=120#serial_number'])
    assert.equal(g.code, 0, g.stderr)
    const [cert] = issued()
    assert.equal(g.stdout, cert.serial)
    assert.deepEqual(cert.request, {common_name: 'api.app.internal', ttl: '120'})
    assert.match(g.stderr, /vault:\/\/pki\/issue\/web\) is a dynamic credential: its lease \([0-9a-f]{16}\) outlives/)
    assert.deepEqual(
      ledgerEntries().map((e) => [e.path, e.kept]),
      [['pki/issue/web', true]],
    )
    const revoke = await run(['lease', 'revoke', '--all'])
    assert.equal(revoke.code, 0, revoke.stderr)
    assert.equal(revokedWhileLive(cert), true)
    assert.deepEqual(ledgerEntries(), [])
    noKey(g, revoke)
  })

  it('aws/sts: with params: one POST for the three keys of one credential; without parameters a GET', async () => {
    yaml([
      'env:',
      '  AWS_ACCESS_KEY_ID: {ref: "vault://aws/sts/deploy#access_key", params: {ttl: 15m}}',
      '  AWS_SECRET_ACCESS_KEY: {ref: "vault://aws/sts/deploy#secret_key", params: {ttl: 15m}}',
      '  AWS_SESSION_TOKEN: {ref: "vault://aws/sts/deploy#security_token", params: {ttl: 15m}}',
    ])
    const out = join(sb.root, 'aws.json')
    const child = `require('fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify([process.env.AWS_ACCESS_KEY_ID, process.env.AWS_SECRET_ACCESS_KEY, process.env.AWS_SESSION_TOKEN]))`
    const r = await run(['exec', '--', process.execPath, '-e', child])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual([server.count('POST aws/sts/deploy'), server.count('GET aws/sts/deploy')], [1, 0])
    const [cred] = aws.leases.values()
    assert.deepEqual(cred.request, {ttl: '15m'})
    assert.equal(cred.expires - cred.issued, 900_000)
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), [cred.accessKey, cred.secretKey, cred.securityToken])
    assert.equal(cred.revoked?.whileLive, true)
    for (const text of [r.stdout, r.stderr, sb.auditText()]) assert.ok(!text.includes(cred.secretKey))

    yaml(['env: {}'])
    const g = await run(['get', 'vault://aws/sts/deploy#arn'])
    assert.equal(g.code, 0, g.stderr)
    assert.deepEqual([server.count('POST aws/sts/deploy'), server.count('GET aws/sts/deploy')], [1, 1])
    assert.equal(g.stdout, 'arn:aws:sts::123456789012:assumed-role/deploy/vault-deploy')
    assert.equal((await run(['lease', 'revoke', '--all'])).code, 0)
  })

  it("Vault's refusal of the parameters is reported with its reason; nothing starts, nothing is issued", async () => {
    yaml(['env:', '  TLS_CERT: {ref: "vault://pki/issue/web#certificate", params: {common_name: evil.example}}'])
    const ran = join(sb.root, 'ran')
    const r = await run([
      'exec',
      '--',
      process.execPath,
      '-e',
      'require("fs").writeFileSync(process.argv[1], "x")',
      ran,
    ])
    assert.equal(r.code, 2, r.stderr)
    assert.match(
      r.stderr,
      /TLS_CERT = vault:\/\/pki\/issue\/web#certificate \(provider vault\): \[USAGE\] Vault rejected write on pki\/issue\/web \(400\): common name evil\.example not allowed by this role\./,
    )
    assert.match(
      r.stderr,
      /→ Fix the parameters, given in the reference's query \(\?common_name=\.\.\.\) or under `params:`/,
    )
    assert.ok(!existsSync(ran), 'the child ran')
    assert.equal(pki.leases.size, 0)
    const versioned = await run(['get', 'vault://pki/issue/web?common_name=app.internal&version=2#certificate'])
    assert.equal(versioned.code, 10, versioned.stderr)
    assert.match(versioned.stderr, /asks for a version, but dynamic credentials have none/)
    assert.equal(pki.leases.size, 0)
    const none = await run(['get', 'vault://pki/issue/web#certificate'])
    assert.equal(none.code, 2, none.stderr)
    assert.match(none.stderr, /Vault rejected write on pki\/issue\/web \(400\): the common_name field is required/)
  })

  it('params: on a KV path is a CONFIG_INVALID naming the entry; params: on a local reference is refused at load', async () => {
    yaml(['env:', '  DB: {ref: "vault://secret/app#db", params: {common_name: app.internal}}'])
    const r = await run(['exec', '--', process.execPath, '-e', ''])
    assert.equal(r.code, 3, r.stderr)
    assert.match(
      r.stderr,
      /DB = vault:\/\/secret\/app#db \(provider vault\): \[CONFIG_INVALID\] vault:\/\/secret\/app#db has `params:` in secrets.yaml, but secret\/ is a KV v2 mount/,
    )
    assert.match(r.stderr, /Remove `params:` from this entry in secrets.yaml\./)
    yaml(['env:', '  K: {ref: "local://K", params: {common_name: app.internal}}'])
    const l = await run(['exec', '--', process.execPath, '-e', ''])
    assert.equal(l.code, 3, l.stderr)
    assert.match(l.stderr, /`env\.K\.params` is only for HashiCorp Vault references/)
  })
})
