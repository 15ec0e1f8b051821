import assert from 'node:assert/strict'
import {
  chmodSync,
  existsSync,
  statSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
  appendFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'

import {appendAudit} from '../../../src/core/audit/log.js'
import {readAuditRecords} from '../../../src/core/audit/read.js'
import {sealedSegments, type AuditEvent, type AuditRecord} from '../../../src/core/audit/record.js'
import {auditKeyFile} from '../../../src/core/audit/key.js'
import {queryAudit, recordsToCsv} from '../../../src/core/audit/query.js'
import {buildReport, rotationEvery} from '../../../src/core/audit/report.js'
import {checkAuditChain} from '../../../src/core/audit/check-chain.js'
import type {ProjectConfig} from '../../../src/core/config/types.js'
import {SecretValue} from '../../../src/core/secret-value.js'
import {SecretsError} from '../../../src/errors.js'

const roots: string[] = []
after(() => {
  for (const r of roots) rmSync(r, {recursive: true, force: true})
})

/** A fresh state directory; small segments so that a dozen records span several of them. */
function sandbox(extra: Record<string, string> = {}): {env: NodeJS.ProcessEnv; log: string; dir: string} {
  const root = mkdtempSync(join(tmpdir(), 'secrets-audit-'))
  roots.push(root)
  const env = {HOME: root, XDG_STATE_HOME: join(root, 'state'), ...extra}
  return {env, log: join(root, 'state', 'secrets', 'audit.jsonl'), dir: join(root, 'state', 'secrets')}
}

const alice = {user: 'alice', host: 'h1'}
const read = (ref: string, value?: string): AuditEvent => ({
  command: 'get',
  action: 'read',
  provider: 'local',
  ref,
  version: '1',
  outcome: 'ok',
  ...(value === undefined ? {} : {value: new SecretValue(value)}),
})

async function collect(env: NodeJS.ProcessEnv): Promise<AuditRecord[]> {
  const out: AuditRecord[] = []
  for await (const r of readAuditRecords(env)) out.push(r)
  return out
}

/** The log's files, oldest first, and their lines. */
function files(log: string): Array<{file: string; lines: string[]}> {
  return [...sealedSegments(log).map((s) => s.file), log]
    .filter((f) => existsSync(f))
    .map((file) => ({file, lines: readFileSync(file, 'utf8').split('\n').slice(0, -1)}))
}

function rewrite(parts: Array<{file: string; lines: string[]}>): void {
  for (const p of parts) writeFileSync(p.file, p.lines.map((l) => `${l}\n`).join(''))
}

async function expectError(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof SecretsError, String(error))
    assert.equal(error.code, code)
    assert.match(error.message, message)
    return true
  })
}

describe('access log: records', () => {
  it('hold who, what and a keyed fingerprint of the value, never the value; the key file is 0600', async () => {
    const {env, log} = sandbox()
    const canary = 'CANARY-audit-4d1f9e'
    await appendAudit(
      [
        read('local://A', canary),
        {
          command: 'exec',
          child: 'npm',
          action: 'read',
          provider: 'vault',
          ref: 'vault://secret/app#pw',
          version: '3',
          outcome: 'ok',
          value: new SecretValue(canary),
        },
        {
          command: 'set',
          action: 'write',
          provider: 'local',
          ref: 'local://A',
          version: '2',
          outcome: 'ok',
          value: new SecretValue(`${canary}-2`),
        },
        {command: 'get', action: 'read', provider: 'aws', ref: 'aws://x', outcome: 'denied', code: 'PERMISSION_DENIED'},
      ],
      {...alice, ci: {system: 'github-actions', runId: '42/1'}},
      env,
    )
    const text = readFileSync(log, 'utf8')
    assert.ok(!text.includes(canary) && !text.includes('<redacted>'))
    assert.ok(
      !text.includes(Buffer.from(canary).toString('base64')) && !text.includes(Buffer.from(canary).toString('hex')),
    )
    const records = await collect(env)
    assert.deepEqual(
      records.map((r) => [
        r.v,
        r.seq,
        r.user,
        r.host,
        r.ci?.runId,
        r.command,
        r.child,
        r.action,
        r.ref,
        r.version,
        r.outcome,
        r.code,
      ]),
      [
        [2, 1, 'alice', 'h1', '42/1', 'get', undefined, 'read', 'local://A', '1', 'ok', undefined],
        [2, 2, 'alice', 'h1', '42/1', 'exec', 'npm', 'read', 'vault://secret/app#pw', '3', 'ok', undefined],
        [2, 3, 'alice', 'h1', '42/1', 'set', undefined, 'write', 'local://A', '2', 'ok', undefined],
        [2, 4, 'alice', 'h1', '42/1', 'get', undefined, 'read', 'aws://x', undefined, 'denied', 'PERMISSION_DENIED'],
      ],
    )
    // Same value, same fingerprint; another value, another one; no value, none.
    assert.match(records[0].fp!, /^[0-9a-f]{32}$/)
    assert.equal(records[1].fp, records[0].fp)
    assert.notEqual(records[2].fp, records[0].fp)
    assert.equal(records[3].fp, undefined)
    assert.equal(readFileSync(auditKeyFile(env), 'utf8').length, 65)
    assert.equal(statMode(auditKeyFile(env)), 0o600)
    assert.equal(statMode(log), 0o600)
    // Another installation (another key) fingerprints the same value differently.
    const other = sandbox()
    await appendAudit([read('local://A', canary)], alice, other.env)
    assert.notEqual((await collect(other.env))[0].fp, records[0].fp)
  })

  it('the first append creates the missing state directories 0700, and the log and its head 0600', async () => {
    const {env, log, dir} = sandbox()
    assert.equal(existsSync(dir), false)
    await appendAudit([read('local://A')], alice, env)
    assert.equal(statMode(dir), 0o700)
    assert.equal(statMode(join(dir, '..')), 0o700)
    assert.equal(statMode(log), 0o600)
    assert.equal(statMode(`${log}.head`), 0o600)
    assert.deepEqual(
      (await collect(env)).map((r) => [r.seq, r.ref]),
      [[1, 'local://A']],
    )
  })

  it('roll over into numbered segments by size without breaking the chain, and are read back oldest first', async () => {
    const {env, log, dir} = sandbox({SECRETS_AUDIT_SEGMENT_BYTES: '1000'})
    for (let i = 1; i <= 20; i++) await appendAudit([read(`local://S${i}`)], alice, env)
    await appendAudit([read('local://B1'), read('local://B2'), read('local://B3'), read('local://B4')], alice, env)
    const names = readdirSync(dir).sort()
    assert.ok(names.includes('audit.jsonl.000001') && names.includes('audit.jsonl.000002'), names.join(' '))
    for (const f of files(log))
      assert.ok(readFileSync(f.file).length <= 1000 || f.lines.length === 4, `${f.file} is too big`)
    const records = await collect(env)
    assert.deepEqual(
      records.map((r) => r.seq),
      Array.from({length: 24}, (_, i) => i + 1),
    )
    assert.deepEqual(records.map((r) => r.ref).slice(18), [
      'local://S19',
      'local://S20',
      'local://B1',
      'local://B2',
      'local://B3',
      'local://B4',
    ])
    const result = await checkAuditChain(env)
    assert.equal(result.intact, true, result.problem?.message)
    assert.equal(result.records, 24)
    assert.equal(result.segments.length, sealedSegments(log).length + 1)
    // Each new segment starts with the next seq, its number, and the seal of the previous one, which
    // verify then checks in one pass instead of record by record.
    const parts = files(log)
    for (let i = 1; i < parts.length; i++) {
      const first = JSON.parse(parts[i].lines[0])
      assert.deepEqual([first.seq, first.seg], [JSON.parse(parts[i - 1].lines.at(-1)!).seq + 1, i + 1])
      assert.match(first.seal, /^[0-9a-f]{64}$/)
    }
    assert.deepEqual(
      result.segments.map((s) => s.bySeal ?? false),
      [...parts.slice(1).map(() => true), false],
    )
  })
})

describe('access log: verify catches every single change (exhaustive on a small log)', async () => {
  const {env, log} = sandbox({SECRETS_AUDIT_SEGMENT_BYTES: '1300'})
  const n = 12
  for (let i = 1; i <= n; i++) await appendAudit([read(`local://K${i}`)], {user: `u${i % 3}`, host: 'h'}, env)
  const original = files(log)
  assert.ok(original.length >= 3, 'the small log spans several segments')
  /** Apply `mutate` to the flat list of lines (keeping each line in its segment), verify, restore. */
  async function tamper(mutate: (lines: Array<{seg: number; text: string}>) => void) {
    const flat = original.flatMap((p, seg) => p.lines.map((text) => ({seg, text})))
    mutate(flat)
    rewrite(original.map((p, seg) => ({file: p.file, lines: flat.filter((l) => l.seg === seg).map((l) => l.text)})))
    try {
      return await checkAuditChain(env)
    } finally {
      rewrite(original)
    }
  }
  const lineOf = (seq: number) => {
    let k = seq
    for (const p of original) {
      if (k <= p.lines.length) return {file: p.file, line: k}
      k -= p.lines.length
    }
    throw new Error('no such record')
  }

  it('the untouched log is intact', async () => {
    const r = await checkAuditChain(env)
    assert.equal(r.intact, true)
    assert.equal(r.records, n)
    assert.equal(r.lastSeq, n)
  })

  it('a changed field in any record', async () => {
    for (let k = 1; k <= n; k++) {
      const r = await tamper((lines) => {
        lines[k - 1].text = lines[k - 1].text.replace(`local://K${k}"`, `local://X${k}"`)
      })
      assert.equal(r.intact, false, `record ${k}`)
      assert.deepEqual(
        [r.problem?.kind, r.problem?.seq, r.problem?.file, r.problem?.line],
        ['changed', k, lineOf(k).file, lineOf(k).line],
        `record ${k}: ${r.problem?.message}`,
      )
    }
  })

  it('any record deleted', async () => {
    for (let k = 1; k <= n; k++) {
      const r = await tamper((lines) => {
        lines.splice(k - 1, 1)
      })
      assert.equal(r.intact, false, `record ${k}`)
      assert.deepEqual([r.problem?.kind, r.problem?.seq], ['removed', k], `record ${k}: ${r.problem?.message}`)
    }
  })

  it('a forged record inserted at any place, even one that copies the right link and number', async () => {
    for (let k = 1; k <= n + 1; k++) {
      const r = await tamper((lines) => {
        const model = JSON.parse(lines[Math.min(k, n) - 1].text) as AuditRecord
        const forged = {...model, ref: 'local://FORGED', seq: k, prev: k <= n ? model.prev : 'f'.repeat(64)}
        lines.splice(k - 1, 0, {seg: lines[Math.min(k, n) - 1].seg, text: JSON.stringify(forged)})
      })
      assert.equal(r.intact, false, `insert at ${k}`)
      assert.equal(r.problem?.kind, 'inserted', `insert at ${k}: ${r.problem?.message}`)
      assert.equal(r.problem?.seq, k)
    }
  })

  it('any two neighbouring records swapped, and any record moved to the end', async () => {
    for (let k = 1; k < n; k++) {
      const r = await tamper((lines) => {
        const a = lines[k - 1].text
        lines[k - 1].text = lines[k].text
        lines[k].text = a
      })
      assert.equal(r.intact, false, `swap ${k}`)
      assert.deepEqual([r.problem?.kind, r.problem?.seq], ['reordered', k + 1], `swap ${k}: ${r.problem?.message}`)
    }
    for (let k = 1; k < n - 1; k++) {
      const r = await tamper((lines) => {
        const [moved] = lines.splice(k - 1, 1)
        lines.push({seg: lines.at(-1)!.seg, text: moved.text})
      })
      assert.equal(r.intact, false, `move ${k}`)
      assert.ok(r.problem !== undefined)
    }
  })

  it('a corrupt JSON line', async () => {
    const r = await tamper((lines) => {
      lines[4].text = lines[4].text.slice(0, 30)
    })
    assert.deepEqual(
      [r.intact, r.problem?.kind, r.problem?.file, r.problem?.line],
      [false, 'corrupt', lineOf(5).file, lineOf(5).line],
    )
  })
})

describe('access log: segments, head and key', () => {
  async function twelve(extra: Record<string, string> = {}) {
    const s = sandbox({SECRETS_AUDIT_SEGMENT_BYTES: '1300', ...extra})
    for (let i = 1; i <= 12; i++) await appendAudit([read(`local://K${i}`)], alice, s.env)
    return s
  }

  it('a missing segment in the middle, at the start, and a missing active segment', async () => {
    const {env, log} = await twelve()
    const sealed = sealedSegments(log)
    assert.ok(sealed.length >= 2)
    renameSync(sealed[1].file, `${sealed[1].file}.bak`)
    let r = await checkAuditChain(env)
    assert.equal(r.intact, false)
    assert.deepEqual(r.missingSegments, [2])
    assert.equal(r.problem?.kind, 'removed')
    assert.match(
      r.problem!.message,
      /missing before .*audit\.jsonl(\.\d+)?:1 \(removed, or moved elsewhere, or in a missing segment\)/,
    )
    renameSync(`${sealed[1].file}.bak`, sealed[1].file)
    renameSync(sealed[0].file, `${sealed[0].file}.bak`)
    r = await checkAuditChain(env)
    assert.deepEqual([r.intact, r.missingSegments], [false, [1]])
    renameSync(`${sealed[0].file}.bak`, sealed[0].file)
    renameSync(log, `${log}.bak`)
    r = await checkAuditChain(env)
    assert.equal(r.intact, false)
    assert.equal(r.problem?.kind, 'removed')
    assert.match(
      r.problem!.message,
      /^Records seq \d+ to 12 are missing after .*: removed from the end of the log, or the active segment was removed\.$/,
    )
    renameSync(`${log}.bak`, log)
    assert.equal((await checkAuditChain(env)).intact, true)
    // The whole log gone, its key still there.
    const moved = sandbox()
    assert.deepEqual(await checkAuditChain(moved.env), {
      intact: true,
      log: moved.log,
      records: 0,
      legacy: 0,
      segments: [],
      missingSegments: [],
      notes: ['No access log yet.'],
    })
    await appendAudit([read('local://A')], alice, moved.env)
    for (const f of [moved.log, `${moved.log}.head`]) renameSync(f, `${f}.gone`)
    const gone = await checkAuditChain(moved.env)
    assert.deepEqual([gone.intact, gone.problem?.kind], [false, 'removed'])
    assert.match(gone.problem!.message, /is gone, but its audit key .* exists/)
  })

  it('a segment changed before it rolled over is not sealed, and verify still finds the change', async () => {
    const {env, log} = sandbox({SECRETS_AUDIT_SEGMENT_BYTES: '1300'})
    for (let i = 1; i <= 3; i++) await appendAudit([read(`local://K${i}`)], alice, env)
    writeFileSync(log, readFileSync(log, 'utf8').replace('local://K1"', 'local://XX"'))
    for (let i = 4; i <= 8; i++) await appendAudit([read(`local://K${i}`)], alice, env)
    const second = readFileSync(sealedSegments(log).length > 1 ? sealedSegments(log)[1].file : log, 'utf8').split(
      '\n',
    )[0]
    assert.equal(JSON.parse(second).seg, 2)
    assert.equal(JSON.parse(second).seal, undefined)
    const r = await checkAuditChain(env)
    assert.deepEqual(
      [r.intact, r.problem?.kind, r.problem?.seq, r.segments[0].bySeal],
      [false, 'changed', 1, undefined],
    )
  })

  it('after the newest sealed segment was removed, the active file still rolls over to its own number', async () => {
    const {env, log} = await twelve()
    const sealed = sealedSegments(log)
    const activeSeg = JSON.parse(readFileSync(log, 'utf8').split('\n')[0]).seg as number
    assert.equal(activeSeg, sealed.length + 1)
    unlinkSync(sealed.at(-1)!.file)
    for (let i = 13; i <= 24; i++) await appendAudit([read(`local://K${i}`)], alice, env)
    assert.ok(sealedSegments(log).some((s) => s.n === activeSeg))
    const r = await checkAuditChain(env)
    assert.deepEqual([r.intact, r.missingSegments], [false, [sealed.at(-1)!.n]])
    assert.equal(r.problem?.kind, 'removed')
  })

  it('two segment files swapped by name', async () => {
    const {env, log} = await twelve()
    const [one, two] = sealedSegments(log)
    renameSync(one.file, `${one.file}.tmp`)
    renameSync(two.file, one.file)
    renameSync(`${one.file}.tmp`, two.file)
    const r = await checkAuditChain(env)
    assert.deepEqual(
      [r.intact, r.problem?.kind, r.problem?.message],
      [false, 'reordered', `${one.file} holds segment 2 of the log, not 1: segment files were renamed.`],
    )
  })

  it('a deleted head file is reported; a head from another key is "wrong key"', async () => {
    const {env, log} = await twelve()
    const head = readFileSync(`${log}.head`)
    unlinkSync(`${log}.head`)
    const r = await checkAuditChain(env)
    assert.deepEqual([r.intact, r.problem?.kind], [false, 'head-missing'])
    writeFileSync(`${log}.head`, head)
    writeFileSync(auditKeyFile(env), `${'ab'.repeat(32)}\n`, {mode: 0o600})
    const wrong = await checkAuditChain(env)
    assert.equal(wrong.intact, false)
    assert.equal(wrong.problem?.kind, 'wrong-key')
    assert.match(
      wrong.problem!.message,
      /^The log was written with another audit key \(key id [0-9a-f]{16}; .*audit\.key has key id [0-9a-f]{16}\), so it cannot be verified with this one\.$/,
    )
  })

  it('a key file that group or others can read is refused, by append and by verify, and nothing is written', async () => {
    const {env, log} = await twelve()
    const before = readFileSync(log, 'utf8')
    chmodSync(auditKeyFile(env), 0o640)
    await expectError(
      appendAudit([read('local://Z')], alice, env),
      'INSECURE_PERMISSIONS',
      /audit key .* is accessible by group or others \(mode 0640\); refusing to use it\./,
    )
    await expectError(checkAuditChain(env), 'INSECURE_PERMISSIONS', /mode 0640/)
    assert.equal(readFileSync(log, 'utf8'), before)
  })

  it('a missing key with an existing log stops appends (a new key would break the chain)', async () => {
    const {env, log} = await twelve()
    const before = readFileSync(log, 'utf8')
    unlinkSync(auditKeyFile(env))
    await expectError(
      appendAudit([read('local://Z')], alice, env),
      'IDENTITY_MISSING',
      /audit key .* is missing, but the access log already holds records keyed with it\./,
    )
    await expectError(checkAuditChain(env), 'IDENTITY_MISSING', /is missing/)
    assert.equal(readFileSync(log, 'utf8'), before)
    assert.ok(!existsSync(auditKeyFile(env)))
  })

  it('a write torn by a crash is cut off by the next append, which says so; reading a corrupt line names it', async () => {
    const {env, log} = await twelve()
    appendFileSync(log, '{"v":2,"seq":13,"time":"2026-')
    const torn = await checkAuditChain(env)
    assert.equal(torn.intact, true)
    assert.deepEqual(torn.notes, [
      `29 bytes of an interrupted write at the end of ${log}; the next append removes them.`,
    ])
    await appendAudit([read('local://AFTER')], alice, env)
    const records = await collect(env)
    assert.deepEqual([records.at(-1)!.seq, records.at(-1)!.torn], [13, 29])
    assert.equal((await checkAuditChain(env)).intact, true)
    const lines = readFileSync(log, 'utf8').split('\n')
    lines[0] = 'not json'
    writeFileSync(log, lines.join('\n'))
    await expectError(
      collect(env),
      'INTEGRITY',
      new RegExp(`^${log.replaceAll('.', '\\.')}:1 is not an access record \\(corrupt JSON line\\)\\.$`),
    )
    const r = await checkAuditChain(env)
    assert.deepEqual(
      [r.intact, r.problem?.kind, r.problem?.line, r.problem?.message],
      [false, 'corrupt', 1, `${log}:1 is not an access record (corrupt JSON line).`],
    )
  })

  it('version 1 records (plain SHA-256 links) before the keyed chain still verify, and are counted as legacy', async () => {
    const {env, log, dir} = sandbox()
    mkdirSync(dir, {recursive: true})
    const {createHash} = await import('node:crypto')
    let prev = '0'.repeat(64)
    let text = ''
    for (let i = 1; i <= 3; i++) {
      const line = JSON.stringify({
        v: 1,
        time: '2026-11-01T00:00:00.000Z',
        user: 'old',
        host: 'h',
        pid: 1,
        command: 'get',
        action: 'read',
        provider: 'local',
        ref: `local://OLD${i}`,
        outcome: 'ok',
        prev,
      })
      prev = createHash('sha256').update(line).digest('hex')
      text += `${line}\n`
    }
    writeFileSync(log, text, {mode: 0o600})
    await appendAudit([read('local://NEW')], alice, env)
    const r = await checkAuditChain(env)
    assert.deepEqual([r.intact, r.records, r.legacy, r.lastSeq], [true, 4, 3, 1])
    writeFileSync(log, readFileSync(log, 'utf8').replace('OLD2', 'OLDX'))
    assert.deepEqual(
      [(await checkAuditChain(env)).problem?.kind, (await checkAuditChain(env)).problem?.line],
      ['changed', 2],
    )
  })
})

describe('access log: queries and report', () => {
  it('filters by time, secret, actor, command and outcome; CSV quotes what needs it', async () => {
    const {env} = sandbox()
    await appendAudit([read('local://DB'), read('local://DB?version=2'), read('local://DBX')], alice, env)
    await appendAudit(
      [
        {
          command: 'exec',
          child: 'npm',
          action: 'read',
          provider: 'vault',
          ref: 'vault://secret/app#pw',
          outcome: 'denied',
          code: 'PERMISSION_DENIED',
        },
      ],
      {user: 'bob', host: 'h2'},
      env,
    )
    const refs = async (f: Parameters<typeof queryAudit>[0]) => (await queryAudit(f, env)).map((r) => r.ref)
    assert.deepEqual(await refs({secret: 'DB'}), ['local://DB', 'local://DB?version=2'])
    assert.deepEqual(await refs({secret: 'local://DB?version=2'}), ['local://DB?version=2'])
    assert.deepEqual(await refs({secret: 'vault://secret/app'}), ['vault://secret/app#pw'])
    assert.deepEqual(await refs({actor: 'bob'}), ['vault://secret/app#pw'])
    assert.deepEqual(await refs({actor: 'alice@h1'}), ['local://DB', 'local://DB?version=2', 'local://DBX'])
    assert.deepEqual(await refs({command: 'npm'}), ['vault://secret/app#pw'])
    assert.deepEqual(await refs({outcome: 'denied'}), ['vault://secret/app#pw'])
    assert.deepEqual(await refs({since: new Date(Date.now() + 60_000)}), [])
    assert.deepEqual(await refs({until: new Date(Date.now() - 60_000)}), [])
    const {log} = {log: join(env.XDG_STATE_HOME!, 'secrets', 'audit.jsonl')}
    const good = readFileSync(log, 'utf8')
    writeFileSync(log, good.replace('{"v":2,"seq":3,', '{"v":2,"seq":3,,'))
    await expectError(
      queryAudit({secret: 'DBX'}, env),
      'INTEGRITY',
      new RegExp(`audit\\.jsonl:3 is not an access record`),
    )
    assert.deepEqual(await refs({secret: 'vault://secret/app'}), ['vault://secret/app#pw'])
    writeFileSync(log, good)
    const records = await queryAudit({actor: 'bob'}, env)
    assert.equal(
      recordsToCsv(records),
      `time,seq,user,host,ci,run,command,child,action,provider,ref,version,outcome,code,fp,project,store\r\n${records[0].time},4,bob,h2,,,exec,npm,read,vault,vault://secret/app#pw,,denied,PERMISSION_DENIED,,,\r\n`,
    )
    assert.equal(
      recordsToCsv([{...records[0], ref: 'a,"b"'}])
        .split('\r\n')[1]
        .split(',vault,')[1],
      '"a,""b""",,denied,PERMISSION_DENIED,,,',
    )
  })

  it('report: ages, policy, never rotated, readers and unread, with controlled time', () => {
    const rec = (time: string, ref: string, action: string, user = 'alice', outcome = 'ok') =>
      ({
        v: 2,
        seq: 0,
        time,
        user,
        host: 'h',
        pid: 1,
        command: 'x',
        action,
        provider: ref.split(':')[0],
        ref,
        outcome,
        prev: '',
      }) as unknown as AuditRecord
    const records = [
      rec('2026-01-01T00:00:00Z', 'local://DB', 'write'),
      rec('2026-03-01T00:00:00Z', 'local://DB', 'read', 'bob'),
      rec('2026-03-02T00:00:00Z', 'local://DB?version=1', 'read', 'carol'),
      rec('2026-03-03T00:00:00Z', 'local://DB', 'read', 'bob'),
      rec('2026-03-04T00:00:00Z', 'local://DB', 'read', 'mallory', 'denied'),
      rec('2026-02-20T00:00:00Z', 'vault://secret/api#key', 'read'),
      rec('2026-02-25T12:00:00Z', 'local://NEW', 'rotate-promote'),
      rec('2026-03-05T00:00:00Z', 'local://NEW', 'rotate-stage'),
    ]
    const rows = buildReport(records, {
      now: new Date('2026-03-10T00:00:00Z'),
      policies: new Map([
        ['local://DB', 30 * 86_400_000],
        ['local://NEW', 30 * 86_400_000],
        ['aws://unused', 86_400_000],
      ]),
      updated: new Map([['vault://secret/api', '2025-12-10T00:00:00Z']]),
      configured: new Map([
        ['local://DB', ['DB_URL']],
        ['aws://unused', ['UNUSED']],
      ]),
      unreadDays: 14,
    })
    const view = rows.map((r) => [
      r.secret,
      r.variables,
      r.lastAccess?.by,
      r.lastAccess?.outcome,
      r.readers,
      r.reads,
      r.lastRotation,
      r.rotationSource,
      r.ageDays,
      r.policyDays,
      r.overdue,
      r.neverRotated,
      r.unread,
    ])
    assert.deepEqual(view, [
      ['aws://unused', ['UNUSED'], undefined, undefined, 0, 0, undefined, undefined, undefined, 1, true, true, true],
      [
        'local://DB',
        ['DB_URL'],
        'mallory@h',
        'denied',
        2,
        3,
        '2026-01-01T00:00:00Z',
        'log',
        68,
        30,
        true,
        false,
        false,
      ],
      ['local://NEW', [], 'alice@h', 'ok', 0, 0, '2026-02-25T12:00:00Z', 'log', 12, 30, false, false, true],
      [
        'vault://secret/api',
        [],
        'alice@h',
        'ok',
        1,
        1,
        '2025-12-10T00:00:00Z',
        'provider',
        90,
        undefined,
        false,
        false,
        true,
      ],
    ])
  })

  it('rotationEvery takes `every` of the variables that declare a rotation policy', () => {
    const base = {
      file: 'x',
      dir: '.',
      providers: new Map(),
      env: new Map(),
      environments: new Map(),
      files: new Map(),
      environmentFiles: new Map(),
      rotation: new Map(),
    } as ProjectConfig
    assert.deepEqual(rotationEvery(base), new Map())
    assert.deepEqual(
      rotationEvery({
        ...base,
        rotation: new Map([
          ['DB', {every: 5}],
          ['X', {}],
        ]),
      }),
      new Map([['DB', 5]]),
    )
  })
})

function statMode(file: string): number {
  return statSync(file).mode & 0o777
}
