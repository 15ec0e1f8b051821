import {writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {nonInteractive} from '../../../src/core/interaction.js'
import {SecretValue} from '../../../src/core/secret-value.js'
import {Session} from '../../../src/core/session.js'
import {Sandbox} from '../../helpers/cli.js'
import type {Fault, FixtureCapabilities, ProviderFixture} from '../../suites/fixture.js'

/** The local encrypted store in a sandbox project: no server, so nothing to inject and nothing counted. */
export class LocalFixture implements ProviderFixture {
  readonly kind = 'local'
  readonly alias = 'local'
  readonly capabilities: FixtureCapabilities = {trail: false, keyService: false, faults: false}
  readonly sandbox = new Sandbox()

  get cwd(): string {
    return this.sandbox.project
  }

  async start(): Promise<void> {
    await this.sandbox.init()
    writeFileSync(join(this.cwd, 'secrets.yaml'), `providers:\n${this.yaml()}`)
  }

  async stop(): Promise<void> {
    this.sandbox.cleanup()
  }

  env(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
    return this.sandbox.env(extra)
  }

  yaml(): string {
    return `  ${this.alias}: {type: local, path: .secrets/store.json}\n`
  }

  refFor(name: string): string {
    return `local://${name}`
  }

  async seed(name: string, value: string): Promise<void> {
    const s = new Session({cwd: this.cwd, env: this.env(), ui: nonInteractive(), command: 'seed'})
    await s.set(this.refFor(name), new SecretValue(value))
    await s.close()
  }

  inject(fault: Fault): void {
    throw new Error(`the local provider has no server to answer ${fault.kind}`)
  }

  counts(): Record<string, number> {
    return {}
  }

  reset(): void {}
}
