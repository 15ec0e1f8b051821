import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'

import {appendAudit, recordChange} from '../../../src/core/audit/log.js'
import {readAuditRecords} from '../../../src/core/audit/read.js'
import type {AuditEvent, AuditRecord} from '../../../src/core/audit/record.js'
import {auditKeyFile} from '../../../src/core/audit/key.js'
import {checkAuditChain} from '../../../src/core/audit/check-chain.js'
import {SecretsError} from '../../../src/errors.js'

// Item 3 of issue 17: the head file anchors the chain while the audit key exists, and blank lines are
// tolerated (and reported) instead of breaking every read.

const roots: string[] = []
after(() => {
  for (const r of roots) rmSync(r, {recursive: true, force: true})
})

function sandbox(): {env: NodeJS.ProcessEnv; log: string} {
  const root = mkdtempSync(join(tmpdir(), 'secrets-anchor-'))
  roots.push(root)
  return {env: {HOME: root, XDG_STATE_HOME: join(root, 'state')}, log: join(root, 'state', 'secrets', 'audit.jsonl')}
}

const alice = {user: 'alice', host: 'h1'}
const read = (ref: string): AuditEvent => ({command: 'get', action: 'read', provider: 'local', ref, outcome: 'ok'})

async function five() {
  const s = sandbox()
  for (let i = 1; i <= 5; i++) await appendAudit([read(`local://K${i}`)], alice, s.env)
  return s
}

async function collect(env: NodeJS.ProcessEnv): Promise<AuditRecord[]> {
  const out: AuditRecord[] = []
  for await (const r of readAuditRecords(env)) out.push(r)
  return out
}

async function rejectsWith(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof SecretsError, String(error))
    assert.equal(error.code, code)
    assert.match(error.message, message)
    return true
  })
}

/** Version 1 records as an attacker without the key would write them (plain SHA-256 links). */
function v1Log(n: number): string {
  let prev = '0'.repeat(64)
  let text = ''
  for (let i = 1; i <= n; i++) {
    const line = JSON.stringify({
      v: 1,
      time: '2026-11-01T00:00:00.000Z',
      user: 'mallory',
      host: 'h',
      pid: 1,
      command: 'get',
      action: 'read',
      provider: 'local',
      ref: `local://FAKE${i}`,
      outcome: 'ok',
      prev,
    })
    prev = createHash('sha256').update(line).digest('hex')
    text += `${line}\n`
  }
  return text
}

describe('access log: emptied or replaced while its key exists', () => {
  it('an emptied log with its head deleted fails verify, and appends refuse to start a new chain', async () => {
    const {env, log} = await five()
    writeFileSync(log, '')
    unlinkSync(`${log}.head`)
    const r = await checkAuditChain(env)
    assert.deepEqual([r.intact, r.problem?.kind], [false, 'removed'])
    assert.match(
      r.problem!.message,
      /^The access log .* holds no record, but its audit key .* exists .*: the log was emptied\.$/,
    )
    await rejectsWith(
      appendAudit([read('local://NEXT')], alice, env),
      'INTEGRITY',
      /head file .* is missing although its audit key .* exists: the log was removed, emptied or replaced\./,
    )
    assert.equal(readFileSync(log, 'utf8'), '')
    assert.equal((await checkAuditChain(env)).intact, false)
  })

  it('an emptied log with its head kept fails verify, and an append does not cover it up', async () => {
    const {env, log} = await five()
    writeFileSync(log, '')
    const r = await checkAuditChain(env)
    assert.deepEqual([r.intact, r.problem?.kind], [false, 'removed'])
    await rejectsWith(
      appendAudit([read('local://NEXT')], alice, env),
      'INTEGRITY',
      /ends at seq 0, but its head file says seq 5: records were removed from the end, or the log was emptied or replaced\./,
    )
  })

  it('a log truncated to its first records with the head deleted fails verify and appends', async () => {
    const {env, log} = await five()
    const lines = readFileSync(log, 'utf8').split('\n')
    writeFileSync(log, `${lines.slice(0, 2).join('\n')}\n`)
    unlinkSync(`${log}.head`)
    assert.equal((await checkAuditChain(env)).problem?.kind, 'head-missing')
    await rejectsWith(appendAudit([read('local://NEXT')], alice, env), 'INTEGRITY', /head file .* is missing/)
  })

  it('a log replaced by version 1 records (head deleted, or kept) fails verify and appends', async () => {
    const {env, log} = await five()
    const head = readFileSync(`${log}.head`)
    writeFileSync(log, v1Log(3))
    unlinkSync(`${log}.head`)
    const r = await checkAuditChain(env)
    assert.deepEqual([r.intact, r.problem?.kind, r.legacy], [false, 'removed', 3])
    assert.match(r.problem!.message, /holds only version 1 records and no head file, but its audit key .* exists/)
    await rejectsWith(appendAudit([read('local://NEXT')], alice, env), 'INTEGRITY', /head file .* is missing/)
    writeFileSync(`${log}.head`, head)
    assert.deepEqual([(await checkAuditChain(env)).problem?.kind], ['removed'])
    await rejectsWith(
      appendAudit([read('local://NEXT')], alice, env),
      'INTEGRITY',
      /ends at seq 0, but its head file says seq 5/,
    )
    assert.equal(readFileSync(log, 'utf8'), v1Log(3))
  })

  it('the last record replaced by a forged one with the right number is refused by the append', async () => {
    const {env, log} = await five()
    const lines = readFileSync(log, 'utf8').split('\n')
    lines[4] = lines[4].replace('local://K5', 'local://XX')
    writeFileSync(log, lines.join('\n'))
    await rejectsWith(
      appendAudit([read('local://NEXT')], alice, env),
      'INTEGRITY',
      /last record of the access log .* \(seq 5\) is not the one its head file covers/,
    )
  })

  it('a first append that fails leaves no key of its own; a version 1 log still gets its first key', async () => {
    const {env, log} = sandbox()
    await appendAudit([read('local://A')], alice, env)
    const key = auditKeyFile(env)
    for (const f of [log, `${log}.head`, key]) unlinkSync(f)
    // The machine runs tests as root, so a mode cannot make the log unwritable: a directory in its place can.
    mkdirSync(log)
    await assert.rejects(appendAudit([read('local://B')], alice, env))
    assert.equal(existsSync(key), false)
    rmSync(log, {recursive: true})
    // A version 1 log (an old installation) still gets its first key and keyed records.
    writeFileSync(log, v1Log(2))
    await appendAudit([read('local://C')], alice, env)
    const r = await checkAuditChain(env)
    assert.deepEqual([r.intact, r.legacy, r.lastSeq], [true, 2, 1])
  })
})

describe('access log: blank lines', () => {
  it('a stray trailing newline neither breaks appends nor reads; verify reports it as harmless', async () => {
    const {env, log} = await five()
    appendFileSync(log, '\n')
    let r = await checkAuditChain(env)
    assert.equal(r.intact, true)
    assert.deepEqual(r.notes, [
      `1 blank line(s) (${log}:6) hold no record; the chain links across them, so they are harmless.`,
    ])
    await appendAudit([read('local://AFTER')], alice, env)
    appendFileSync(log, ' \r\n\n')
    await appendAudit([read('local://LAST')], alice, env)
    const records = await collect(env)
    assert.deepEqual(
      records.map((x) => [x.seq, x.ref]),
      [1, 2, 3, 4, 5, 6, 7].map((n) => [n, n <= 5 ? `local://K${n}` : n === 6 ? 'local://AFTER' : 'local://LAST']),
    )
    r = await checkAuditChain(env)
    assert.deepEqual([r.intact, r.records, r.lastSeq], [true, 7, 7])
    assert.deepEqual(r.notes, [
      `3 blank line(s) (${log}:6, ${log}:8, ${log}:9) hold no record; the chain links across them, so they are harmless.`,
    ])
  })

  it('a line that is not blank is still corrupt', async () => {
    const {env, log} = await five()
    appendFileSync(log, 'x\n')
    await rejectsWith(appendAudit([read('local://AFTER')], alice, env), 'INTEGRITY', /last record .* is corrupt/)
    assert.equal((await checkAuditChain(env)).problem?.kind, 'corrupt')
  })
})

describe('access log: a change and its record together', () => {
  it('a log that cannot take the record stops the change before it is made', async () => {
    const {env, log} = await five()
    unlinkSync(`${log}.head`)
    let ran = false
    const change = async () => {
      ran = true
      return 1
    }
    await rejectsWith(
      recordChange(change, () => [read('local://W')], alice, env),
      'INTEGRITY',
      /head file .* is missing/,
    )
    const blocker = join(env.HOME!, 'a-file')
    writeFileSync(blocker, 'x')
    await rejectsWith(
      recordChange(change, () => [read('local://W')], alice, {...env, SECRETS_AUDIT_LOG: join(blocker, 'audit.jsonl')}),
      'NOT_FOUND',
      /is a file/,
    )
    assert.equal(ran, false)
  })

  it('a failed change writes no record and its own error comes through', async () => {
    const {env} = await five()
    const boom = new SecretsError('NOT_FOUND', 'no such secret')
    await assert.rejects(
      recordChange(
        async () => {
          throw boom
        },
        () => [read('local://W')],
        alice,
        env,
      ),
      (error) => error === boom,
    )
    assert.equal((await collect(env)).length, 5)
    const v = await recordChange(
      async () => 'v7',
      (version) => [{...read('local://W'), action: 'write', version}],
      alice,
      env,
    )
    assert.equal(v, 'v7')
    assert.deepEqual(
      (await collect(env)).slice(-1).map((x) => [x.seq, x.action, x.version]),
      [[6, 'write', 'v7']],
    )
  })
})
