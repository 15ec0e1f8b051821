import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {after, it, type TestContext} from 'node:test'

import {Sandbox} from '../helpers/cli.js'
import {skipWithout} from './each.js'
import type {FaultKind, ProviderFixture} from './fixture.js'

/** What a user sees for each fault, on every provider: the code, its exit status, and never the value. */
const EXPECTED: Array<{fault: FaultKind; code: string; exit: number}> = [
  {fault: 'denied', code: 'PERMISSION_DENIED', exit: 6},
  {fault: 'throttled', code: 'UNAVAILABLE', exit: 9},
  {fault: 'unavailable', code: 'UNAVAILABLE', exit: 9},
]

const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0)

/**
 * One error matrix for every provider with a server, through the CLI as a user runs it: `secrets get`
 * of a missing secret (every provider), and of a present one while the server answers with each shared fault kind.
 */
export function errorMatrix(f: ProviderFixture): void {
  // Only for its spawn helper: cwd and env (HOME included) are the fixture's.
  const cli = new Sandbox()
  after(() => cli.cleanup())
  const get = (ref: string) => cli.run(['get', ref], {cwd: f.cwd, env: f.env()})
  const unique = () => `matrix-${randomBytes(4).toString('hex')}`
  const servered = (t: TestContext) => skipWithout(t, f, 'faults')

  it('a missing secret is NOT_FOUND (exit 5), naming it', async () => {
    const name = unique()
    const r = await get(f.refFor(name))
    assert.equal(r.code, 5, r.stderr)
    assert.match(r.stderr, /\[NOT_FOUND\]/)
    assert.match(r.stderr, new RegExp(name))
    assert.equal(r.stdout, '')
  })

  for (const {fault, code, exit} of EXPECTED) {
    it(`a server answering ${fault} is ${code} (exit ${exit}), with no value and no stack`, async (t) => {
      if (!servered(t)) return
      const name = unique()
      const value = `CANARY-${randomBytes(6).toString('hex')}`
      await f.seed(name, value)
      f.reset()
      f.inject({kind: fault})
      try {
        const before = total(f.counts())
        const r = await get(f.refFor(name))
        assert.equal(r.code, exit, r.stderr)
        assert.match(r.stderr, new RegExp(`\\[${code}\\]`))
        assert.doesNotMatch(r.stderr + r.stdout, new RegExp(value))
        assert.doesNotMatch(r.stderr, /\n\s+at /)
        // Retryable faults are retried before giving up; a denial is final.
        const requests = total(f.counts()) - before
        if (exit === 9) assert.ok(requests > 1, `${fault}: ${requests} request(s), no retry`)
      } finally {
        f.reset()
      }
    })
  }
}
