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
mkdirSync(join(T, 'home')); mkdirSync(join(T, 'p'))
execFileSync('node', [join(roots.rotate, 'bin/run.js'), 'init', '--yes'], {cwd: join(T, 'p'), env})
for (let i = 0; i < 50; i++) execFileSync('node', [join(roots.rotate, 'bin/run.js'), 'set', `S${i}`], {cwd: join(T, 'p'), env, input: `value-${i}-xxxxxxxx`, stdio: ['pipe', 'ignore', 'ignore']})
const times = {base: [], rotate: []}
const N = Number(rounds ?? 15)
for (let r = 0; r < N; r++) for (const k of r % 2 ? ['base', 'rotate'] : ['rotate', 'base']) {
  const t = process.hrtime.bigint()
  spawnSync('node', [join(roots[k], 'bin/run.js'), 'exec', '--', 'true'], {cwd: join(T, 'p'), env, stdio: 'ignore'})
  times[k].push(Number(process.hrtime.bigint() - t) / 1e6)
}
const med = (a) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)]
console.log(JSON.stringify({base: med(times.base).toFixed(1), rotate: med(times.rotate).toFixed(1), ratio: (med(times.rotate) / med(times.base)).toFixed(3)}))
