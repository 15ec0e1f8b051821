import assert from 'node:assert/strict'
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {Sandbox} from '../helpers/cli.js'
import {cliOnTerminal as onTerminal, skipWithoutPty, type TerminalResult} from '../helpers/terminal.js'

const CTRL_C = '\u0003'
const CTRL_D = '\u0004'

/** Cancelled: exit 130, the one line, and none of the bug text. */
function assertCancelled(r: TerminalResult): void {
  assert.equal(r.code, 130, r.output)
  assert.match(r.output, /Cancelled\./)
  assert.doesNotMatch(r.output, /INTERNAL|This is a bug|ExitPromptError|AbortPromptError|at .*\.js:\d+/)
}

describe('Ctrl-C and end of input', () => {
  const sb = new Sandbox()
  after(() => sb.cleanup())

  it('Ctrl-C at the first init prompt: exit 130, nothing created', async (t) => {
    if (skipWithoutPty(t)) return
    const r = await onTerminal(sb, ['init'], [['Where should the encrypted store live?', CTRL_C]])
    assertCancelled(r)
    assert.deepEqual(readdirSync(sb.project), [])
  })

  it('Ctrl-C at the init passphrase prompt: no store, no secrets.yaml', async (t) => {
    if (skipWithoutPty(t)) return
    const r = await onTerminal(
      sb,
      ['init'],
      [
        ['Where should the encrypted store live?', '\r'],
        ['Also let a passphrase open the store', 'y\r'],
        ['New store passphrase', CTRL_C],
      ],
    )
    assertCancelled(r)
    assert.ok(!existsSync(join(sb.project, 'secrets.yaml')))
    assert.ok(!existsSync(join(sb.project, '.secrets', 'store.json')))
    // The passphrase is asked for before anything is written: not even the identity is created.
    assert.ok(!existsSync(sb.identityFile), 'the identity was created before the passphrase was given')
  })

  describe('in a project', () => {
    before(async () => {
      const r = await sb.run(['init', '--yes'])
      assert.equal(r.code, 0, r.stderr)
    })

    it('Ctrl-C at the set prompt: exit 130, the store unchanged', async (t) => {
      if (skipWithoutPty(t)) return
      const store = readFileSync(join(sb.project, '.secrets', 'store.json'), 'utf8')
      const r = await onTerminal(sb, ['set', 'TYPED'], [['Value for local://TYPED', `half${CTRL_C}`]])
      assertCancelled(r)
      assert.equal(readFileSync(join(sb.project, '.secrets', 'store.json'), 'utf8'), store)
    })

    it('end of input (Ctrl-D) at the set prompt: exit 130, the store unchanged', async (t) => {
      if (skipWithoutPty(t)) return
      const store = readFileSync(join(sb.project, '.secrets', 'store.json'), 'utf8')
      const r = await onTerminal(sb, ['set', 'TYPED'], [['Value for local://TYPED', CTRL_D]])
      assertCancelled(r)
      assert.equal(readFileSync(join(sb.project, '.secrets', 'store.json'), 'utf8'), store)
    })

    it('Ctrl-C at a confirmation: exit 130, not ABORTED', async (t) => {
      if (skipWithoutPty(t)) return
      const set = await sb.run(['set', 'KEEP'], {input: 'kept-value'})
      assert.equal(set.code, 0, set.stderr)
      const r = await onTerminal(sb, ['delete', 'KEEP'], [['Delete local://KEEP', CTRL_C]])
      assertCancelled(r)
      const get = await sb.run(['get', 'KEEP'])
      assert.equal(get.stdout, 'kept-value')
    })

    it('--json: Ctrl-C prints the CANCELLED error object', async (t) => {
      if (skipWithoutPty(t)) return
      const r = await onTerminal(sb, ['set', 'TYPED', '--json'], [['Value for local://TYPED', CTRL_C]])
      assert.equal(r.code, 130, r.output)
      assert.match(r.output, /"code": "CANCELLED"/)
      assert.match(r.output, /"exitCode": 130/)
    })

    it('SIGINT while waiting for the store lock: exit 130, Cancelled.', async () => {
      const lockDir = join(sb.project, '.secrets')
      // A live owner (this test process) holds the lock, so the command waits for it.
      const {writeFileSync} = await import('node:fs')
      const {hostname} = await import('node:os')
      const lockFile = join(lockDir, 'store.json.lock')
      writeFileSync(lockFile, `${process.pid}\n${hostname()}\nheld-by-test\n`, {mode: 0o600})
      try {
        const running = sb.start(['set', 'WAITING'], {input: 'waiting-value'})
        await new Promise((resolve) => setTimeout(resolve, 1500))
        running.child.kill('SIGINT')
        const r = await running.done
        assert.equal(r.code, 130, r.stderr)
        assert.match(r.stderr, /Cancelled\./)
        assert.doesNotMatch(r.stderr, /INTERNAL|bug/)
      } finally {
        const {rmSync} = await import('node:fs')
        rmSync(lockFile, {force: true})
      }
      const get = await sb.run(['get', 'WAITING'])
      assert.equal(get.code, 5, get.stderr)
    })
  })
})
