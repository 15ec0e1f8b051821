#!/usr/bin/env node
// `secrets exec -- true` with 50 secrets in the local store, side by side in one run with:
//   - a minimal oclif CLI whose one command spawns `true` (bench/minimal-oclif, as oclif's template
//     writes it: the floor for an oclif tool), and the same loading oclif through its subpath exports
//     (bench/minimal-oclif-subpath), and the same with oclif bundled by esbuild into a few files
//     (bench/minimal-oclif-bundled, built here first), as secrets itself ships: the like-for-like floor,
//   - `dotenvx run -f .env -- true` with the same 50 values encrypted by dotenvx,
// interleaved round by round so machine noise hits all of them alike. Also the peak RSS of
// `secrets exec` (GNU time's %M). With --instructions, also the instructions each one executes under
// valgrind's callgrind (all threads of the node process, not the child): a count that other load on
// the machine does not change, for when wall times are noisy.
// Usage: npm run build && node bench/exec.mjs [rounds] [--instructions]
import {spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const rounds = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 30)
const instructions = process.argv.includes('--instructions')
const SECRETS = join(root, 'bin', 'run.js')
const MINIMAL = join(root, 'bench', 'minimal-oclif', 'bin', 'run.js')
const MINIMAL_SUBPATH = join(root, 'bench', 'minimal-oclif-subpath', 'bin', 'run.js')
const MINIMAL_BUNDLED = join(root, 'bench', 'minimal-oclif-bundled', 'bin', 'run.js')
const DOTENVX = join(root, 'node_modules', '@dotenvx', 'dotenvx', 'src', 'cli', 'dotenvx.js')

const tmp = mkdtempSync(join(tmpdir(), 'secrets-bench-'))
const home = join(tmp, 'home')
const project = join(tmp, 'project')
const dotenvDir = join(tmp, 'dotenvx')
for (const d of [home, project, dotenvDir]) mkdirSync(d, {recursive: true})
const env = {PATH: process.env.PATH, HOME: home, USER: 'bench', LANG: 'C.UTF-8', NO_COLOR: '1'}

function run(cmd, args, o = {}) {
  const r = spawnSync(cmd, args, {env, stdio: ['pipe', 'pipe', 'pipe'], encoding: 'utf8', ...o})
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`)
  return r
}

try {
  run(process.execPath, [join(root, 'bench', 'minimal-oclif-bundled', 'build.mjs')], {cwd: root})
  run(process.execPath, [SECRETS, 'init', '--yes', '--no-passphrase'], {cwd: project})
  let dotenv = ''
  for (let i = 0; i < 50; i++) {
    const value = randomBytes(24).toString('base64url')
    run(process.execPath, [SECRETS, 'set', `SECRET_${i}`], {cwd: project, input: value})
    dotenv += `SECRET_${i}="${value}"\n`
  }
  writeFileSync(join(dotenvDir, '.env'), dotenv)
  run(process.execPath, [DOTENVX, 'encrypt', '-f', '.env'], {cwd: dotenvDir})
  // Both tools must really hand over the values: check one before timing.
  const check = run(process.execPath, [SECRETS, 'exec', '--no-redact', '--', 'sh', '-c', 'printf %s "$SECRET_7"'], {
    cwd: project,
  }).stdout
  const checkDotenvx = run(
    process.execPath,
    [DOTENVX, 'run', '-q', '-f', '.env', '--', 'sh', '-c', 'printf %s "$SECRET_7"'],
    {cwd: dotenvDir},
  ).stdout
  if (check !== checkDotenvx || check.length !== 32) throw new Error('the two tools disagree on SECRET_7')

  const cases = {
    'minimal oclif (spawns true)': [[MINIMAL, 'exec', '--', 'true'], project],
    'minimal oclif, subpath imports': [[MINIMAL_SUBPATH, 'exec', '--', 'true'], project],
    'minimal oclif, bundled': [[MINIMAL_BUNDLED, 'exec', '--', 'true'], project],
    'secrets exec -- true': [[SECRETS, 'exec', '--', 'true'], project],
    'secrets exec --no-redact -- true': [[SECRETS, 'exec', '--no-redact', '--', 'true'], project],
    'dotenvx run -f .env -- true': [[DOTENVX, 'run', '-q', '-f', '.env', '--', 'true'], dotenvDir],
  }
  const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]))
  for (const [argv, cwd] of Object.values(cases)) run(process.execPath, argv, {cwd}) // warm the file cache
  for (let r = 0; r < rounds; r++) {
    const order = Object.keys(cases)
    if (r % 2 === 1) order.reverse()
    for (const name of order) {
      const [argv, cwd] = cases[name]
      const t0 = process.hrtime.bigint()
      run(process.execPath, argv, {cwd})
      times[name].push(Number(process.hrtime.bigint() - t0) / 1e6)
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  const medians = Object.fromEntries(Object.entries(times).map(([k, xs]) => [k, Math.round(median(xs))]))
  const rss = []
  for (let i = 0; i < 5; i++) {
    const r = run('/usr/bin/time', ['-f', '%M', process.execPath, SECRETS, 'exec', '--', 'true'], {cwd: project})
    rss.push(Number(r.stderr.trim().split('\n').at(-1)))
  }
  const counts = {}
  if (instructions) {
    for (const name of [
      'minimal oclif (spawns true)',
      'minimal oclif, subpath imports',
      'minimal oclif, bundled',
      'secrets exec -- true',
    ]) {
      const [argv, cwd] = cases[name]
      const runs = []
      for (let i = 0; i < 3; i++) {
        const r = run('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', process.execPath, ...argv], {
          cwd,
        })
        runs.push(Number(/Collected : (\d+)/.exec(r.stderr)[1]))
      }
      counts[name] = Math.round(median(runs) / 1e6)
    }
  }
  const s = medians['secrets exec -- true']
  console.log(
    JSON.stringify(
      {
        rounds,
        secrets: 50,
        median_ms: medians,
        ratio_vs_minimal_oclif: Number((s / medians['minimal oclif (spawns true)']).toFixed(2)),
        ratio_vs_minimal_oclif_subpath: Number((s / medians['minimal oclif, subpath imports']).toFixed(2)),
        ratio_vs_minimal_oclif_bundled: Number((s / medians['minimal oclif, bundled']).toFixed(2)),
        dotenvx_over_secrets: Number((medians['dotenvx run -f .env -- true'] / s).toFixed(2)),
        peak_rss_mb: Math.round(Math.max(...rss) / 1024),
        ...(instructions
          ? {
              million_instructions: counts,
              instructions_ratio_vs_minimal_oclif: Number(
                (counts['secrets exec -- true'] / counts['minimal oclif (spawns true)']).toFixed(2),
              ),
              instructions_ratio_vs_minimal_oclif_subpath: Number(
                (counts['secrets exec -- true'] / counts['minimal oclif, subpath imports']).toFixed(2),
              ),
              instructions_ratio_vs_minimal_oclif_bundled: Number(
                (counts['secrets exec -- true'] / counts['minimal oclif, bundled']).toFixed(2),
              ),
            }
          : {}),
      },
      null,
      2,
    ),
  )
} finally {
  rmSync(tmp, {recursive: true, force: true})
}
