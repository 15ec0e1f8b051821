#!/usr/bin/env node
// `secrets scan` over a generated tree of N files (default 50,000, ~1.2 KB of source-like text each,
// committed to a git repository), side by side in the same run with `git grep -F` of one fixed string
// (git's multi-threaded grep over the same tracked files). Interleaved rounds; medians.
// Cases: `git grep -F <string>`; `git grep -E` of the pattern rules' anchors, for scale;
// `secrets scan --no-values` (patterns only); `secrets scan` with 20 configured values resolved from
// the local store (values + patterns).
// Usage: npm run build && node bench/scan.mjs [files] [rounds] [dir]   (a dir is kept, and reused when it exists)
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const files = Number(process.argv[2] ?? 50000)
const rounds = Number(process.argv[3] ?? 5)
const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'run.js')
const keep = process.argv[4]
const reuse = keep !== undefined && existsSync(join(keep, 'repo', '.git'))
const root = keep ?? mkdtempSync(join(tmpdir(), 'secrets-bench-scan-'))
const home = join(root, 'home')
const repo = join(root, 'repo')
mkdirSync(home, {recursive: true})
mkdirSync(repo, {recursive: true})
const env = {
  PATH: process.env.PATH,
  HOME: home,
  LANG: 'C.UTF-8',
  NO_COLOR: '1',
  GIT_AUTHOR_NAME: 'b',
  GIT_AUTHOR_EMAIL: 'b@example.com',
  GIT_COMMITTER_NAME: 'b',
  GIT_COMMITTER_EMAIL: 'b@example.com',
}
const run = (cmd, args, input) => spawnSync(cmd, args, {cwd: repo, env, input, encoding: 'utf8', maxBuffer: 1 << 28})

// A deterministic PRNG, so every run scans the same tree.
let seed = 42
const rnd = (n) => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
  return seed % n
}
const words = [
  'user',
  'order',
  'item',
  'token',
  'count',
  'request',
  'response',
  'config',
  'key',
  'value',
  'cache',
  'session',
  'handler',
  'password',
  'result',
  'index',
  'buffer',
  'stream',
  'client',
  'secret',
]
const id = () =>
  `${words[rnd(words.length)]}${words[rnd(words.length)][0].toUpperCase()}${words[rnd(words.length)].slice(1)}${rnd(100)}`
const hex = (n) => Array.from({length: n}, () => '0123456789abcdef'[rnd(16)]).join('')
const templates = [
  () => `import {${id()}} from './${id()}.js'`,
  () => `const ${id()} = ${id()}.length + ${rnd(1000)}`,
  () => `export function ${id()}(${id()}, ${id()}) {`,
  () => `  const apiKey = process.env.API_KEY_${rnd(10)}`,
  () => `  // TODO: refactor the ${words[rnd(words.length)]} rotation logic (#${rnd(5000)})`,
  () => `  return {status: ${200 + rnd(300)}, body: JSON.stringify(${id()})}`,
  () => `  const commitHash = "${hex(40)}"`,
  () => `  if (!${id()}) throw new Error('missing ${words[rnd(words.length)]}: ' + ${id()})`,
  () => '}',
  () => `  logger.info(\`handled \${${id()}} in \${Date.now() - ${id()}} ms\`)`,
]
const AWS = 'AKIAQ3EGRRNJ5XW7PZ2D'
let bytes = 0
if (!reuse) generate()
else bytes = Number(run('sh', ['-c', 'git ls-files -z | xargs -0 cat | wc -c']).stdout)

function generate() {
  console.error(`generating ${files} files in ${repo} ...`)
  for (let d = 0; d < Math.ceil(files / 100); d++) mkdirSync(join(repo, `pkg${d}`, 'src'), {recursive: true})
  for (let i = 0; i < files; i++) {
    const lines = []
    const n = 20 + rnd(40)
    for (let l = 0; l < n; l++) lines.push(templates[rnd(templates.length)]())
    if (i % 10000 === 4242) lines.push(`const leaked = "${AWS}"`)
    const text = `${lines.join('\n')}\n`
    bytes += text.length
    writeFileSync(join(repo, `pkg${Math.floor(i / 100)}`, 'src', `file${i}.js`), text)
  }
  for (const [cmd, args, input] of [
    ['git', ['init', '-q']],
    ['git', ['add', '-A']],
    ['git', ['commit', '-q', '-m', 'tree']],
    [process.execPath, [BIN, 'init', '--yes']],
    ...Array.from({length: 20}, (_, i) => [
      process.execPath,
      [BIN, 'set', `SECRET_${i}`],
      `bench-value-${i}-${hex(24)}`,
    ]),
  ]) {
    const r = run(cmd, args, input)
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`)
  }
}

// Each case runs under GNU time, so the table also shows CPU time (user + system), which a busy
// machine disturbs less than wall time.
const cases = {
  'git grep -F (one fixed string)': ['git', ['grep', '-F', '-c', AWS]],
  // For scale: git grep of the pattern rules' anchors (what our prefilter looks for), case-insensitive
  // keyword stems left out.
  "git grep -E (the pattern rules' 17 anchors)": [
    'git',
    [
      'grep',
      '-E',
      '-c',
      'AKIA|ASIA|-----BEGIN|AGE-SECRET-KEY-1|eyJ|hv[sbr]\\.|AccountKey=|SharedAccessKey=|Q~|gh[pousr]_|github_pat_',
    ],
  ],
  'secrets scan --no-values': [process.execPath, [BIN, 'scan', '--no-values']],
  'secrets scan (20 configured values + patterns)': [process.execPath, [BIN, 'scan']],
}
const times = Object.fromEntries(Object.keys(cases).map((k) => [k, {wall: [], cpu: []}]))
const outputs = {}
for (let r = 0; r < rounds; r++) {
  for (const [name, [cmd, args]] of Object.entries(cases)) {
    const out = run('/usr/bin/time', ['-f', '%e %U %S', cmd, ...args])
    const [wall, user, sys] = out.stderr.trim().split('\n').at(-1).split(' ').map(Number)
    times[name].wall.push(wall * 1000)
    times[name].cpu.push((user + sys) * 1000)
    outputs[name] = `${out.status}, ${out.stdout.trim().split('\n').length} line(s)`
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const base = times['git grep -F (one fixed string)']
console.log(
  `${files} files, ${(bytes / 1e6).toFixed(1)} MB, ${rounds} interleaved rounds, load average ${(await import('node:os')).loadavg()[0].toFixed(1)}\n`,
)
console.log(
  '| case | median wall ms | median CPU ms (user+sys) | wall vs git grep | CPU vs git grep | exit, stdout |\n|---|---:|---:|---:|---:|---|',
)
for (const [name, t] of Object.entries(times)) {
  console.log(
    `| ${name} | ${Math.round(median(t.wall))} | ${Math.round(median(t.cpu))} | ${(median(t.wall) / median(base.wall)).toFixed(1)} | ${(median(t.cpu) / median(base.cpu)).toFixed(1)} | ${outputs[name]} |`,
  )
}
if (keep === undefined)
  try {
    rmSync(root, {recursive: true, force: true, maxRetries: 3})
  } catch (error) {
    console.error(`could not remove ${root}: ${error.message}`)
  }
