// Runs the conformance suite in a child process (`node --import tsx --test` on this file), for providers
// whose SDK reads credentials from process.env or whose test server's CA must be trusted from process
// start (NODE_EXTRA_CA_CERTS is read only then). The parent started the fixture and passes what the child
// needs through CONFORMANCE_TARGET: {alias, cwd, env, refPrefix}; the child talks to its server on loopback.
import {describe} from 'node:test'

import {nonInteractive} from '../../src/core/interaction.js'
import {SecretValue} from '../../src/core/secret-value.js'
import {Session} from '../../src/core/session.js'
import {conformance} from './conformance.js'
import type {ProviderFixture} from './fixture.js'

const target = JSON.parse(process.env.CONFORMANCE_TARGET ?? '{}') as {
  alias: string
  cwd: string
  env: NodeJS.ProcessEnv
  refPrefix: string
}

const outOfProcess = (what: string) => () => {
  throw new Error(`${what} belongs to the parent's fixture, not the conformance child`)
}

/** The parent's fixture as seen from here: its server runs in the parent, so seeding goes through the provider. */
const fixture: ProviderFixture = {
  kind: 'child',
  alias: target.alias,
  capabilities: {trail: false, keyService: false, faults: false},
  start: async () => {},
  stop: async () => {},
  cwd: target.cwd,
  env: (extra = {}) => ({...target.env, ...extra}),
  yaml: outOfProcess('yaml()'),
  refFor: (name) => `${target.refPrefix}${name}`,
  async seed(name, value) {
    const s = new Session({cwd: target.cwd, env: target.env, ui: nonInteractive(), command: 'conformance-seed'})
    await s.set(fixture.refFor(name), new SecretValue(value))
    await s.close()
  },
  inject: outOfProcess('inject()'),
  counts: () => ({}),
  reset: () => {},
}

describe(`${target.alias} provider conformance`, () => {
  conformance(fixture)
})
