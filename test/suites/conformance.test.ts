// The conformance suite for every provider, each through its fixture (test/providers/<kind>/fixture.ts).
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import {conformance, conformanceInChild} from '../providers/conformance.js'
import {AwsFixture} from '../providers/aws/fixture.js'
import {AzureFixture} from '../providers/azure/fixture.js'
import {LocalFixture} from '../providers/local/fixture.js'
import {VaultFixture} from '../providers/vault/fixture.js'
import type {ProviderFixture} from './fixture.js'

// Adapter until conformance() takes the fixture itself (the lead removes it at merge).
const target = (f: ProviderFixture) => ({
  alias: f.alias,
  project: () => ({cwd: f.cwd, env: f.env()}),
  refFor: (n: string) => f.refFor(n),
})

/** In process: the provider takes everything it needs (address, token, CA) from the Session's env. */
function inProcess(title: string, f: ProviderFixture): void {
  describe(title, () => {
    before(() => f.start())
    after(() => f.stop())
    conformance(target(f))
  })
}

/**
 * In a child process, for providers whose SDK reads credentials from process.env or whose CA must be
 * trusted from process start (NODE_EXTRA_CA_CERTS); the child talks to this process's server on loopback.
 */
function inChild(title: string, f: ProviderFixture, server: string, check: () => void = () => undefined): void {
  describe(title, () => {
    before(() => f.start())
    after(() => f.stop())
    it(`passes the provider conformance suite against the ${server} test server`, async () => {
      const {status, output} = await conformanceInChild({
        alias: f.alias,
        cwd: f.cwd,
        env: f.env(),
        refPrefix: f.refFor(''),
      })
      assert.equal(status, 0, output)
      const total = /^# tests (\d+)$/m.exec(output)?.[1]
      assert.ok(total !== undefined && Number(total) > 0, output)
      assert.match(output, new RegExp(`^# pass ${total}$`, 'm'), output)
      assert.match(output, /^# fail 0$/m, output)
      check()
    })
  })
}

inProcess('local provider conformance', new LocalFixture())
inProcess('vault provider conformance (KV v2 over mutual TLS)', new VaultFixture({mode: 'kv2-mtls'}))
inProcess('vault provider conformance (KV v1)', new VaultFixture({mode: 'kv1'}))
const aws = new AwsFixture()
// The three-secret read was one BatchGetSecretValue call.
inChild('aws provider conformance', aws, 'Secrets Manager', () => assert.equal(aws.counts().BatchGetSecretValue, 1))
inChild('azure provider conformance', new AzureFixture(), 'Key Vault')
