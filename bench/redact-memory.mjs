#!/usr/bin/env node
// Masking memory and throughput, the sparse matcher (src/core/exec/redact-stream.ts) side by side with
// the dense 256-wide automaton it replaced (bench/baseline/dense-redact-stream.ts), for
// 100 secrets of 8-64 bytes, one 220 KB CA bundle, and one 4 MB value (base64 text, as under `files:`).
// Each case runs in a fresh process, so its peak RSS is its own; the output is 64 MiB of log-like text
// in 64 KiB chunks with a value planted every ~4 KiB (the long values once per MiB). The dense
// automaton is not run on the 4 MB value (it would allocate about 13 GB, or throw a RangeError).
// Usage: node bench/redact-memory.mjs [MiB]
import {spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {dirname, join} from 'node:path'
import {PassThrough, Readable, Writable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {fileURLToPath} from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const CASES = {small: '100 secrets, 8-64 bytes', ca: 'one 220 KB value', big: 'one 4 MB value'}

function secretsFor(kind) {
  if (kind === 'small')
    return Array.from({length: 100}, (_, i) => ({
      name: `S${i}`,
      value: Buffer.from(
        randomBytes(48)
          .toString('base64url')
          .slice(0, 8 + ((i * 7) % 57)),
      ),
    }))
  const bytes = kind === 'ca' ? 220 * 1024 : 4 * 1024 * 1024
  // PEM-like: base64 lines of 64, so the per-line patterns are there too.
  const b64 = randomBytes((bytes * 3) / 4).toString('base64')
  const pem = `-----BEGIN CERTIFICATE-----\n${b64.match(/.{1,64}/g).join('\n')}\n-----END CERTIFICATE-----\n`
  return [{name: 'BUNDLE', value: Buffer.from(pem)}]
}

async function one(impl, kind, mib) {
  const mod = await import(impl === 'dense' ? './baseline/dense-redact-stream.ts' : '../src/core/exec/redact-stream.ts')
  const secrets = secretsFor(kind)
  const line = (i) =>
    `2026-12-04T02:00:00.${String(i % 1000).padStart(3, '0')}Z INFO request path=/api/v1/items/${i} status=200\n`
  let text = ''
  for (let i = 0; text.length < 64 * 1024; i++) text += line(i)
  const chunk = Buffer.from(text).subarray(0, 64 * 1024)
  if (kind === 'small')
    for (let at = 1000, k = 0; at + 64 < chunk.length; at += 4096, k++) secrets[k % 100].value.copy(chunk, at)
  const t0 = process.hrtime.bigint()
  let matcher
  try {
    matcher = new mod.Matcher(mod.patternsFor(secrets).patterns)
    matcher.scan(Buffer.from('warm up'))
  } catch (error) {
    return {error: `${error.name}: ${error.message}`}
  }
  const buildMs = Number(process.hrtime.bigint() - t0) / 1e6
  const chunks = Math.round((mib * 1024 * 1024) / chunk.length)
  const value = secrets[0].value
  let _out = 0
  const source = function* () {
    for (let i = 0; i < chunks; i++) {
      yield chunk
      // The long value once per MiB, in 64 KiB pieces as a pipe delivers it.
      if (kind !== 'small' && i % 16 === 15)
        for (let at = 0; at < value.length; at += 65_536) yield value.subarray(at, at + 65_536)
    }
  }
  const sink = () =>
    new Writable({
      write(c, _e, cb) {
        _out += c.length
        cb()
      },
    })
  const t1 = process.hrtime.bigint()
  await pipeline(Readable.from(source()), new mod.RedactStream(matcher), sink())
  const s = Number(process.hrtime.bigint() - t1) / 1e9
  const total = chunks * chunk.length + (kind === 'small' ? 0 : Math.floor(chunks / 16) * value.length)
  const t2 = process.hrtime.bigint()
  await pipeline(Readable.from(source()), new PassThrough(), sink())
  const sp = Number(process.hrtime.bigint() - t2) / 1e9
  return {
    secret_bytes: secrets.reduce((n, x) => n + x.value.length, 0),
    build_ms: Math.round(buildMs),
    mb_per_s: Math.round(total / s / 1e6),
    passthrough_mb_per_s: Math.round(total / sp / 1e6),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  }
}

const mib = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 64)
if (process.argv[2] === '--one') {
  console.log(JSON.stringify(await one(process.argv[3], process.argv[4], Number(process.argv[5]))))
} else {
  const rows = []
  for (const kind of Object.keys(CASES))
    for (const impl of ['dense', 'sparse']) {
      const args = ['--import', 'tsx', fileURLToPath(import.meta.url), '--one', impl, kind, String(mib)]
      const r =
        impl === 'dense'
          ? spawnSync('prlimit', ['--as=6000000000', process.execPath, ...args], {
              encoding: 'utf8',
              cwd: join(here, '..'),
            })
          : spawnSync(process.execPath, args, {encoding: 'utf8', cwd: join(here, '..')})
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
