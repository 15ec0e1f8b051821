import assert from 'node:assert/strict'
import {existsSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {hostname} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {spawnSync} from 'node:child_process'

import {Sandbox} from '../helpers/cli.js'

describe('concurrent writers', () => {
  const sb = new Sandbox()
  before(() => sb.init())
  after(() => sb.cleanup())

  it('20 concurrent `set` processes on one store lose no update', async () => {
    const results = await Promise.all(
      Array.from({length: 20}, (_, i) => sb.run(['set', `KEY_${i}`], {input: `value-${i}`})),
    )
    for (const [i, r] of results.entries()) assert.equal(r.code, 0, `writer ${i}: ${r.stderr}`)
    const list = JSON.parse((await sb.run(['list', 'local', '--json'])).stdout)
    assert.deepEqual(
      list.secrets.map((s: {name: string}) => s.name).sort(),
      Array.from({length: 20}, (_, i) => `KEY_${i}`).sort(),
    )
    const exported = JSON.parse((await sb.run(['export', '--format', 'json'])).stdout)
    for (let i = 0; i < 20; i++) assert.equal(exported[`KEY_${i}`], `value-${i}`)
    // The audit log kept one unbroken keyed chain through the concurrent appends.
    const lines = sb.auditText().trimEnd().split('\n')
    const verify = await sb.run(['audit', 'verify', '--json'])
    assert.equal(verify.code, 0, verify.stdout)
    assert.deepEqual([JSON.parse(verify.stdout).intact, JSON.parse(verify.stdout).records], [true, lines.length])
    assert.deepEqual(
      lines.map((l) => JSON.parse(l).seq),
      lines.map((_, i) => i + 1),
    )
    assert.equal(lines.filter((l) => JSON.parse(l).action === 'write').length, 20)
  })

  it('20 concurrent `set` of one name produce versions 1..20 of it', async () => {
    const results = await Promise.all(
      Array.from({length: 20}, (_, i) => sb.run(['set', 'SHARED'], {input: `shared-${i}`})),
    )
    for (const r of results) assert.equal(r.code, 0, r.stderr)
    const versions = results.map((r) => Number(/is now version (\d+)/.exec(r.stderr)![1])).sort((a, b) => a - b)
    assert.deepEqual(
      versions,
      Array.from({length: 20}, (_, i) => i + 1),
    )
  })

  it('a writer killed with SIGKILL leaves a readable store, and the next writer recovers its lock', async () => {
    const dir = join(sb.project, '.secrets')
    for (let round = 0; round < 6; round++) {
      const {child, done: closed} = sb.start(['set', `KILLED_${round}`], {input: `killed-${round}`})
      // Kill at a different moment each round: during start-up, decryption, or the write itself.

      await new Promise((resolve) => setTimeout(resolve, 150 + round * 60))
      child.kill('SIGKILL')

      await closed

      const r = await sb.run(['get', 'KEY_3'])
      assert.equal(r.code, 0, `round ${round}: ${r.stderr}`)
      assert.equal(r.stdout, 'value-3')
    }
    const after = await sb.run(['set', 'AFTER_KILLS'], {input: 'still-works', env: {SECRETS_LOCK_TIMEOUT: '5'}})
    assert.equal(after.code, 0, after.stderr)
    assert.equal((await sb.run(['get', 'AFTER_KILLS'])).stdout, 'still-works')
    // No temp file or lock is left behind by the survivors.
    assert.deepEqual(
      readdirSync(dir).filter((f) => f !== 'store.json' && !f.startsWith('store.json.lock')),
      [],
    )
    assert.ok(
      !existsSync(join(dir, 'store.json.lock')) || readFileSync(join(dir, 'store.json.lock'), 'utf8').length > 0,
    )
  })

  it('a lock left by a dead process is taken over at once; one held by a live process times out with LOCKED', async () => {
    const lock = `${sb.storeFile}.lock`
    const dead = spawnSync('sh', ['-c', 'echo $$']).stdout.toString().trim()
    writeFileSync(lock, `${dead}\n${hostname()}\nabandoned\n`)
    const r = await sb.run(['set', 'AFTER_DEAD_LOCK'], {input: 'ok-value', env: {SECRETS_LOCK_TIMEOUT: '2'}})
    assert.equal(r.code, 0, r.stderr)
    assert.ok(!existsSync(lock))
    writeFileSync(lock, `${process.pid}\n${hostname()}\nlive\n`)
    try {
      const held = await sb.run(['set', 'BLOCKED'], {input: 'blocked-value', env: {SECRETS_LOCK_TIMEOUT: '1'}})
      assert.equal(held.code, 11)
      assert.equal(
        held.stderr,
        `Error [LOCKED]: Timed out waiting for the lock on ${sb.storeFile} (held by process ${process.pid} on ${hostname()}).\n` +
          `  → Wait for that process to finish and retry. If it is certainly gone, delete ${lock}.\n`,
      )
    } finally {
      spawnSync('rm', ['-f', lock])
    }
    assert.equal((await sb.run(['get', 'BLOCKED'])).code, 5)
  })
})
