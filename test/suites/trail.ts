import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, it, type TestContext} from 'node:test'

import {Sandbox} from '../helpers/cli.js'
import {skipWithout} from './each.js'
import type {ProviderFixture} from './fixture.js'

interface Row {
  source: string
  action: string
  secret: string
  outcome: string
}

/**
 * The provider's own access trail through `secrets audit trail --provider <alias>`: a read served by the
 * server shows up as the provider's event, beside the local access record, and no value appears.
 */
export function trailSuite(f: ProviderFixture): void {
  const sb = new Sandbox()
  const name = `trail-${randomBytes(3).toString('hex')}`
  const value = `CANARY-${randomBytes(6).toString('hex')}`
  let args: string[] = []
  const run = (a: string[]) => sb.run(a, {env: {...f.env(), HOME: sb.home}, cwd: sb.project})
  const having = (t: TestContext) => skipWithout(t, f, 'trail')

  before(async () => {
    if (!f.capabilities.trail) return
    if (f.trailSetup === undefined) throw new Error(`${f.alias} declares trail but its fixture has no trailSetup()`)
    const setup = await f.trailSetup(sb.root)
    args = setup.args
    assert.equal((await run(['init', '--yes'])).code, 0)
    writeFileSync(
      join(sb.project, 'secrets.yaml'),
      `providers:\n  local: {type: local, path: .secrets/store.json}\n${setup.yaml}env:\n  TRAILED: ${f.refFor(name)}\n`,
    )
    await f.seed(name, value)
  })
  after(() => sb.cleanup())

  it('a read through secrets is in the trail as the provider saw it and as secrets recorded it, without its value', async (t) => {
    if (!having(t)) return
    const got = await run(['get', f.refFor(name)])
    assert.deepEqual([got.code, got.stdout], [0, value], got.stderr)
    const r = await run(['audit', 'trail', '--provider', f.alias, '--json', ...args])
    assert.equal(r.code, 0, r.stderr)
    const secret = f.refFor(name).replace(/#.*$/, '')
    const rows = (JSON.parse(r.stdout) as {events: Row[]}).events.filter((e) => e.secret === secret)
    assert.deepEqual(
      rows.map((e) => [e.source, e.outcome]).sort(),
      [
        ['local', 'ok'],
        ['provider', 'ok'],
      ],
      r.stdout,
    )
    assert.doesNotMatch(r.stdout + r.stderr, new RegExp(value))
  })
}
