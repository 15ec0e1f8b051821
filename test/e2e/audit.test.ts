import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {chmodSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {ROOT, Sandbox} from '../helpers/cli.js'

const CANARY = 'CANARY-e2e-audit-77b1'
const DAY = 86_400_000

describe('secrets audit', () => {
  const sb = new Sandbox()
  const keyFile = join(sb.home, '.local', 'state', 'secrets', 'audit.key')
  before(async () => {
    await sb.init()
    for (const [name, value] of [
      ['DB_PASSWORD', CANARY],
      ['API_TOKEN', `${CANARY}-api`],
    ]) {
      const r = await sb.run(['set', name], {input: value})
      assert.equal(r.code, 0, r.stderr)
    }
    assert.equal((await sb.run(['get', 'DB_PASSWORD'])).code, 0)
    assert.equal((await sb.run(['exec', '--', 'true'])).code, 0)
    assert.equal((await sb.run(['get', 'MISSING'])).code, 5)
  })
  after(() => sb.cleanup())

  it('records every access with a fingerprint, never the value; the key is 0600 beside the log', () => {
    const text = sb.auditText()
    assert.ok(!text.includes(CANARY))
    const records = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    assert.deepEqual(
      records.map((r) => [r.seq, r.command, r.child, r.action, r.ref, r.outcome]),
      [
        [1, 'set', undefined, 'write', 'local://DB_PASSWORD', 'ok'],
        [2, 'set', undefined, 'write', 'local://API_TOKEN', 'ok'],
        [3, 'get', undefined, 'read', 'local://DB_PASSWORD', 'ok'],
        [4, 'exec', 'true', 'read', 'local://API_TOKEN', 'ok'],
        [5, 'exec', 'true', 'read', 'local://DB_PASSWORD', 'ok'],
        [6, 'get', undefined, 'read', 'local://MISSING', 'not_found'],
      ],
    )
    assert.equal(records[0].fp, records[2].fp)
    assert.equal(records[2].fp, records[4].fp)
    assert.notEqual(records[1].fp, records[0].fp)
    assert.equal(records[5].fp, undefined)
    assert.equal(
      readdirSync(join(sb.home, '.local', 'state', 'secrets'))
        .sort()
        .join(' '),
      // store-keys.json: the data keys this user trusts (fingerprints; see docs/store.md)
      'audit.jsonl audit.jsonl.head audit.key store-keys.json',
    )
  })

  it('audit log: filters, JSON and CSV; bad flags are usage errors', async () => {
    const json = await sb.run(['audit', 'log', '--secret', 'DB_PASSWORD', '--json'])
    assert.equal(json.code, 0, json.stderr)
    assert.deepEqual(
      JSON.parse(json.stdout).records.map((r: {seq: number}) => r.seq),
      [1, 3, 5],
    )
    const user = JSON.parse(sb.auditText().split('\n')[0]).user as string
    const denied = await sb.run([
      'audit',
      'log',
      '--outcome',
      'not_found',
      '--command',
      'get',
      '--actor',
      user,
      '--json',
    ])
    assert.deepEqual(
      JSON.parse(denied.stdout).records.map((r: {ref: string}) => r.ref),
      ['local://MISSING'],
    )
    const child = await sb.run(['audit', 'log', '--command', 'true', '--since', '1h', '--format', 'csv'])
    const lines = child.stdout.split('\r\n')
    assert.equal(
      lines[0],
      'time,seq,user,host,ci,run,command,child,action,provider,ref,version,outcome,code,fp,project,store',
    )
    assert.deepEqual(
      lines.slice(1, -1).map((l) => l.split(',').slice(6, 13).join(',')),
      ['exec,true,read,local,local://API_TOKEN,1,ok', 'exec,true,read,local,local://DB_PASSWORD,1,ok'],
    )
    const table = await sb.run(['audit', 'log', '--secret', 'API_TOKEN'])
    assert.match(table.stdout.split('\n')[0], /^TIME +USER +COMMAND +ACTION +REFERENCE +VERSION +OUTCOME +VALUE FP$/)
    assert.match(
      table.stdout.split('\n')[2],
      /^\S+Z +\S+@\S+ +exec \(true\) +read +local:\/\/API_TOKEN +1 +ok +[0-9a-f]{12}$/,
    )
    const none = await sb.run(['audit', 'log', '--until', '2000-01-01'])
    assert.deepEqual([none.code, none.stdout, none.stderr], [0, '', 'No matching access records.\n'])
    const bad = await sb.run(['audit', 'log', '--since', 'yesterday'])
    assert.deepEqual(
      [bad.code, bad.stderr],
      [
        2,
        'Error [USAGE]: --since expects a duration before now (90s, 30m, 24h, 7d, 2w) or a date (2026-11-01, 2026-11-01T08:00:00Z), not "yesterday".\n',
      ],
    )
    const noValue = await sb.run(['audit', 'log', '--since'])
    assert.equal(noValue.code, 2)
    for (const r of [json, denied, child, table]) assert.ok(!r.stdout.includes(CANARY) && !r.stderr.includes(CANARY))
  })

  it('an access log path under a regular file is a clear NOT_FOUND (exit 5), and the read does not happen', async () => {
    const blocker = join(sb.root, 'not-a-directory')
    writeFileSync(blocker, 'x')
    const r = await sb.run(['get', 'DB_PASSWORD'], {env: {SECRETS_AUDIT_LOG: join(blocker, 'audit.jsonl')}})
    assert.deepEqual([r.code, r.stdout], [5, ''])
    assert.equal(
      r.stderr.split('\n')[0],
      `Error [NOT_FOUND]: Cannot create the directory ${blocker}: it, or a directory above it, is a file.`,
    )
    assert.ok(!r.stderr.includes(CANARY))
  })

  it('audit report: ages and unread with controlled time, table, markdown and JSON', async () => {
    const written = Date.parse(JSON.parse(sb.auditText().split('\n')[1]).time)
    const now = new Date(written + 40 * DAY + 3_600_000).toISOString()
    const r = await sb.run(['audit', 'report', '--json', '--unread-days', '30'], {env: {SECRETS_NOW: now}})
    assert.equal(r.code, 0, r.stderr)
    const report = JSON.parse(r.stdout)
    assert.equal(report.now, now)
    const view = report.secrets.map((s: Record<string, unknown>) => [
      s.secret,
      s.variables,
      s.readers,
      s.reads,
      s.rotationSource,
      s.ageDays,
      s.neverRotated,
      s.unread,
      s.overdue,
    ])
    assert.deepEqual(view, [
      ['local://API_TOKEN', ['API_TOKEN'], 1, 1, 'log', 40, false, true, false],
      ['local://DB_PASSWORD', ['DB_PASSWORD'], 1, 2, 'log', 40, false, true, false],
      ['local://MISSING', [], 0, 0, undefined, undefined, true, true, false],
    ])
    const md = await sb.run(['audit', 'report', '--format', 'markdown', '--now', now])
    const mdLines = md.stdout.trimEnd().split('\n')
    assert.equal(mdLines[0], `### Secrets access report (${now.slice(0, 16).replace('T', ' ')} UTC)`)
    assert.equal(mdLines[2], '| SECRET | LAST ACCESS | BY | READERS | LAST ROTATION | AGE | POLICY | STATUS |')
    assert.match(
      mdLines[4],
      /^\| local:\/\/API_TOKEN \| \S+ \S+ read \| \S+@\S+ \| 1 \| \S+ \| 40d \| {2}\| not read in 30 days \|$/,
    )
    assert.match(
      mdLines[6],
      /^\| local:\/\/MISSING \| \S+ \S+ read \(not_found\) \| \S+@\S+ \| 0 \| never \| {2}\| {2}\| never rotated, never read \|$/,
    )
    const fresh = await sb.run(['audit', 'report', '--json'])
    assert.deepEqual(
      JSON.parse(fresh.stdout).secrets.map((s: {unread: boolean; ageDays?: number}) => [s.unread, s.ageDays]),
      [
        [false, 0],
        [false, 0],
        [true, undefined],
      ],
    )
    const badNow = await sb.run(['audit', 'report'], {env: {SECRETS_NOW: 'soon'}})
    assert.deepEqual(
      [badNow.code, badNow.stderr],
      [
        2,
        'Error [USAGE]: SECRETS_NOW must be an ISO 8601 time such as 2026-11-30T12:00:00Z or epoch milliseconds, not "soon".\n',
      ],
    )
  })

  it('audit report: the policy comes from `rotate: {every}` in secrets.yaml', async () => {
    const config = join(sb.project, 'secrets.yaml')
    const original = readFileSync(config, 'utf8')
    try {
      writeFileSync(
        config,
        original.replace(
          'env: {}',
          'env:\n  DB_PASSWORD: {ref: local://DB_PASSWORD, rotate: {every: 30d}}\n  API_TOKEN: {ref: local://API_TOKEN, rotate: {every: 60d}}',
        ),
      )
      const written = Date.parse(JSON.parse(sb.auditText().split('\n')[1]).time)
      const r = await sb.run(['audit', 'report', '--json'], {
        env: {SECRETS_NOW: new Date(written + 40 * DAY + 3_600_000).toISOString()},
      })
      assert.equal(r.code, 0, r.stderr)
      const view = JSON.parse(r.stdout).secrets.map((s: Record<string, unknown>) => [
        s.secret,
        s.ageDays,
        s.policyDays,
        s.overdue,
      ])
      assert.deepEqual(view, [
        ['local://API_TOKEN', 40, 60, false],
        ['local://DB_PASSWORD', 40, 30, true],
        ['local://MISSING', undefined, undefined, false],
      ])
    } finally {
      writeFileSync(config, original)
    }
  })

  it('audit verify: 0 when intact, 8 when a record was changed, 7 with another key, 6 with a key others can read', async () => {
    const ok = await sb.run(['audit', 'verify'])
    assert.deepEqual(
      [ok.code, ok.stdout],
      [
        0,
        `✓ The access log is intact: ${sb.auditText().trim().split('\n').length} record(s), seq 1 to ${sb.auditText().trim().split('\n').length} (audit key ${JSON.parse((await sb.run(['audit', 'verify', '--json'])).stdout).keyId}).\n`,
      ],
    )
    const original = sb.auditText()
    const originalKey = readFileSync(keyFile)
    try {
      writeFileSync(
        sb.auditFile,
        original.replace(
          '"ref":"local://API_TOKEN","version":"1","outcome":"ok"',
          '"ref":"local://API_TOKEN","version":"1","outcome":"denied"',
        ),
      )
      const tampered = await sb.run(['audit', 'verify'])
      assert.deepEqual(
        [tampered.code, tampered.stdout],
        [
          8,
          `✗ The access log is NOT intact: The record at ${sb.auditFile}:2 (seq 2) was changed: the next record's link does not match it.\n`,
        ],
      )
      const asJson = JSON.parse((await sb.run(['audit', 'verify', '--json'])).stdout)
      assert.deepEqual([asJson.intact, asJson.problem.kind, asJson.problem.line], [false, 'changed', 2])
      writeFileSync(sb.auditFile, original)
      writeFileSync(keyFile, `${'cd'.repeat(32)}\n`)
      const wrong = await sb.run(['audit', 'verify'])
      assert.equal(wrong.code, 7)
      assert.match(wrong.stdout, /^✗ The access log is NOT intact: The log was written with another audit key/)
      writeFileSync(keyFile, originalKey)
      chmodSync(keyFile, 0o644)
      const loose = await sb.run(['audit', 'verify'])
      assert.equal(loose.code, 6)
      assert.equal(
        loose.stderr,
        `Error [INSECURE_PERMISSIONS]: The audit key ${keyFile} is accessible by group or others (mode 0644); refusing to use it.\n  → Run \`chmod 600 ${keyFile}\`. Whoever could read it can rewrite the access log without detection.\n`,
      )
      // Reads fail closed too: an access that cannot be recorded does not happen.
      const get = await sb.run(['get', 'DB_PASSWORD'])
      assert.deepEqual([get.code, get.stdout], [6, ''])
      const doctor = await sb.run(['doctor', '--json'])
      assert.equal(doctor.code, 6)
      assert.deepEqual(
        JSON.parse(doctor.stdout).checks.find((c: {name: string}) => c.name === 'audit log'),
        {
          name: 'audit log',
          status: 'fail',
          code: 'INSECURE_PERMISSIONS',
          exitCode: 6,
          detail: `The audit key ${keyFile} is accessible by group or others (mode 0644); refusing to use it.`,
        },
      )
    } finally {
      writeFileSync(sb.auditFile, original)
      writeFileSync(keyFile, originalKey)
      chmodSync(keyFile, 0o600)
    }
    assert.equal((await sb.run(['audit', 'verify'])).code, 0)
  })
})

describe('secrets audit: concurrency', () => {
  it(
    '20 processes appending at once, with segments rolling over, keep one valid chain',
    {timeout: 240_000},
    async () => {
      const sb = new Sandbox()
      try {
        const env = sb.env({SECRETS_AUDIT_SEGMENT_BYTES: '6000'})
        const perProcess = 15
        const codes = await Promise.all(
          Array.from(
            {length: 20},
            (_, id) =>
              new Promise<number | null>((resolve, reject) => {
                const child = spawn(
                  process.execPath,
                  ['--import', 'tsx', join(ROOT, 'test', 'helpers', 'audit-append.ts'), String(id), String(perProcess)],
                  {cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit']},
                )
                child.on('error', reject)
                child.on('close', resolve)
              }),
          ),
        )
        assert.deepEqual(
          codes,
          Array.from({length: 20}, () => 0),
        )
        const segments = readdirSync(join(sb.home, '.local', 'state', 'secrets')).filter((f) =>
          /^audit\.jsonl\.\d+$/.test(f),
        )
        assert.ok(segments.length >= 5, `expected several segments, got ${segments.length}`)
        const verify = await sb.run(['audit', 'verify', '--json'], {env: {SECRETS_AUDIT_SEGMENT_BYTES: '6000'}})
        const result = JSON.parse(verify.stdout)
        assert.equal(verify.code, 0, verify.stdout)
        assert.deepEqual([result.intact, result.records, result.lastSeq, result.missingSegments], [true, 300, 300, []])
        const log = await sb.run(['audit', 'log', '--json'])
        const refs = JSON.parse(log.stdout)
          .records.map((r: {ref: string}) => r.ref)
          .sort()
        assert.deepEqual(
          refs,
          Array.from({length: 20}, (_, id) => Array.from({length: perProcess}, (_, i) => `local://P${id}_${i}`))
            .flat()
            .sort(),
        )
        // Each writer's own records stay in its order.
        const p7 = JSON.parse(log.stdout)
          .records.filter((r: {user: string}) => r.user === 'w7')
          .map((r: {ref: string}) => r.ref)
        assert.deepEqual(
          p7,
          Array.from({length: perProcess}, (_, i) => `local://P7_${i}`),
        )
      } finally {
        sb.cleanup()
      }
    },
  )
})
