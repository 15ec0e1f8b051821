// The conformance suite for every provider, each through its fixture (test/providers/<kind>/fixture.ts).
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import {nonInteractive} from '../../src/core/interaction.js'
import {Session} from '../../src/core/session.js'
import {capabilitiesOf} from '../../src/providers/capabilities.js'
import {AwsFixture} from '../providers/aws/fixture.js'
import {AzureFixture} from '../providers/azure/fixture.js'
import {LocalFixture} from '../providers/local/fixture.js'
import {VaultFixture} from '../providers/vault/fixture.js'
import {conformance, conformanceInChild, expectedCounts} from './conformance.js'
import type {ProviderFixture} from './fixture.js'

/** In process: the provider takes everything it needs (address, token, CA) from the Session's env. */
function inProcess(title: string, f: ProviderFixture): void {
  describe(title, () => conformance(f))
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
      // What the child must pass and skip follows from the provider's capabilities, opened here.
      const s = new Session({cwd: f.cwd, env: f.env(), ui: nonInteractive(), command: 'conformance'})
      const {pass, skipped} = expectedCounts(capabilitiesOf(await s.provider(f.alias)))
      await s.close()
      assert.ok(pass > 0)
      assert.match(output, new RegExp(`^# pass ${pass}$`, 'm'), output)
      assert.match(output, new RegExp(`^# skipped ${skipped}$`, 'm'), output)
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
