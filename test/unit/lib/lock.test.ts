import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, utimesSync, writeFileSync} from 'node:fs'
import {hostname, tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {withLock} from '../../../src/core/lib/lock.js'

const linux = existsSync('/proc/self/stat')
const bootId = linux ? readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() : ''
const startOf = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
}
const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid!

describe('withLock: stale locks and leftovers', () => {
  let dir: string
  let target: string
  let lock: string
  let timeout: string | undefined
  before(() => {
    timeout = process.env.SECRETS_LOCK_TIMEOUT
    process.env.SECRETS_LOCK_TIMEOUT = '0.3'
  })
  after(() => {
    if (timeout === undefined) delete process.env.SECRETS_LOCK_TIMEOUT
    else process.env.SECRETS_LOCK_TIMEOUT = timeout
  })
  const fresh = () => {
    dir = mkdtempSync(join(tmpdir(), 'secrets-lock-'))
    target = join(dir, 'store.json')
    lock = `${target}.lock`
  }
  const taken = () => withLock(target, () => 'ran')

  it('records the boot id and start time of its holder', async () => {
    fresh()
    const seen = await withLock(target, () => readFileSync(lock, 'utf8'))
    const [pid, host, token, boot, start] = seen.split('\n')
    assert.deepEqual([pid, host], [String(process.pid), hostname()])
    assert.match(token, /^[0-9a-f]{16}$/)
    if (linux) assert.deepEqual([boot, start], [bootId, startOf(process.pid)])
    assert.equal(existsSync(lock), false)
  })

  it('takes over a lock whose pid is alive but is another process (pid 1 reused after a restart)', async (t) => {
    if (!linux) return t.skip('needs /proc')
    fresh()
    writeFileSync(lock, `1\n${hostname()}\nfeedfacefeedface\n${bootId}\n${Number(startOf(1)) + 12345}\n`)
    assert.equal(await taken(), 'ran')
    // A record from another boot, with a live pid.
    writeFileSync(lock, `${process.pid}\n${hostname()}\nfeedfacefeedface\nanother-boot\n${startOf(process.pid)}\n`)
    assert.equal(await taken(), 'ran')
  })

  it('takes over an old-format lock (no start time) made before its live pid started', async () => {
    fresh()
    writeFileSync(lock, `1\n${hostname()}\nfeedfacefeedface\n`)
    utimesSync(lock, new Date('2001-01-01'), new Date('2001-01-01'))
    assert.equal(await taken(), 'ran')
  })

  it('waits for a live holder, and LOCKED names it', async () => {
    fresh()
    const record = `${process.pid}\n${hostname()}\nfeedfacefeedface\n${bootId}\n${linux ? startOf(process.pid) : ''}\n`
    writeFileSync(lock, record)
    await assert.rejects(taken(), {
      code: 'LOCKED',
      message: `Timed out waiting for the lock on ${target} (held by process ${process.pid} on ${hostname()}).`,
    })
    // The old format, made after this process started: still a live holder.
    writeFileSync(lock, `${process.pid}\n${hostname()}\nfeedfacefeedface\n`)
    await assert.rejects(taken(), {code: 'LOCKED'})
  })

  it('a lock file that is not a lock record is taken over, never "process NaN"', async () => {
    fresh()
    writeFileSync(lock, '')
    assert.equal(await taken(), 'ran')
    writeFileSync(lock, 'garbage\n')
    assert.equal(await taken(), 'ran')
  })

  it("removes killed lockers' token files and steal-guard temps, keeping a live contender's", async () => {
    fresh()
    const dead = `${deadPid()}\n${hostname()}\n0123456789abcdef\n${bootId}\n\n`
    writeFileSync(`${lock}.0123456789abcdef`, dead)
    writeFileSync(`${lock}.steal.0123456789abcdef-g`, dead)
    const live = `${process.pid}\n${hostname()}\n1111222233334444\n${bootId}\n${linux ? startOf(process.pid) : ''}\n`
    writeFileSync(`${lock}.1111222233334444`, live)
    writeFileSync(join(dir, 'store.json.lockfile-of-someone-else'), 'x')
    assert.equal(await taken(), 'ran')
    assert.equal(existsSync(`${lock}.0123456789abcdef`), false)
    assert.equal(existsSync(`${lock}.steal.0123456789abcdef-g`), false)
    assert.equal(existsSync(`${lock}.1111222233334444`), true)
    assert.equal(existsSync(join(dir, 'store.json.lockfile-of-someone-else')), true)
  })
})
