/**
 * The rotation tests every provider must pass (issue 7), run by test/e2e/rotate-<kind>.test.ts against
 * the local store or that provider's test server, through bin/run.js as a user runs it.
 */
import assert from 'node:assert/strict'
import {existsSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {it} from 'node:test'

import type {RunOptions, RunResult, Sandbox} from '../helpers/cli.js'

export interface RotationFixture {
  sb: Sandbox
  /** Extra environment for every run (provider endpoint and credentials). */
  env: Record<string, string>
  /** secrets.yaml; `{{REF}}` and `{{REF2}}` are the two test secrets. */
  config: string
  /** Create (or reset) a secret with this value; `ref` is what `rotate` and `get` take. */
  seed(name: 'A' | 'B', value: string): Promise<string>
  /** Everything that may hold a pending version (for "nothing pending is left" checks). */
  pendingLeft(name: 'A' | 'B'): Promise<boolean>
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function waitFor(file: string): Promise<void> {
  for (let i = 0; i < 1500 && !existsSync(file); i++) {
    await wait(20)
  }
  assert.ok(existsSync(file), `${file} did not appear`)
}

/**
 * Without a terminal `rotate` needs --yes, and a secret with no `rotate.generate` needs the generator
 * named (issue 16); these tests are about the stages, so every rotate run says both.
 */
export function rotateArgs(args: string[]): string[] {
  if (args[0] !== 'rotate' || args.includes('--status')) return args
  const out = args.includes('--yes') ? [...args] : [...args, '--yes']
  const chosen = ['--generate', '--value-stdin', '--native', '--due', '--all'].some((f) => args.includes(f))
  return chosen ? out : [...out, '--generate', 'password']
}

export function rotationSuite(f: () => RotationFixture): void {
  const run = (args: string[], o: RunOptions = {}): Promise<RunResult> => f().sb.runner(f().env)(rotateArgs(args), o)
  const spawnRun = (args: string[], env: Record<string, string | undefined>) =>
    f().sb.start(rotateArgs(args), {env: {...f().env, ...env}})
  const get = async (ref: string): Promise<string> => {
    const r = await run(['get', ref])
    assert.equal(r.code, 0, r.stderr)
    return r.stdout
  }
  const setup = async (valueA: string, valueB = 'CANARY-b-unused-1234'): Promise<{a: string; b: string}> => {
    const fx = f()
    const a = await fx.seed('A', valueA)
    const b = await fx.seed('B', valueB)
    writeFileSync(join(fx.sb.project, 'secrets.yaml'), fx.config.replaceAll('{{REF}}', a).replaceAll('{{REF2}}', b))
    return {a, b}
  }

  it('rotate: get returns the new value, the previous version is kept and readable, no value in output or audit', async () => {
    const old = 'CANARY-old-value-7f3e91'
    const {a} = await setup(old)
    const r = await run(['rotate', a, '--json'])
    assert.equal(r.code, 0, r.stderr)
    const report = JSON.parse(r.stdout)
    assert.equal(report.exitCode, 0)
    assert.equal(report.rotations.length, 1)
    const [one] = report.rotations
    assert.equal(one.status, 'rotated')
    assert.equal(one.ref, a)
    assert.ok(one.oldVersion && one.newVersion && one.oldVersion !== one.newVersion, JSON.stringify(one))
    const fresh = await get(a)
    assert.match(fresh, /^[A-Za-z0-9]{32}$/)
    assert.notEqual(fresh, old)
    assert.equal(
      await get(`${a.split('#')[0]}?version=${one.oldVersion}${a.includes('#') ? `#${a.split('#')[1]}` : ''}`),
      old,
    )
    const versions = JSON.parse((await run(['versions', a, '--json'])).stdout)
    assert.equal(versions.versions.find((v: {current: boolean}) => v.current).version, one.newVersion)
    assert.ok(versions.versions.some((v: {version: string}) => v.version === one.oldVersion))
    const audit = f().sb.auditText()
    for (const action of ['rotate-pending', 'rotate-promoted']) assert.match(audit, new RegExp(`"action":"${action}"`))
    for (const text of [r.stdout, r.stderr, audit]) {
      assert.ok(!text.includes(fresh), 'the new value leaked')
      assert.ok(!text.includes(old), 'the old value leaked')
    }
    assert.equal(await f().pendingLeft('A'), false)
  })

  it('a failing --verify-cmd leaves the old value current (exit 14), nothing pending; a passing one saw the new value, masked', async () => {
    const old = 'CANARY-verify-old-41d2'
    const {a} = await setup(old)
    const seen = join(f().sb.root, 'seen')
    const failing = await run([
      'rotate',
      a,
      '--verify-cmd',
      `printf %s "$A_VAR" > ${seen}; echo "got $A_VAR"; exit 3`,
      '--json',
    ])
    assert.equal(failing.code, 14, failing.stderr)
    const report = JSON.parse(failing.stdout)
    assert.equal(report.rotations[0].status, 'rolled-back')
    assert.equal(report.rotations[0].error.code, 'VERIFY_FAILED')
    const tried = readFileSync(seen, 'utf8')
    assert.match(tried, /^[A-Za-z0-9]{32}$/)
    assert.match(failing.stderr, /^got <secret:A_VAR>$/m)
    assert.ok(!failing.stderr.includes(tried) && !failing.stdout.includes(tried))
    assert.equal(await get(a), old)
    assert.equal(await f().pendingLeft('A'), false)
    assert.match(f().sb.auditText(), /"action":"rotate-rolled-back"/)
    const passing = await run(['rotate', 'A_VAR', '--verify-cmd', `printf %s "$A_VAR" > ${seen}`])
    assert.equal(passing.code, 0, passing.stderr)
    assert.equal(await get(a), readFileSync(seen, 'utf8'))
    assert.notEqual(await get(a), old)
    assert.match(f().sb.auditText(), /"action":"rotate-verified"/)
  })

  it('killed (SIGKILL) after the pending write: old value current, --status reports it, a re-run abandons it and rotates', async () => {
    const old = 'CANARY-kill-old-9a8b'
    const {a} = await setup(old)
    const pause = join(f().sb.root, 'pause-kill')
    const {child, done} = spawnRun(['rotate', a], {SECRETS_TEST_PAUSE_AFTER_PENDING: pause})
    await waitFor(pause)
    child.kill('SIGKILL')
    const killed = await done
    assert.equal(killed.signal, 'SIGKILL')
    unlinkSync(pause)
    assert.equal(await get(a), old)
    const status = await run(['rotate', '--status', '--json'])
    assert.equal(status.code, 0, status.stderr)
    const {unfinished} = JSON.parse(status.stdout)
    assert.equal(unfinished.length, 1)
    assert.equal(unfinished[0].ref, a.split('#')[0])
    assert.equal(unfinished[0].step, 'pending')
    assert.equal(unfinished[0].running, false)
    const human = await run(['rotate', '--status'])
    assert.match(human.stdout, /interrupted: run rotate again to finish or abandon/)
    const again = await run(['rotate', a, '--json'])
    assert.equal(again.code, 0, again.stderr)
    const r = JSON.parse(again.stdout).rotations[0]
    assert.equal(r.status, 'rotated')
    assert.equal(r.abandoned, unfinished[0].id)
    assert.notEqual(await get(a), old)
    assert.deepEqual(JSON.parse((await run(['rotate', '--status', '--json'])).stdout).unfinished, [])
    assert.equal(await f().pendingLeft('A'), false)
  })

  it('killed where the journal is lost (a CI job): the next run gets CONFLICT; --abandon-pending drops the pending version and rotates', async () => {
    const old = 'CANARY-lost-old-1a2b'
    const {a} = await setup(old)
    const pause = join(f().sb.root, 'pause-lost')
    const lostState = join(f().sb.root, 'lost-state')
    mkdirSync(lostState, {recursive: true})
    const {child, done} = spawnRun(['rotate', a], {SECRETS_TEST_PAUSE_AFTER_PENDING: pause, XDG_STATE_HOME: lostState})
    await waitFor(pause)
    child.kill('SIGKILL')
    await done
    unlinkSync(pause)
    rmSync(lostState, {recursive: true, force: true})
    assert.equal(await get(a), old)
    assert.equal(await f().pendingLeft('A'), true)
    const blocked = await run(['rotate', a])
    assert.equal(blocked.code, 11, blocked.stderr)
    assert.match(blocked.stderr, /--abandon-pending/)
    assert.equal(await get(a), old)
    const r = await run(['rotate', a, '--abandon-pending', '--json'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(JSON.parse(r.stdout).rotations[0].status, 'rotated')
    assert.notEqual(await get(a), old)
    assert.equal(await f().pendingLeft('A'), false)
    assert.match(f().sb.auditText(), /"action":"rotate-rolled-back"/)
  })

  it('two concurrent rotations of one secret: exactly one wins, the other gets CONFLICT (exit 11)', async () => {
    const old = 'CANARY-race-old-5c6d'
    const {a} = await setup(old)
    const pause = join(f().sb.root, 'pause-race')
    const first = spawnRun(['rotate', a, '--json'], {SECRETS_TEST_PAUSE_AFTER_PENDING: pause})
    await waitFor(pause)
    // Another user (another journal): only the provider's own guard (lock, cas, stages) can stop it.
    const otherState = join(f().sb.root, 'other-state')
    mkdirSync(otherState, {recursive: true})
    const second = await run(['rotate', a, '--json'], {env: {XDG_STATE_HOME: otherState}})
    assert.equal(second.code, 11, second.stdout + second.stderr)
    assert.equal(JSON.parse(second.stdout).rotations[0].error.code, 'CONFLICT')
    unlinkSync(pause)
    const won = await first.done
    assert.equal(won.code, 0, won.stderr)
    const winner = JSON.parse(won.stdout).rotations[0]
    assert.equal(winner.status, 'rotated')
    const current = JSON.parse((await run(['get', a, '--json'])).stdout)
    assert.equal(current.version, winner.newVersion)
    assert.notEqual(current.value, old)
    assert.equal(await f().pendingLeft('A'), false)
    rmSync(otherState, {recursive: true, force: true})
  })

  it('--due rotates exactly the overdue secrets (time from SECRETS_NOW); nothing due exits 13', async () => {
    const {a, b} = await setup('CANARY-due-a-1111', 'CANARY-due-b-2222')
    const fx = f()
    writeFileSync(
      join(fx.sb.project, 'secrets.yaml'),
      fx.config
        .replaceAll('{{REF}}', a)
        .replaceAll('{{REF2}}', b)
        .replace('A_VAR: ', 'A_VAR: {rotate: {every: 10d}, ref: ')
        .replace(/(A_VAR: \{.*)$/m, '$1}')
        .replace('B_VAR: ', 'B_VAR: {rotate: {every: 30d}, ref: ')
        .replace(/(B_VAR: \{.*)$/m, '$1}'),
    )
    const in20days = new Date(Date.now() + 20 * 86_400_000).toISOString()
    const status = await run(['status', '--json'], {env: {SECRETS_NOW: in20days}})
    assert.equal(status.code, 0, status.stderr)
    const rows = JSON.parse(status.stdout).secrets
    assert.deepEqual(
      rows.map((s: {name: string; due: boolean; every: string; ageDays: number}) => [
        s.name,
        s.due,
        s.every,
        s.ageDays,
      ]),
      [
        ['A_VAR', true, '10d', 20],
        ['B_VAR', false, '30d', 20],
      ],
    )
    const dry = await run(['rotate', '--due', '--dry-run', '--json'], {env: {SECRETS_NOW: in20days}})
    assert.equal(dry.code, 0, dry.stderr)
    assert.deepEqual(
      JSON.parse(dry.stdout).rotations.map((r: {name: string; status: string}) => [r.name, r.status]),
      [['A_VAR', 'would-rotate']],
    )
    const due = await run(['rotate', '--due', '--json'], {env: {SECRETS_NOW: in20days}})
    assert.equal(due.code, 0, due.stderr)
    assert.deepEqual(
      JSON.parse(due.stdout).rotations.map((r: {name: string; status: string}) => [r.name, r.status]),
      [['A_VAR', 'rotated']],
    )
    assert.notEqual(await get(a), 'CANARY-due-a-1111')
    assert.equal(await get(b), 'CANARY-due-b-2222')
    const none = await run(['rotate', '--due', '--json'], {
      env: {SECRETS_NOW: new Date(Date.now() + 5 * 86_400_000).toISOString()},
    })
    assert.equal(none.code, 13, none.stderr)
    assert.deepEqual(JSON.parse(none.stdout), {rotations: [], exitCode: 13})
  })

  it('--dry-run changes nothing; rollback makes the previous version current again', async () => {
    const old = 'CANARY-dry-old-3e3e'
    const {a} = await setup(old)
    const before = (await run(['versions', a, '--json'])).stdout
    const dry = await run(['rotate', a, '--dry-run', '--json'])
    assert.equal(dry.code, 0, dry.stderr)
    assert.equal(JSON.parse(dry.stdout).rotations[0].status, 'would-rotate')
    assert.equal(await get(a), old)
    assert.equal((await run(['versions', a, '--json'])).stdout, before)
    assert.equal(await f().pendingLeft('A'), false)
    const rotated = await run(['rotate', a, '--yes'])
    assert.equal(rotated.code, 0, rotated.stderr)
    assert.notEqual(await get(a), old)
    const back = await run(['rollback', a.split('#')[0], '--yes', '--json'])
    assert.equal(back.code, 0, back.stderr)
    assert.equal(await get(a), old)
    assert.match(f().sb.auditText(), /"action":"rollback"/)
  })
}
