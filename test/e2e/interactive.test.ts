import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'

import {BIN, Sandbox} from '../helpers/cli.js'
import {cliOnTerminal as onTerminal, skipWithoutPty} from '../helpers/terminal.js'

describe('on a terminal', () => {
  const sb = new Sandbox()
  after(() => sb.cleanup())

  it('init asks where the store goes and whether to add a passphrase', async (t) => {
    if (skipWithoutPty(t)) return
    const r = await onTerminal(
      sb,
      ['init'],
      [
        ['Where should the encrypted store live?', '\r'],
        ['Also let a passphrase open the store', 'y\r'],
        ['New store passphrase', 'terminal passphrase 1\r'],
        ['Repeat the passphrase', 'terminal passphrase 1\r'],
      ],
    )
    assert.equal(r.code, 0, r.output)
    assert.match(r.output, /created {2}store {5}.*store\.json \(2 recipients\)/)
    assert.ok(!r.output.includes('terminal passphrase 1'), 'the passphrase was echoed')
    const store = JSON.parse(readFileSync(join(sb.project, '.secrets', 'store.json'), 'utf8'))
    assert.deepEqual(
      store.recipients.map((x: {type: string}) => x.type),
      ['age', 'scrypt'],
    )
  })

  it('set asks for the value with a hidden prompt', async (t) => {
    if (skipWithoutPty(t)) return
    const r = await onTerminal(sb, ['set', 'TYPED'], [['Value for local://TYPED', 'typed-secret-value\r']])
    assert.equal(r.code, 0, r.output)
    assert.ok(!r.output.includes('typed-secret-value'), 'the value was echoed')
    const get = spawnSync(process.execPath, [BIN, 'get', 'TYPED'], {cwd: sb.project, env: sb.env(), encoding: 'utf8'})
    assert.equal(get.stdout, 'typed-secret-value')
  })

  it('delete asks for confirmation and declining is ABORTED (exit 12)', async (t) => {
    if (skipWithoutPty(t)) return
    const r = await onTerminal(sb, ['delete', 'TYPED'], [['Delete local://TYPED and all its versions?', 'n\r']])
    assert.equal(r.code, 12, r.output)
    assert.match(r.output, /Error \[ABORTED\]: Did not delete local:\/\/TYPED\./)
    assert.ok(existsSync(join(sb.project, '.secrets', 'store.json')))
  })

  it('CI=true never prompts, even on a terminal', async (t) => {
    if (skipWithoutPty(t)) return
    const r = await onTerminal(sb, ['delete', 'TYPED'], [], {CI: 'true'})
    assert.equal(r.code, 2, r.output)
    assert.match(
      r.output,
      /Refusing to delete local:\/\/TYPED without confirmation: there is no terminal to ask on \(or CI is set\)\./,
    )
  })
})
