import assert from 'node:assert/strict'
import {spawn, type ChildProcessWithoutNullStreams} from 'node:child_process'
import {existsSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {BIN, Sandbox} from '../helpers/cli.js'

/** Wait until the child printed "ready"; fail with its stderr if it exits first. */
async function untilReady(child: ChildProcessWithoutNullStreams | ReturnType<typeof spawn>): Promise<{closed: Promise<number | null>; output: () => string}> {
  let out = ''
  let err = ''
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve))
  child.stderr!.on('data', (d) => (err += d))
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d
      if (out.includes('ready')) resolve()
    })
    closed.then((code) => reject(new Error(`exited with ${code} before it was ready: ${err}`)))
  })
  return {closed, output: () => out}
}

describe('exec', () => {
  const sb = new Sandbox()
  before(async () => {
    await sb.init()
    assert.equal((await sb.run(['set', 'DB_PASSWORD'], {input: 'pw-from-store'})).code, 0)
    assert.equal((await sb.run(['set', 'API_TOKEN'], {input: 'token-from-store'})).code, 0)
  })
  after(() => sb.cleanup())

  it('gives the child the secrets and the parent environment, never SECRETS_* variables', async () => {
    const r = await sb.run(['exec', '--', 'sh', '-c', 'printf "%s|%s|%s|" "$DB_PASSWORD" "$API_TOKEN" "$PARENT_VAR"; env | grep -c ^SECRETS_ || true'], {
      env: {PARENT_VAR: 'from-parent', SECRETS_LOCK_TIMEOUT: '9'},
    })
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'pw-from-store|token-from-store|from-parent|0\n')
  })

  it('exits with exactly the child\'s status, and 128+N when it dies from signal N', async () => {
    assert.equal((await sb.run(['exec', '--', 'sh', '-c', 'exit 42'])).code, 42)
    assert.equal((await sb.run(['exec', '--', 'sh', '-c', 'kill -TERM $$'])).code, 143)
    assert.equal((await sb.run(['exec', '--', 'sh', '-c', 'kill -KILL $$'])).code, 137)
  })

  it('flags after -- belong to the child', async () => {
    const r = await sb.run(['exec', '--', 'sh', '-c', 'printf "%s " "$@"', 'sh', '--json', '--env', 'x'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, '--json --env x ')
  })

  it('--only and --pristine restrict what the child sees; a clash is warned about', async () => {
    const only = await sb.run(['exec', '--only', 'API_TOKEN', '--', 'sh', '-c', 'printf "[%s][%s]" "$DB_PASSWORD" "$API_TOKEN"'])
    assert.equal(only.stdout, '[][token-from-store]')
    const pristine = await sb.run(['exec', '--pristine', '--', 'sh', '-c', 'printf "[%s][%s][%s]" "$PARENT_VAR" "$DB_PASSWORD" "$HOME"'], {env: {PARENT_VAR: 'x'}})
    assert.equal(pristine.stdout, `[][pw-from-store][${sb.home}]`)
    const clash = await sb.run(['exec', '--', 'sh', '-c', 'printf %s "$DB_PASSWORD"'], {env: {DB_PASSWORD: 'from-parent'}})
    assert.equal(clash.stdout, 'pw-from-store')
    assert.equal(clash.stderr, 'Warning: DB_PASSWORD is set in your environment too; the secret\'s value is used.\n')
  })

  it('fails closed: nothing starts when a secret cannot be resolved', async () => {
    writeFileSync(join(sb.project, 'secrets.yaml'), 'providers:\n  local: {type: local, path: .secrets/store.json}\nenv:\n  GONE: local://NOT_THERE\n')
    const marker = join(sb.root, 'started')
    try {
      const r = await sb.run(['exec', '--', 'sh', '-c', `touch ${marker}`])
      assert.equal(r.code, 5)
      assert.equal(existsSync(marker), false)
      assert.match(r.stderr, /^Error \[NOT_FOUND\]: Could not resolve 1 of 3 variable\(s\); nothing was used:\n {2}GONE = local:\/\/NOT_THERE \(provider local\): \[NOT_FOUND\]/)
      const allowed = await sb.run(['exec', '--allow-missing', '--', 'sh', '-c', `touch ${marker}`])
      assert.equal(allowed.code, 0, allowed.stderr)
      assert.equal(allowed.stderr, 'Warning: GONE (local://NOT_THERE) was not found and is left out (--allow-missing).\n')
      assert.equal(existsSync(marker), true)
    } finally {
      writeFileSync(join(sb.project, 'secrets.yaml'), 'providers:\n  local: {type: local, path: .secrets/store.json}\n')
    }
  })

  it('a missing command is 127, no command is a usage error', async () => {
    const r = await sb.run(['exec', '--', 'definitely-not-a-command-xyz'])
    assert.equal(r.code, 127)
    assert.equal(r.stderr, 'Error [COMMAND_NOT_FOUND]: Command not found: definitely-not-a-command-xyz. Nothing was run.\n  → Check the spelling and PATH.\n')
    const none = await sb.run(['exec'])
    assert.equal(none.code, 2)
    assert.equal(none.stderr, 'Error [USAGE]: No command to run: put it after --, e.g. `secrets exec -- npm start`.\n')
  })

  it('forwards SIGTERM to the child and exits with its status', {timeout: 60_000}, async () => {
    const child = spawn(process.execPath, [BIN, 'exec', '--', 'sh', '-c', 'trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 0.05; done'], {cwd: sb.project, env: sb.env(), stdio: ['ignore', 'pipe', 'pipe']})
    const {closed, output} = await untilReady(child)
    child.kill('SIGTERM')
    assert.equal(await closed, 7)
    assert.equal(output(), 'ready\ngot-term\n')
  })

  it('escalates to SIGKILL when the child ignores SIGTERM past --kill-timeout', {timeout: 60_000}, async () => {
    const child = spawn(process.execPath, [BIN, 'exec', '--kill-timeout', '1', '--', 'sh', '-c', 'trap "" TERM; echo ready; while :; do sleep 0.05; done'], {cwd: sb.project, env: sb.env(), stdio: ['ignore', 'pipe', 'pipe']})
    const {closed} = await untilReady(child)
    const t0 = Date.now()
    child.kill('SIGTERM')
    assert.equal(await closed, 137)
    assert.ok(Date.now() - t0 >= 900)
  })
})
