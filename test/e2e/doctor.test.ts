import assert from 'node:assert/strict'
import {chmodSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {Sandbox} from '../helpers/cli.js'

describe('doctor', () => {
  const sb = new Sandbox()
  before(() => sb.init())
  after(() => sb.cleanup())

  it('passes every check on a fresh project', async () => {
    const r = await sb.run(['doctor', '--json'])
    assert.equal(r.code, 0, r.stdout)
    const json = JSON.parse(r.stdout)
    assert.equal(json.ok, true)
    assert.deepEqual(
      json.checks.map((c: {name: string; status: string}) => [c.name, c.status]),
      [
        ['config', 'ok'],
        ['identity', 'ok'],
        ['provider local', 'ok'],
        ['audit log', 'ok'],
      ],
    )
    assert.equal(json.checks[2].detail, `${sb.storeFile}: 0 secret(s), 1 recipient(s), decrypts and verifies`)
  })

  it('passes the audit log check once the log exists', async () => {
    assert.equal((await sb.run(['set', 'DOCTOR_CHECK'], {input: 'some-value'})).code, 0)
    const r = await sb.run(['doctor', '--json'])
    assert.equal(r.code, 0, r.stdout)
    const audit = JSON.parse(r.stdout).checks.find((c: {name: string}) => c.name === 'audit log')
    assert.deepEqual(audit, {name: 'audit log', status: 'ok', detail: sb.auditFile})
  })

  it("reports every failure and exits with the first one's code", async () => {
    chmodSync(sb.identityFile, 0o604)
    writeFileSync(
      join(sb.project, 'secrets.yaml'),
      'providers:\n  local: {type: local, path: .secrets/store.json}\n  vault: {type: vault}\n',
    )
    try {
      const r = await sb.run(['doctor'])
      assert.equal(r.code, 6)
      const lines = r.stdout.trimEnd().split('\n')
      // The environment cannot be listed either (the local store does not open): named, then exec's error.
      assert.deepEqual(
        lines.slice(0, 8).map((l) => l.slice(0, 22).trimEnd()),
        [
          'ok    config',
          'FAIL  identity',
          'FAIL  provider local',
          'FAIL  provider vault',
          'ok    audit log',
          'FAIL  environment',
          '',
          '`secrets exec` would r',
        ],
      )
      assert.equal(lines[7], '`secrets exec` would refuse to start with:')
      assert.match(lines[8], /^Error \[INSECURE_PERMISSIONS\]: .* is accessible by group or others \(mode 0604\)/)
      assert.match(
        lines[1],
        /is accessible by group or others \(mode 0604\); refusing to use it\. \[INSECURE_PERMISSIONS\]$/,
      )
      assert.match(
        lines[3],
        /No Vault token for provider vault: VAULT_TOKEN is not set and .*\.vault-token does not exist\. \[IDENTITY_MISSING\]$/,
      )
    } finally {
      chmodSync(sb.identityFile, 0o600)
    }
  })
})
