#!/usr/bin/env node
// Redaction throughput: 100 secrets of 8-64 bytes, 64 MiB of log-like output in 64 KiB chunks, through
// the masking stream, through the one it replaced (bench/baseline/sparse-redact-stream.ts) and through
// a plain PassThrough, side by side in the same process, rounds interleaved. Wall and CPU time (user +
// system of this process, which load from other work changes less).
// Usage: node --import tsx bench/redact.mjs [MiB] [rounds]
import {randomBytes} from 'node:crypto'
import {PassThrough, Readable, Writable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import * as previous from './baseline/sparse-redact-stream.ts'
import {Matcher, patternsFor, RedactStream} from '../src/core/exec/redact-stream.ts'

const mib = Number(process.argv[2] ?? 64)
const rounds = Number(process.argv[3] ?? 5)
const secrets = Array.from({length: 100}, (_, i) => ({
  name: `S${i}`,
  value: Buffer.from(
    randomBytes(48)
      .toString('base64url')
      .slice(0, 8 + ((i * 7) % 57)),
  ),
}))
const line = (i) =>
  `2026-11-23T10:00:00.${String(i % 1000).padStart(3, '0')}Z INFO request handled path=/api/v1/items/${i} status=200 duration_ms=${i % 97}\n`
let text = ''
for (let i = 0; text.length < 64 * 1024; i++) text += line(i)
const chunk = Buffer.from(text).subarray(0, 64 * 1024)
// One secret every ~4 KiB, so the masking path is exercised too.
for (let at = 1000, k = 0; at + 64 < chunk.length; at += 4096, k++) secrets[k % 100].value.copy(chunk, at)
const chunks = Math.round((mib * 1024 * 1024) / chunk.length)

async function run(makeStream) {
  let bytes = 0
  const t0 = process.hrtime.bigint()
  const c0 = process.cpuUsage()
  await pipeline(
    Readable.from(
      (function* () {
        for (let i = 0; i < chunks; i++) yield chunk
      })(),
    ),
    makeStream(),
    new Writable({
      write(c, _e, cb) {
        bytes += c.length
        cb()
      },
    }),
  )
  const s = Number(process.hrtime.bigint() - t0) / 1e9
  const cpu = process.cpuUsage(c0)
  return {
    mbps: (chunks * chunk.length) / s / 1e6,
    cpu: (chunks * chunk.length) / ((cpu.user + cpu.system) / 1e6) / 1e6,
    bytes,
  }
}

const matcher = new Matcher(patternsFor(secrets).patterns)
const before = new previous.Matcher(previous.patternsFor(secrets).patterns)
const results = {redact: [], previous: [], passthrough: []}
for (let r = 0; r < rounds; r++) {
  results.passthrough.push(await run(() => new PassThrough()))
  results.redact.push(await run(() => new RedactStream(matcher)))
  results.previous.push(await run(() => new previous.RedactStream(before)))
}
const median = (xs) => Math.round([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)])
const of = (key) => Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v.map((x) => x[key]))]))
console.log(
  JSON.stringify({input_mib: mib, rounds, secrets: 100, median_mb_per_s: of('mbps'), median_mb_per_cpu_s: of('cpu')}),
)
