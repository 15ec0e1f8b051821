// The ProviderFixture (test/suites/fixture.ts) of the in-memory provider, in its two variants.
import {randomBytes} from 'node:crypto'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {Sandbox} from '../../helpers/cli.js'
import type {Fault, FixtureCapabilities, ProviderFixture} from '../../suites/fixture.js'
import {counts, registerMemoryProvider, seed, stores} from './provider.js'

let registered = 0
let unregister: (() => void) | undefined

export class MemoryFixture implements ProviderFixture {
  readonly kind = 'memory'
  readonly alias: string
  readonly capabilities: FixtureCapabilities = {trail: false, keyService: false, faults: false}
  private sandbox?: Sandbox
  private readonly store = `mem-${randomBytes(4).toString('hex')}`

  constructor(private readonly variant: 'read-write' | 'read-only') {
    this.alias = variant === 'read-only' ? 'memro' : 'mem'
  }

  async start(): Promise<void> {
    if (registered++ === 0) unregister = registerMemoryProvider()
    this.sandbox = new Sandbox()
    writeFileSync(join(this.cwd, 'secrets.yaml'), `providers:\n${this.yaml()}\n`)
  }

  async stop(): Promise<void> {
    stores.delete(this.store)
    this.sandbox?.cleanup()
    if (--registered === 0) unregister?.()
  }

  get cwd(): string {
    if (this.sandbox === undefined) throw new Error('MemoryFixture: start() first')
    return this.sandbox.project
  }

  env(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
    if (this.sandbox === undefined) throw new Error('MemoryFixture: start() first')
    return this.sandbox.env(extra)
  }

  yaml(): string {
    const ro = this.variant === 'read-only' ? ', readOnly: true' : ''
    return `  ${this.alias}: {type: memory, store: ${this.store}${ro}}`
  }

  refFor(name: string): string {
    return `${this.alias}://${name}`
  }

  async seed(name: string, value: string): Promise<void> {
    seed(this.store, name, value)
  }

  inject(fault: Fault): void {
    throw new Error(`the in-memory provider has no server to inject a ${fault.kind} fault into`)
  }

  counts(): Record<string, number> {
    return {...counts}
  }

  reset(): void {
    for (const k of Object.keys(counts)) delete counts[k]
  }
}
