import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {after, before, describe, it} from 'node:test'

import {BIN, Sandbox} from '../helpers/cli.js'
import {cliOnTerminal as onTerminal, skipWithoutPty} from '../helpers/terminal.js'

describe('rotate on a terminal', () => {
  const sb = new Sandbox()
  const get = () =>
    spawnSync(process.execPath, [BIN, 'get', 'TTY_KEY'], {cwd: sb.project, env: sb.env(), encoding: 'utf8'}).stdout
  before(async () => {
    await sb.init()
    assert.equal((await sb.run(['set', 'TTY_KEY'], {input: 'CANARY-tty-old-66'})).code, 0)
  })
  after(() => sb.cleanup())

  it('asks first; declining is ABORTED (exit 12) and changes nothing', async (t) => {
    if (skipWithoutPty(t)) return
    const r = await onTerminal(sb, ['rotate', 'TTY_KEY', '--generate', 'hex'], [['Rotate TTY_KEY?', 'n\r']])
    assert.equal(r.code, 12, r.output)
    // The confirmation says how the new value is made and whether anything verifies it.
    assert.match(r.output, /TTY_KEY: 32 random bytes as hex \(--generate\); no verify command runs\r?\n/)
    assert.match(r.output, /Error \[ABORTED\]: Nothing was rotated\./)
    assert.equal(get(), 'CANARY-tty-old-66')
  })

  it('confirming rotates, with a progress line; --yes and CI=true do not ask, and CI keeps the log quiet', async (t) => {
    if (skipWithoutPty(t)) return
    const yes = await onTerminal(sb, ['rotate', 'TTY_KEY', '--generate', 'hex'], [['Rotate TTY_KEY?', 'y\r']])
    assert.equal(yes.code, 0, yes.output)
    assert.match(yes.output, /secrets: \[1\/1\] TTY_KEY/)
    assert.match(yes.output, /✓ TTY_KEY \(local:\/\/TTY_KEY\) rotated: 1 -> 2/)
    assert.notEqual(get(), 'CANARY-tty-old-66')
    const flag = await onTerminal(sb, ['rotate', 'TTY_KEY', '--generate', 'hex', '--yes'], [])
    assert.equal(flag.code, 0, flag.output)
    // CI=true is no terminal: without --yes it refuses (issue 16), with it it goes ahead quietly.
    const refused = await onTerminal(sb, ['rotate', 'TTY_KEY', '--generate', 'hex'], [], {CI: 'true'})
    assert.equal(refused.code, 2, refused.output)
    assert.match(refused.output, /Refusing to rotate TTY_KEY without confirmation/)
    const ci = await onTerminal(sb, ['rotate', 'TTY_KEY', '--generate', 'hex', '--yes'], [], {CI: 'true'})
    assert.equal(ci.code, 0, ci.output)
    assert.doesNotMatch(ci.output, /Rotate TTY_KEY\?|\[1\/1\]/)
    assert.match(ci.output, /✓ TTY_KEY \(local:\/\/TTY_KEY\) rotated: 3 -> 4/)
  })

  it('a variable without rotate.generate, and no --generate or --value-stdin: USAGE (exit 2) before asking', async (t) => {
    if (skipWithoutPty(t)) return
    const r = await onTerminal(sb, ['rotate', 'TTY_KEY'], [])
    assert.equal(r.code, 2, r.output)
    assert.match(r.output, /Error \[USAGE\]: Not rotating TTY_KEY: it has no `rotate.generate` in secrets.yaml/)
    assert.match(r.output, /--value-stdin/)
    assert.match(r.output, /--generate/)
    assert.doesNotMatch(r.output, /Rotate TTY_KEY\?/)
  })
})
