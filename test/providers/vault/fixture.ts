import {randomBytes} from 'node:crypto'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {Sandbox} from '../../helpers/cli.js'
import {createPki, type TestPki} from '../../servers/vault/pki.js'
import {VaultTestServer} from '../../servers/vault/server.js'
import type {Fault, FixtureCapabilities, ProviderFixture} from '../../suites/fixture.js'

export interface VaultFixtureOptions {
  /** `kv2-mtls`: the default `secret/` KV v2 mount over HTTPS with a client certificate; `kv1`: a KV v1 mount `kv/` over http. */
  mode: 'kv1' | 'kv2-mtls'
}

/** The Vault test server with a root token; its CA and client certificate come from VAULT_* variables. */
export class VaultFixture implements ProviderFixture {
  readonly kind = 'vault'
  readonly alias = 'vault'
  readonly capabilities: FixtureCapabilities = {trail: true, keyService: true, faults: true}
  readonly sandbox = new Sandbox()
  private pki?: TestPki
  private vault?: VaultTestServer
  private transit = false

  constructor(readonly options: VaultFixtureOptions) {}

  /** The KV mount secrets are written to. */
  get mount(): string {
    return this.options.mode === 'kv1' ? 'kv' : 'secret'
  }

  get server(): VaultTestServer {
    if (this.vault === undefined) throw new Error('the vault fixture is not started')
    return this.vault
  }

  get cwd(): string {
    return this.sandbox.project
  }

  async start(): Promise<void> {
    if (this.options.mode === 'kv2-mtls') {
      this.pki = createPki()
      this.vault = await VaultTestServer.start({pki: this.pki, requireClientCert: true})
    } else {
      this.vault = await VaultTestServer.start()
      this.vault.mountKv('kv', 1)
    }
    writeFileSync(join(this.cwd, 'secrets.yaml'), `providers:\n${this.yaml()}`)
  }

  async stop(): Promise<void> {
    await this.vault?.close()
    this.pki?.cleanup()
    this.sandbox.cleanup()
  }

  env(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
    const tls =
      this.pki === undefined
        ? {}
        : {
            VAULT_CACERT: this.pki.ca.certFile,
            VAULT_CLIENT_CERT: this.pki.client.certFile,
            VAULT_CLIENT_KEY: this.pki.client.keyFile,
          }
    return this.sandbox.env({VAULT_ADDR: this.server.url, VAULT_TOKEN: this.server.rootToken, ...tls, ...extra})
  }

  async trailSetup(dir: string): Promise<{yaml: string; args: string[]}> {
    const log = join(dir, 'vault-audit.log')
    // Enabled over the API with the root token, as an operator would (`vault audit enable file ...`).
    const res = await fetch(`${this.server.url}/v1/sys/audit/file`, {
      method: 'POST',
      headers: {'X-Vault-Token': this.server.rootToken},
      body: JSON.stringify({type: 'file', options: {file_path: log}}),
    })
    if (res.status !== 204) throw new Error(`enabling the audit device: ${res.status}`)
    return {yaml: this.yaml(), args: ['--vault-audit-file', log]}
  }

  keyRecipient(): string {
    if (!this.transit) this.server.mountTransit()
    this.transit = true
    return `vault-transit://transit/store-${randomBytes(3).toString('hex')}`
  }

  yaml(): string {
    return `  ${this.alias}: {type: vault}\n`
  }

  refFor(name: string): string {
    return `vault://${this.mount}/conformance/${name}#value`
  }

  async seed(name: string, value: string): Promise<void> {
    this.server.put(this.mount, `conformance/${name}`, {value})
  }

  inject(fault: Fault): void {
    this.server.inject(fault)
  }

  counts(): Record<string, number> {
    return this.server.faults.counts()
  }

  reset(): void {
    this.server.faults.clear()
    this.server.resetCounters()
  }
}
