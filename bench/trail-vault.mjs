#!/usr/bin/env node
// `secrets audit trail --provider vault` over a file audit device log of N requests (2N lines, Vault's
// JSON format, 1 in 50 about a configured secret), side by side with `wc -l` of the same file.
// No Vault is needed: the KV version is pinned and no entry has an HMAC'd version parameter.
// Usage: npm run build && node bench/trail-vault.mjs [requests] [rounds]
import {spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {mkdtempSync, mkdirSync, rmSync, statSync, writeFileSync, openSync, writeSync, closeSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const requests = Number(process.argv[2] ?? 200_000)
const rounds = Number(process.argv[3] ?? 5)
const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dir = mkdtempSync(join(tmpdir(), 'trail-bench-'))
const home = join(dir, 'home')
const project = join(dir, 'project')
mkdirSync(home)
mkdirSync(project)
writeFileSync(
  join(project, 'secrets.yaml'),
  'providers:\n  vault: {type: vault, kv: {secret: 2}}\nenv:\n  A: vault://secret/app#user\n  B: vault://secret/db#password\n',
)
const h = (s) => `hmac-sha256:${createHash('sha256').update(s).digest('hex')}`
const log = join(dir, 'audit.log')
const fd = openSync(log, 'w')
const t0 = Date.parse('2026-11-01T00:00:00Z')
let buf = ''
for (let i = 0; i < requests; i++) {
  const path = i % 50 === 0 ? 'secret/data/app' : `secret/data/other/${i % 997}`
  const time = new Date(t0 + i * 1000).toISOString().replace('Z', '123456Z')
  const auth = {
    client_token: h(`t${i % 10}`),
    accessor: h(`a${i % 10}`),
    display_name: 'approle',
    policies: ['default', 'app'],
    metadata: {role_name: 'ci'},
    entity_id: 'e1',
    token_type: 'service',
  }
  const request = {
    id: `req-${i}`,
    operation: 'read',
    mount_point: 'secret/',
    mount_type: 'kv',
    client_token: auth.client_token,
    client_token_accessor: auth.accessor,
    namespace: {id: 'root'},
    path,
    remote_address: '10.0.0.7',
  }
  buf += `${JSON.stringify({time, type: 'request', auth, request})}\n`
  buf += `${JSON.stringify({time, type: 'response', auth, request, response: {mount_type: 'kv', data: {data: {user: h('u'), password: h('p')}, metadata: {version: 3, created_time: h('c')}}}})}\n`
  if (buf.length > 1 << 20) {
    writeSync(fd, buf)
    buf = ''
  }
}
writeSync(fd, buf)
closeSync(fd)

const env = {
  PATH: process.env.PATH,
  HOME: home,
  USER: 'bench',
  NO_COLOR: '1',
  VAULT_ADDR: 'http://127.0.0.1:1',
  VAULT_TOKEN: 'unused',
  SECRETS_AUDIT_LOG: join(dir, 'local-audit.jsonl'),
}
const time = (cmd, args) => {
  const s = process.hrtime.bigint()
  const r = spawnSync(cmd, args, {cwd: project, env, encoding: 'utf8', maxBuffer: 1 << 28})
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`)
  return {ms: Number(process.hrtime.bigint() - s) / 1e6, out: r.stdout}
}
const results = {trail: [], wc: []}
let events = 0
for (let r = 0; r < rounds; r++) {
  results.wc.push(time('wc', ['-l', log]).ms)
  const t = time(process.execPath, [
    join(root, 'bin', 'run.js'),
    'audit',
    'trail',
    '--provider',
    'vault',
    '--vault-audit-file',
    log,
    '--json',
  ])
  events = JSON.parse(t.out).events.length
  results.trail.push(t.ms)
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
console.log(
  JSON.stringify({
    requests,
    lines: requests * 2,
    mib: Math.round(statSync(log).size / 2 ** 20),
    events,
    rounds,
    median_ms: {trail: Math.round(median(results.trail)), wc_l: Math.round(median(results.wc))},
    mb_per_s: Math.round(statSync(log).size / 1e6 / (median(results.trail) / 1000)),
  }),
)
if (process.env.KEEP) console.log(log)
else rmSync(dir, {recursive: true, force: true})
