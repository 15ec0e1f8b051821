#!/usr/bin/env node
// Redaction throughput: 100 secrets of 8-64 bytes, 64 MiB of log-like output in 64 KiB chunks, through
// the masking stream, through the one it replaced (bench/baseline/sparse-redact-stream.ts) and through
// a plain PassThrough, side by side in the same process, rounds interleaved. Wall and CPU time (user +
// system of this process, which load from other work changes less).
// Then, the same way, long values against the anchored matcher before KMP fallback
// (bench/baseline/prekmp-redact-stream.ts): a 300-byte run of 'a' with output of lines of 4,095 'a's
// (MiB/8 of it: the old matcher reads it at about 1 MB/s), and a 220 KB PEM bundle once in every MiB of
// the log lines (a value that does not contain its own anchor: the path that must not get slower).
// Usage: node --import tsx bench/redact.mjs [MiB] [rounds]
import {randomBytes} from 'node:crypto'
import {PassThrough, Readable, Writable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import * as prekmp from './baseline/prekmp-redact-stream.ts'
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

async function run(makeStream, source = () => Array.from({length: chunks}, () => chunk)) {
  const input = source()
  const total = input.reduce((n, c) => n + c.length, 0)
  let bytes = 0
  const t0 = process.hrtime.bigint()
  const c0 = process.cpuUsage()
  await pipeline(
    Readable.from(input),
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
  return {mbps: total / s / 1e6, cpu: total / ((cpu.user + cpu.system) / 1e6) / 1e6, bytes}
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

// Long values, before and after KMP fallback.
const runValue = {name: 'RUN', value: Buffer.alloc(300, 'a')}
const runChunk = Buffer.alloc(64 * 1024, 'a')
for (let at = 4095; at < runChunk.length; at += 4096) runChunk[at] = 0x0a
const runChunks = () => Array.from({length: Math.max(1, Math.round(chunks / 8))}, () => runChunk)
const b64 = randomBytes(165 * 1024).toString('base64')
const pem = Buffer.from(`-----BEGIN CERTIFICATE-----\n${b64.match(/.{1,64}/g).join('\n')}\n-----END CERTIFICATE-----\n`)
const bundleChunks = () => {
  const out = []
  for (let i = 0; i < chunks; i++) {
    out.push(chunk)
    if (i % 16 === 15) for (let at = 0; at < pem.length; at += 65_536) out.push(pem.subarray(at, at + 65_536))
  }
  return out
}
for (const [label, secretsOf, source] of [
  ["one 300-byte run of 'a', lines of 4,095 'a's", [runValue], runChunks],
  ['one 220 KB bundle in log lines', [{name: 'BUNDLE', value: pem}], bundleChunks],
]) {
  const after = new Matcher(patternsFor(secretsOf).patterns)
  const before = new prekmp.Matcher(prekmp.patternsFor(secretsOf).patterns)
  const long = {kmp: [], prekmp: []}
  for (let r = 0; r < rounds; r++) {
    long.kmp.push(await run(() => new RedactStream(after), source))
    long.prekmp.push(await run(() => new prekmp.RedactStream(before), source))
  }
  const [a, b] = [long.kmp, long.prekmp].map((xs) => xs.map((x) => x.bytes))
  if (a.join() !== b.join()) throw new Error(`${label}: the two matchers' outputs differ in length`)
  const med = (key) => Object.fromEntries(Object.entries(long).map(([k, v]) => [k, median(v.map((x) => x[key]))]))
  console.log(JSON.stringify({case: label, median_mb_per_s: med('mbps'), median_mb_per_cpu_s: med('cpu')}))
}
