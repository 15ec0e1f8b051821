import {after, before, describe, type TestContext} from 'node:test'

import type {FixtureCapabilities, ProviderFixture} from './fixture.js'

/** Run `suite` once per fixture, each in its own describe block with the fixture started around it. */
export function forEachFixture(
  what: string,
  fixtures: Array<[title: string, fixture: ProviderFixture]>,
  suite: (f: ProviderFixture) => void,
): void {
  for (const [title, f] of fixtures) {
    describe(`${what}: ${title}`, () => {
      before(() => f.start())
      after(() => f.stop())
      suite(f)
    })
  }
}

/** True when the fixture has `capability`; otherwise the test is marked skipped with the reason. */
export function skipWithout(t: TestContext, f: ProviderFixture, capability: keyof FixtureCapabilities): boolean {
  if (f.capabilities[capability]) return true
  t.skip(`${f.alias} has no ${capability} capability`)
  return false
}
