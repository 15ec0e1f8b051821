// A/B of `secrets exec -- true` start-up between two built trees, 50 local secrets, interleaved rounds, medians.
import {execFileSync, spawnSync} from 'node:child_process'
import {mkdtempSync, mkdirSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
// usage: node bench/exec-ab.mjs BASE_TREE NEW_TREE [ROUNDS]  (both built; a git worktree of the base commit works)
const [baseRoot, newRoot, rounds] = process.argv.slice(2)
const roots = {base: baseRoot, rotate: newRoot}
const T = mkdtempSync(join(tmpdir(), 'ab-'))
const env = {...process.env, HOME: join(T, 'home'), NO_COLOR: '1', SECRETS_SCRYPT_LOG_N: '12'}
mkdirSync(join(T, 'home'))
mkdirSync(join(T, 'p'))
execFileSync('node', [join(roots.rotate, 'bin/run.js'), 'init', '--yes'], {cwd: join(T, 'p'), env})
for (let i = 0; i < 50; i++)
  execFileSync('node', [join(roots.rotate, 'bin/run.js'), 'set', `S${i}`], {
    cwd: join(T, 'p'),
    env,
    input: `value-${i}-xxxxxxxx`,
    stdio: ['pipe', 'ignore', 'ignore'],
  })
const times = {base: [], rotate: []}
const N = Number(rounds ?? 15)
for (let r = 0; r < N; r++)
  for (const k of r % 2 ? ['base', 'rotate'] : ['rotate', 'base']) {
    const t = process.hrtime.bigint()
    spawnSync('node', [join(roots[k], 'bin/run.js'), 'exec', '--', 'true'], {cwd: join(T, 'p'), env, stdio: 'ignore'})
    times[k].push(Number(process.hrtime.bigint() - t) / 1e6)
  }
const med = (a) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)]
// Instructions (valgrind callgrind, the node process itself): a count that other load barely moves.
const counts = {}
for (const k of ['base', 'rotate']) {
  const runs = []
  for (let i = 0; i < 3; i++) {
    const r = spawnSync(
      'valgrind',
      [
        '--tool=callgrind',
        '--callgrind-out-file=/dev/null',
        process.execPath,
        join(roots[k], 'bin/run.js'),
        'exec',
        '--',
        'true',
      ],
      {cwd: join(T, 'p'), env, encoding: 'utf8'},
    )
    runs.push(Number(/Collected : (\d+)/.exec(r.stderr)?.[1]))
  }
  counts[k] = Math.round(med(runs) / 1e6)
}
console.log(
  JSON.stringify({
    median_ms: {base: med(times.base).toFixed(1), new: med(times.rotate).toFixed(1)},
    ratio_ms: (med(times.rotate) / med(times.base)).toFixed(3),
    million_instructions: counts,
    ratio_instructions: (counts.rotate / counts.base).toFixed(3),
  }),
)
