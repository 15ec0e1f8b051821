#!/usr/bin/env node
// The access log at scale (issue 8). Generates a valid 1,000,000-record log directly (the same record
// format, keyed chain, 16 MiB segments with their seals, and head file that appendAudit writes;
// `audit verify` checking it intact is part of the run), then, interleaved round by round so machine noise hits all alike:
//   - `wc -l` over every segment file (the floor for reading the log),
//   - `secrets audit verify` (the CLI, start-up included) and the verifier alone, in-process,
//   - `secrets audit log --secret X --json` for a secret with about 1,000 of the records,
//   - `grep -c -F` of that secret's reference over the same files (a second floor for the filter).
// Then the cost of appending: one record per append (the lock, the tail read, fsync and head write
// each time) and batches of 50 (what `exec` with 50 secrets writes), to the 1M-record log.
// Usage: npm run build && node --import tsx bench/audit.mjs [records] [rounds]
import {spawnSync} from 'node:child_process'
import {createHmac} from 'node:crypto'
import {closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {appendAudit} from '../src/core/audit/log.ts'
import {auditLogFile, headMac, segmentBytes, segmentName, sealedSegments} from '../src/core/audit/record.ts'
import {fastMac, loadAuditKeys, valueFingerprint} from '../src/core/audit/key.ts'
import {checkAuditChain as verifyAudit} from '../src/core/audit/check-chain.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const records = Number(process.argv[2] ?? 1_000_000)
const rounds = Number(process.argv[3] ?? 5)
const SECRETS = join(root, 'bin', 'run.js')

const tmp = mkdtempSync(join(tmpdir(), 'secrets-bench-audit-'))
const home = join(tmp, 'home')
mkdirSync(home, {recursive: true})
const env = {PATH: process.env.PATH, HOME: home, USER: 'bench', LANG: 'C.UTF-8', NO_COLOR: '1'}

function generate() {
  const log = auditLogFile(env)
  mkdirSync(dirname(log), {recursive: true, mode: 0o700})
  const keys = loadAuditKeys(env, {create: true, logExists: false})
  const mac = fastMac(keys.chain)
  const limit = segmentBytes(env)
  const users = Array.from({length: 20}, (_, i) => `user${i}`)
  const commands = [['exec', 'npm'], ['exec', 'node'], ['get'], ['export'], ['set']]
  const fps = Array.from({length: 1000}, (_, i) => valueFingerprint(keys, Buffer.from(`value-${i}`)))
  const start = Date.parse('2026-01-01T00:00:00Z')
  let prev = '0'.repeat(64)
  let seg = 1
  let parts = []
  let segBytes = 0
  let seal
  const render = (seq, first) => {
    const secret = (seq * 7919) % 1000
    const [command, child] = commands[seq % commands.length]
    const outcome = seq % 97 === 0 ? 'denied' : 'ok'
    return JSON.stringify({
      v: 2,
      seq,
      ...(first ? {seg} : {}),
      ...(first && seal ? {seal} : {}),
      time: new Date(start + seq * 30_000).toISOString(),
      user: users[seq % 20],
      host: `host-${seq % 5}`,
      ...(seq % 3 === 0 ? {ci: {system: 'github-actions', runId: `${9_000_000 + Math.floor(seq / 50)}/1`}} : {}),
      pid: 10_000 + (seq % 5000),
      command,
      ...(child ? {child} : {}),
      action: command === 'set' ? 'write' : 'read',
      provider: 'local',
      ref: `local://SECRET_${secret}`,
      ...(outcome === 'ok'
        ? {version: String(1 + (seq % 4)), outcome, fp: fps[secret]}
        : {outcome, code: 'PERMISSION_DENIED'}),
      prev,
    })
  }
  const flush = (file) => {
    const text = parts.join('')
    const fd = openSync(file, 'w', 0o600)
    writeSync(fd, text)
    closeSync(fd)
    // What appendAudit does at rollover (after checking the segment's chain): seal it.
    seal = createHmac('sha256', keys.seal).update(text).digest('hex')
    parts = []
    segBytes = 0
  }
  for (let seq = 1; seq <= records; seq++) {
    let line = render(seq, segBytes === 0)
    if (segBytes > 0 && segBytes + line.length + 1 > limit) {
      flush(segmentName(log, seg))
      seg += 1
      line = render(seq, true)
    }
    const buf = Buffer.from(line)
    prev = mac(buf)
    parts.push(`${line}\n`)
    segBytes += buf.length + 1
  }
  flush(log)
  const head = JSON.stringify({v: 2, kid: keys.kid, seq: records, mac: headMac(keys, records, prev)})
  writeFileSync(`${log}.head`, `${head.padEnd(191)}\n`, {mode: 0o600})
  return log
}

function time(fn) {
  const t0 = process.hrtime.bigint()
  const out = fn()
  return {ms: Number(process.hrtime.bigint() - t0) / 1e6, out}
}

async function timeAsync(fn) {
  const t0 = process.hrtime.bigint()
  const out = await fn()
  return {ms: Number(process.hrtime.bigint() - t0) / 1e6, out}
}

function run(cmd, args, ok = [0]) {
  const r = spawnSync(cmd, args, {env, encoding: 'utf8', maxBuffer: 1 << 30})
  if (!ok.includes(r.status)) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`)
  return r
}

/** Wall time and CPU time (user + system, from GNU time) of one command: CPU time hardly moves with load. */
function measure(cmd, args, ok = [0]) {
  const cpuFile = join(tmp, 'cpu.txt')
  const t0 = process.hrtime.bigint()
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S', '-o', cpuFile, cmd, ...args], {
    env,
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  })
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  if (!ok.includes(r.status)) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`)
  const [user, sys] = readFileSync(cpuFile, 'utf8').trim().split('\n').at(-1).split(' ').map(Number)
  return {ms, cpu: (user + sys) * 1000, out: r}
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

try {
  const gen = time(generate)
  const log = gen.out
  const files = [...sealedSegments(log).map((s) => s.file), log]
  const size = Number(
    run('du', ['-cb', ...files])
      .stdout.trim()
      .split('\n')
      .at(-1)
      .split('\t')[0],
  )
  const secret = 'local://SECRET_123'
  const results = {wc: [], verifyCli: [], verifyCore: [], logCli: [], grep: []}
  const cpu = {wc: [], verifyCli: [], verifyCore: [], logCli: [], grep: []}
  let found
  let lines
  for (let r = 0; r < rounds; r++) {
    const wc = measure('wc', ['-l', ...files])
    results.wc.push(wc.ms)
    cpu.wc.push(wc.cpu)
    lines = Number(wc.out.stdout.trim().split('\n').at(-1).trim().split(/\s+/)[0])
    const v = measure(process.execPath, [SECRETS, 'audit', 'verify', '--json'])
    results.verifyCli.push(v.ms)
    cpu.verifyCli.push(v.cpu)
    const verdict = JSON.parse(v.out.stdout)
    if (!verdict.intact || verdict.records !== records) throw new Error(`verify: ${v.out.stdout.slice(0, 500)}`)
    const c0 = process.cpuUsage()
    const core = await timeAsync(() => verifyAudit(env))
    const c1 = process.cpuUsage(c0)
    results.verifyCore.push(core.ms)
    cpu.verifyCore.push((c1.user + c1.system) / 1000)
    const q = measure(process.execPath, [SECRETS, 'audit', 'log', '--secret', secret, '--json'])
    results.logCli.push(q.ms)
    cpu.logCli.push(q.cpu)
    found = JSON.parse(q.out.stdout).records.length
    const g = measure('grep', ['-c', '-F', secret, ...files], [0, 1])
    results.grep.push(g.ms)
    cpu.grep.push(g.cpu)
  }
  // Appends to the 1M-record log: one record per call, and 50 per call.
  const actor = {user: 'bench', host: 'bench-host'}
  const event = (i) => ({
    command: 'exec',
    child: 'true',
    action: 'read',
    provider: 'local',
    ref: `local://APPEND_${i % 50}`,
    version: '1',
    outcome: 'ok',
  })
  const singles = 500
  const one = await timeAsync(async () => {
    for (let i = 0; i < singles; i++) await appendAudit([event(i)], actor, env)
  })
  const batches = 100
  const fifty = await timeAsync(async () => {
    for (let i = 0; i < batches; i++)
      await appendAudit(
        Array.from({length: 50}, (_, k) => event(k)),
        actor,
        env,
      )
  })
  const noSync = {...env, SECRETS_AUDIT_FSYNC: '0'}
  const oneNoSync = await timeAsync(async () => {
    for (let i = 0; i < singles; i++) await appendAudit([event(i)], actor, noSync)
  })
  const after = await verifyAudit(env)
  if (!after.intact || after.records !== records + 2 * singles + batches * 50)
    throw new Error(`after appends: ${JSON.stringify(after.problem)}`)
  const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, Math.round(median(v))]))
  const mc = Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, Math.round(median(v))]))
  console.log(
    JSON.stringify(
      {
        records,
        lines,
        segments: files.length,
        log_mib: Math.round(size / 1048576),
        rounds,
        generate_s: Math.round(gen.ms / 100) / 10,
        median_ms: m,
        ratio_to_wc: {
          verifyCli: +(m.verifyCli / m.wc).toFixed(1),
          verifyCore: +(m.verifyCore / m.wc).toFixed(1),
          logCli: +(m.logCli / m.wc).toFixed(1),
          grep: +(m.grep / m.wc).toFixed(1),
        },
        median_cpu_ms: mc,
        cpu_ratio_to_wc: {
          verifyCli: +(mc.verifyCli / mc.wc).toFixed(1),
          verifyCore: +(mc.verifyCore / mc.wc).toFixed(1),
          logCli: +(mc.logCli / mc.wc).toFixed(1),
          grep: +(mc.grep / mc.wc).toFixed(1),
        },
        log_secret_matches: found,
        append_ms_per_record: {
          one_per_call: +(one.ms / singles).toFixed(3),
          fifty_per_call: +(fifty.ms / (batches * 50)).toFixed(3),
          one_per_call_without_fsync: +(oneNoSync.ms / singles).toFixed(3),
        },
      },
      null,
      2,
    ),
  )
} finally {
  rmSync(tmp, {recursive: true, force: true})
}
