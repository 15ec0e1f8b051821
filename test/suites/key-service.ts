import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {renameSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, it, type TestContext} from 'node:test'

import {Sandbox} from '../helpers/cli.js'
import {skipWithout} from './each.js'
import type {ProviderFixture} from './fixture.js'

/**
 * The provider's key service as a recipient of the local store, through the CLI: `key add` wraps the
 * data key, a run with no age identity (CI) opens the store through the service, and after `key remove`
 * it cannot. A project of its own (HOME, identity, store) signs in to the fixture's server.
 */
export function keyServiceSuite(f: ProviderFixture): void {
  const sb = new Sandbox()
  const name = `KS_${randomBytes(3).toString('hex').toUpperCase()}`
  const value = `CANARY-${randomBytes(6).toString('hex')}`
  let recipient = ''
  const run = (args: string[], input?: string) =>
    sb.run(args, {input, env: {...f.env(), HOME: sb.home}, cwd: sb.project})
  const withoutIdentity = async <T>(work: () => Promise<T>): Promise<T> => {
    renameSync(sb.identityFile, `${sb.identityFile}.away`)
    try {
      return await work()
    } finally {
      renameSync(`${sb.identityFile}.away`, sb.identityFile)
    }
  }
  const having = (t: TestContext) => skipWithout(t, f, 'keyService')

  before(async () => {
    if (!f.capabilities.keyService) return
    if (f.keyRecipient === undefined)
      throw new Error(`${f.alias} declares keyService but its fixture has no keyRecipient()`)
    recipient = f.keyRecipient()
    assert.equal((await run(['init', '--yes'])).code, 0)
    writeFileSync(
      join(sb.project, 'secrets.yaml'),
      `providers:\n  local: {type: local, path: .secrets/store.json}\n${f.yaml()}`,
    )
    const set = await run(['set', name], value)
    assert.equal(set.code, 0, set.stderr)
  })
  after(() => sb.cleanup())

  it('key add wraps the data key with the service', async (t) => {
    if (!having(t)) return
    const r = await run(['key', 'add', recipient])
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, '', `✓ added ${recipient} to ${sb.storeFile}\n`])
  })

  it('with no age identity, the store opens through the service', async (t) => {
    if (!having(t)) return
    const r = await withoutIdentity(() => run(['get', name]))
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, value, ''])
  })

  it('after key remove, a run with no age identity is IDENTITY_MISSING (exit 7), with no value', async (t) => {
    if (!having(t)) return
    const removed = await run(['key', 'remove', recipient, '--yes'])
    assert.equal(removed.code, 0, removed.stderr)
    const r = await withoutIdentity(() => run(['get', name]))
    assert.equal(r.code, 7, r.stderr)
    assert.match(r.stderr, /^Error \[IDENTITY_MISSING\]/)
    assert.doesNotMatch(r.stdout + r.stderr, new RegExp(value))
  })
}
