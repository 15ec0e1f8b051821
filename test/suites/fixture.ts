/**
 * The one contract every provider's test fixture (test/providers/<kind>/fixture.ts) offers the shared
 * suites in test/suites/: conformance, rotation, trail, key service and the error matrix. A suite asks
 * the fixture for what it needs and never knows which server is behind it.
 */

/** A fault in the server's own wire shape, named by what the client sees. */
export type FaultKind =
  /** The caller's credentials lack the permission (AWS AccessDeniedException, Vault 403, Azure 403 Forbidden). */
  | 'denied'
  /** Rate limited on every attempt (AWS ThrottlingException, Vault/Azure 429 with Retry-After). */
  | 'throttled'
  /** A 5xx answer. */
  | 'unavailable'
  /** The connection is dropped before an answer. */
  | 'reset'

export interface Fault {
  kind: FaultKind
  /** Only requests of this operation (the server's own counter names); default every request. */
  op?: string
  /** How many requests it applies to; default all until reset(). */
  times?: number
}

/** What a provider does not have is declared, so a suite skips it (never a silent pass). */
export interface FixtureCapabilities {
  /** The provider keeps its own access trail (`secrets audit trail`). */
  trail: boolean
  /** The provider can hold the local store's data key (`secrets key add <scheme>://...`). */
  keyService: boolean
  /** A server answers the CLI, so `inject` and `counts` work across processes (the error matrix). */
  faults: boolean
}

export interface ProviderFixture {
  /** The provider type, as in `providers: {<alias>: {type: <kind>}}`. */
  readonly kind: string
  /** The alias the fixture's secrets.yaml gives the provider. */
  readonly alias: string
  readonly capabilities: FixtureCapabilities
  /** Start the test server in process (127.0.0.1, ephemeral port) and a sandbox project that uses it. */
  start(): Promise<void>
  /** Stop the server and remove the sandbox. */
  stop(): Promise<void>
  /** The sandbox project directory (holds secrets.yaml). */
  readonly cwd: string
  /** The environment a command runs with to reach the server (credentials, address, CA), plus `extra`. */
  env(extra?: Record<string, string | undefined>): NodeJS.ProcessEnv
  /** The `providers:` entry of this provider, as secrets.yaml text (`  <alias>: {type: ...}`). */
  yaml(): string
  /** A reference, in this provider's syntax, to a secret called `name`. */
  refFor(name: string): string
  /** Put a secret straight into the server, as another client would. */
  seed(name: string, value: string): Promise<void>
  /** Make the server answer the next matching requests with a fault. */
  inject(fault: Fault): void
  /** Requests the server received, by operation name, faults included. */
  counts(): Record<string, number>
  /**
   * With capabilities.keyService: create a key in the server and return the recipient that names it
   * (`secrets key add <recipient>`); the fixture's env() signs in to it.
   */
  keyRecipient?(): string
  /**
   * With capabilities.trail: turn the server's access trail on (files under `dir`) and return this
   * provider's `providers:` entry reading it, and the extra `audit trail` flags it needs.
   */
  trailSetup?(dir: string): Promise<{yaml: string; args: string[]}>
  /** Clear faults and counters (not secrets). */
  reset(): void
}
