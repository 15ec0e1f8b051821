#!/usr/bin/env node
// The library's cost next to exec's, with 50 secrets in the local store, side by side in one run:
//   - process start to exit: `node --import secrets-cli/register app.mjs`, `node -r .../register app.cjs`
//     and `secrets exec [--no-redact] -- node app.mjs` (the same Node program under exec), with bare
//     `node app.mjs` as the floor, interleaved round by round so machine noise hits all of them alike;
//   - in one process: the first load() (the library's import included) and the median of later calls;
//   - the package: `npm pack` packed and unpacked size and file count.
// Usage: npm run build && node bench/library.mjs [rounds]
import {spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const rounds = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 20)
const SECRETS = join(root, 'bin', 'run.js')
const REGISTER = join(root, 'dist', 'lib', 'register.js')
const REGISTER_CJS = join(root, 'dist', 'lib', 'register.cjs')
const LIB = join(root, 'dist', 'lib', 'index.js')

const tmp = mkdtempSync(join(tmpdir(), 'secrets-bench-lib-'))
const home = join(tmp, 'home')
const project = join(tmp, 'project')
for (const d of [home, project]) mkdirSync(d, {recursive: true})
const env = {PATH: process.env.PATH, HOME: home, USER: 'bench', LANG: 'C.UTF-8', NO_COLOR: '1'}

function run(cmd, args, o = {}) {
  const r = spawnSync(cmd, args, {env, cwd: project, stdio: ['pipe', 'pipe', 'pipe'], encoding: 'utf8', ...o})
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`)
  return r
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

try {
  run(process.execPath, [SECRETS, 'init', '--yes', '--no-passphrase'])
  for (let i = 0; i < 50; i++)
    run(process.execPath, [SECRETS, 'set', `SECRET_${i}`], {input: randomBytes(24).toString('base64url')})
  const print = 'process.stdout.write(process.env.SECRET_7 ?? "")\n'
  writeFileSync(join(project, 'app.mjs'), print)
  writeFileSync(join(project, 'app.cjs'), print)
  writeFileSync(
    join(project, 'inproc.mjs'),
    `const t0 = performance.now()
const {load} = await import(${JSON.stringify(LIB)})
const first = await load()
const t1 = performance.now()
const later = []
for (let i = 0; i < 20; i++) {
  const t = performance.now()
  await load()
  later.push(performance.now() - t)
}
later.sort((a, b) => a - b)
process.stdout.write(JSON.stringify({variables: Object.keys(first).length, first: t1 - t0, later: later[10]}))
`,
  )
  const cases = {
    'node app.mjs (no secrets: the floor)': ['app.mjs'],
    'node --import secrets-cli/register app.mjs': ['--import', REGISTER, 'app.mjs'],
    'node -r secrets-cli/register app.cjs': ['-r', REGISTER_CJS, 'app.cjs'],
    'secrets exec --no-redact -- node app.mjs': [SECRETS, 'exec', '--no-redact', '--', process.execPath, 'app.mjs'],
    'secrets exec -- node app.mjs': [SECRETS, 'exec', '--', process.execPath, 'app.mjs'],
  }
  // Every way must really hand over the values: check one before timing.
  const seen = Object.entries(cases).map(([name, argv]) => [name, run(process.execPath, argv).stdout])
  const expected = seen[1][1]
  if (expected.length !== 32) throw new Error('the register did not hand SECRET_7 to the program')
  // exec masks the value in the program's output: that one shows the mask instead.
  for (const [name, out] of seen.slice(1)) {
    const want = name === 'secrets exec -- node app.mjs' ? '<secret:SECRET_7>' : expected
    if (out !== want) throw new Error(`${name} disagrees on SECRET_7`)
  }

  const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]))
  for (let r = 0; r < rounds; r++) {
    const order = Object.keys(cases)
    if (r % 2 === 1) order.reverse()
    for (const name of order) {
      const t0 = process.hrtime.bigint()
      run(process.execPath, cases[name])
      times[name].push(Number(process.hrtime.bigint() - t0) / 1e6)
    }
  }
  const medians = Object.fromEntries(Object.entries(times).map(([k, xs]) => [k, Math.round(median(xs))]))
  const inproc = []
  for (let i = 0; i < 5; i++) inproc.push(JSON.parse(run(process.execPath, ['inproc.mjs']).stdout))
  const [pack] = JSON.parse(
    run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {cwd: root, env: process.env}).stdout,
  )
  const floor = medians['node app.mjs (no secrets: the floor)']
  console.log(
    JSON.stringify(
      {
        rounds,
        secrets: 50,
        median_ms: medians,
        over_the_floor_ms: Object.fromEntries(Object.entries(medians).map(([k, v]) => [k, v - floor])),
        in_process_load_ms: {
          first_call_with_import: Math.round(median(inproc.map((x) => x.first))),
          later_calls: Number(median(inproc.map((x) => x.later)).toFixed(1)),
        },
        package: {packed_bytes: pack.size, unpacked_bytes: pack.unpackedSize, files: pack.entryCount},
      },
      null,
      2,
    ),
  )
} finally {
  rmSync(tmp, {recursive: true, force: true})
}
