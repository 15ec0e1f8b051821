#!/usr/bin/env node
// Masking memory and throughput, three implementations side by side in one run:
//   anchored  the current matcher (src/core/exec/redact-stream.ts): long values found by a rolling-hash
//             anchor and compared with the output directly, short ones in an Aho-Corasick automaton,
//   sparse    the sparse Aho-Corasick trie it replaced (bench/baseline/sparse-redact-stream.ts, 888d002),
//   dense     the 256-wide automaton before that (bench/baseline/dense-redact-stream.ts),
//   prekmp    the anchored matcher before a value that contains its own anchor again fell back along a
//             failure table (bench/baseline/prekmp-redact-stream.ts: one candidate at every start),
// for 100 secrets of 8-64 bytes, one 220 KB CA bundle, the two together, one 4 MB value (base64 text
// in 64-character lines, as under `files:`), and one 300-byte run of 'a' with output of lines of 4,095
// 'a's (a value that contains its own anchor again; its input is MiB/16, at least 1, as the prekmp
// matcher reads it at about 1 MB/s; every line must come out as one marker). Each case runs in a fresh process, so its peak RSS is its
// own, under `prlimit --data` (6 GB: a limit on the data segment, not on address space, which Node's
// WebAssembly reserves by the gigabyte and which made every run under `--as` fail to start). The output
// is MiB of log-like text in 64 KiB chunks with a small value planted every ~4 KiB and the long value
// once per MiB, in 64 KiB pieces as a pipe delivers it; every planted value must come out masked.
// Columns: matcher_mb is what the patterns and the matcher keep (heap and buffers, after a GC), per
// secret byte in bytes_per_secret_byte; peak_rss_mb is the process's peak; mb_per_cpu_s divides by the
// CPU time the process used (user + system, GC included), which load from other work changes less.
// Usage: node bench/redact-memory.mjs [MiB] [--only anchored,sparse]
import {spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {dirname, join} from 'node:path'
import {PassThrough, Readable, Writable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {fileURLToPath} from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const CASES = {
  small: '100 secrets, 8-64 bytes',
  ca: 'one 220 KB value',
  mixed: '100 secrets and one 220 KB value',
  big: 'one 4 MB value',
  repeat: "one 300-byte run of 'a'",
}
const IMPLS = {
  anchored: '../src/core/exec/redact-stream.ts',
  sparse: './baseline/sparse-redact-stream.ts',
  dense: './baseline/dense-redact-stream.ts',
  prekmp: './baseline/prekmp-redact-stream.ts',
}

function small() {
  return Array.from({length: 100}, (_, i) => ({
    name: `S${i}`,
    value: Buffer.from(
      randomBytes(48)
        .toString('base64url')
        .slice(0, 8 + ((i * 7) % 57)),
    ),
  }))
}

function bundle(bytes) {
  // PEM-like: base64 lines of 64, so the per-line patterns are there too.
  const b64 = randomBytes((bytes * 3) / 4).toString('base64')
  const pem = `-----BEGIN CERTIFICATE-----\n${b64.match(/.{1,64}/g).join('\n')}\n-----END CERTIFICATE-----\n`
  return {name: 'BUNDLE', value: Buffer.from(pem)}
}

function secretsFor(kind) {
  if (kind === 'repeat') return {short: [], long: undefined, run: {name: 'RUN', value: Buffer.alloc(300, 'a')}}
  if (kind === 'small') return {short: small(), long: undefined}
  const long = bundle(kind === 'big' ? 4 * 1024 * 1024 : 220 * 1024)
  return {short: kind === 'mixed' ? small() : [], long}
}

function retained() {
  globalThis.gc()
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}

async function one(impl, kind, mib) {
  const mod = await import(IMPLS[impl])
  const {short, long, run} = secretsFor(kind)
  const secrets = run !== undefined ? [run] : long === undefined ? short : [long, ...short]
  const line = (i) =>
    `2026-12-04T02:00:00.${String(i % 1000).padStart(3, '0')}Z INFO request path=/api/v1/items/${i} status=200\n`
  let text = ''
  for (let i = 0; text.length < 64 * 1024; i++) text += line(i)
  let chunk = Buffer.from(text).subarray(0, 64 * 1024)
  let plantedPerChunk = 0
  if (run !== undefined) {
    chunk = Buffer.alloc(64 * 1024, 'a')
    for (let at = 4095; at < chunk.length; at += 4096, plantedPerChunk++) chunk[at] = 0x0a
  }
  for (let at = 1000, k = 0; short.length > 0 && at + 64 < chunk.length; at += 4096, k++, plantedPerChunk++)
    short[k % 100].value.copy(chunk, at)
  const before = retained()
  const t0 = process.hrtime.bigint()
  let matcher
  try {
    matcher = new mod.Matcher(mod.patternsFor(secrets).patterns)
    matcher.scan(Buffer.from('warm up'))
  } catch (error) {
    return {error: `${error.name}: ${error.message}`}
  }
  const buildMs = Number(process.hrtime.bigint() - t0) / 1e6
  const matcherBytes = retained() - before
  const chunks = Math.round(((run === undefined ? mib : Math.max(1, mib / 16)) * 1024 * 1024) / chunk.length)
  const source = function* () {
    for (let i = 0; i < chunks; i++) {
      yield chunk
      if (long !== undefined && i % 16 === 15)
        for (let at = 0; at < long.value.length; at += 65_536) yield long.value.subarray(at, at + 65_536)
    }
  }
  let markers = 0
  const sink = (count) =>
    new Writable({
      write(c, _e, cb) {
        if (count) for (let i = c.indexOf('<secret:'); i !== -1; i = c.indexOf('<secret:', i + 1)) markers++
        cb()
      },
    })
  const t1 = process.hrtime.bigint()
  const c1 = process.cpuUsage()
  await pipeline(Readable.from(source()), new mod.RedactStream(matcher), sink(true))
  const s = Number(process.hrtime.bigint() - t1) / 1e9
  const cpu = process.cpuUsage(c1)
  const longCount = long === undefined ? 0 : Math.floor(chunks / 16)
  const total = chunks * chunk.length + longCount * (long?.value.length ?? 0)
  const expected = chunks * plantedPerChunk + longCount
  if (markers !== expected) return {error: `${markers} values masked, ${expected} planted`}
  const t2 = process.hrtime.bigint()
  await pipeline(Readable.from(source()), new PassThrough(), sink(false))
  const sp = Number(process.hrtime.bigint() - t2) / 1e9
  const secretBytes = secrets.reduce((n, x) => n + x.value.length, 0)
  return {
    secret_bytes: secretBytes,
    build_ms: Math.round(buildMs),
    matcher_mb: Math.round(matcherBytes / 1e5) / 10,
    bytes_per_secret_byte: Math.round((matcherBytes / secretBytes) * 10) / 10,
    mb_per_s: Math.round(total / s / 1e6),
    mb_per_cpu_s: Math.round(total / ((cpu.user + cpu.system) / 1e6) / 1e6),
    passthrough_mb_per_s: Math.round(total / sp / 1e6),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  }
}

const mib = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 64)
if (process.argv[2] === '--one') {
  console.log(JSON.stringify(await one(process.argv[3], process.argv[4], Number(process.argv[5]))))
} else {
  const onlyAt = process.argv.indexOf('--only')
  const impls = onlyAt === -1 ? Object.keys(IMPLS) : process.argv[onlyAt + 1].split(',')
  const rows = []
  for (const kind of Object.keys(CASES))
    for (const impl of impls) {
      const args = ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--one', impl, kind, String(mib)]
      const r = spawnSync('prlimit', ['--data=6000000000', process.execPath, ...args], {
        encoding: 'utf8',
        cwd: join(here, '..'),
      })
      let result
      try {
        result = JSON.parse(r.stdout.trim().split('\n').at(-1))
      } catch {
        result = {error: (r.stderr.match(/(RangeError|Error)[^\n]*/) ?? [`exit ${r.status} ${r.signal ?? ''}`])[0]}
      }
      rows.push({case: CASES[kind], impl, ...result})
      console.error(JSON.stringify(rows.at(-1)))
    }
  console.log(JSON.stringify({input_mib: mib, rows}, null, 1))
}
