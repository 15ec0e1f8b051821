import {randomBytes} from 'node:crypto'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {Sandbox} from '../../helpers/cli.js'
import {AzureTestServer} from '../../servers/azure/server.js'
import type {Fault, FixtureCapabilities, ProviderFixture} from '../../suites/fixture.js'

const APP = '55555555-5555-5555-5555-555555555555'
const APP_SECRET = 'conformance-client-secret'

/**
 * The Key Vault test server over HTTPS with its own CA, reached with a client secret. The CA is trusted
 * through NODE_EXTRA_CA_CERTS, which Node reads only at process start: run what talks to it in a child.
 */
export class AzureFixture implements ProviderFixture {
  readonly kind = 'azure'
  readonly alias = 'azure'
  readonly capabilities: FixtureCapabilities = {trail: true, keyService: true, faults: true}
  readonly sandbox = new Sandbox()
  private kv?: AzureTestServer

  get server(): AzureTestServer {
    if (this.kv === undefined) throw new Error('the azure fixture is not started')
    return this.kv
  }

  get cwd(): string {
    return this.sandbox.project
  }

  async start(): Promise<void> {
    this.kv = await AzureTestServer.start()
    this.kv.addIdentity({clientId: APP, secret: APP_SECRET, access: 'all', logAnalyticsReader: true})
    await this.sandbox.init()
    writeFileSync(
      join(this.cwd, 'secrets.yaml'),
      `providers:\n  local: {type: local, path: .secrets/store.json}\n${this.yaml()}`,
    )
  }

  async stop(): Promise<void> {
    this.sandbox.cleanup()
    await this.kv?.close()
  }

  env(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
    return this.sandbox.env({
      NODE_EXTRA_CA_CERTS: this.server.caFile,
      AZURE_TENANT_ID: this.server.tenantId,
      AZURE_CLIENT_ID: APP,
      AZURE_CLIENT_SECRET: APP_SECRET,
      ...extra,
    })
  }

  async trailSetup(): Promise<{yaml: string; args: string[]}> {
    const trail = [
      `    logAnalyticsWorkspaceId: ${this.server.workspace.id}`,
      `    logAnalyticsEndpoint: ${this.server.url}`,
      '',
    ]
    return {yaml: this.yaml() + trail.join('\n'), args: []}
  }

  keyRecipient(): string {
    const name = `suite-${randomBytes(3).toString('hex')}`
    this.server.createKey(name)
    return `azurekv://${this.server.url.slice('https://'.length)}/${name}`
  }

  yaml(): string {
    return [
      `  ${this.alias}:`,
      '    type: azure',
      `    vaultUrl: ${this.server.url}`,
      `    authorityHost: ${this.server.authorityHost}`,
      '    disableChallengeResourceVerification: true',
      '    auth: {method: client-secret}',
      '',
    ].join('\n')
  }

  refFor(name: string): string {
    return `azure://${name}`
  }

  async seed(name: string, value: string): Promise<void> {
    this.server.seed(name, value)
  }

  inject(fault: Fault): void {
    this.server.faults.inject(fault)
  }

  counts(): Record<string, number> {
    return this.server.faults.counts()
  }

  reset(): void {
    this.server.faults.clear()
    this.server.resetCounters()
  }
}
