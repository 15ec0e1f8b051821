#!/usr/bin/env node
// `secrets exec -- true` of two builds side by side (interleaved rounds, same project with 50 local
// secrets), plus the instructions each executes under callgrind: to check that a change costs exec
// nothing when its feature is unused. Usage (BASE: a built copy of another commit):
//   B=$(mktemp -d) && git archive <commit> | tar -x -C $B && ln -s $PWD/node_modules $B/node_modules \
//     && (cd $B && node scripts/build.mjs) && npm run build && node bench/exec-vs-base.mjs $B $PWD 20
import {spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
const [base, mine, rounds = '20'] = process.argv.slice(2)
if (!base || !mine) throw new Error('usage: node bench/exec-vs-base.mjs BASE_DIR THIS_DIR [rounds]')
const tmp = mkdtempSync(join(tmpdir(), 'sync-bench-'))
const home = join(tmp, 'home')
const project = join(tmp, 'project')
mkdirSync(home)
mkdirSync(project)
const env = {PATH: process.env.PATH, HOME: home, USER: 'bench', LANG: 'C.UTF-8', NO_COLOR: '1'}
const run = (bin, args, o = {}) =>
  spawnSync(process.execPath, [join(bin, 'bin', 'run.js'), ...args], {cwd: project, env, encoding: 'utf8', ...o})
run(mine, ['init', '--yes'])
for (let i = 0; i < 50; i++) run(mine, ['set', `SECRET_${i}`], {input: `value-${i}-${'x'.repeat(20)}`})
const times = {base: [], mine: []}
for (let r = 0; r < Number(rounds); r++) {
  for (const [k, bin] of [
    ['base', base],
    ['mine', mine],
  ]) {
    const t = process.hrtime.bigint()
    const x = run(bin, ['exec', '--', 'true'])
    if (x.status !== 0) throw new Error(x.stderr)
    times[k].push(Number(process.hrtime.bigint() - t) / 1e6)
  }
}
const med = (a) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)]
// Callgrind runs interleaved, 7 each. Counts are bimodal on this machine (about 720 or 860 million for the
// same build, at random: a garbage collection or a thread that runs or not), so the minimum is the figure to compare.
const instr = (bin) => {
  const r = spawnSync(
    'valgrind',
    [
      '--tool=callgrind',
      '--callgrind-out-file=/dev/null',
      process.execPath,
      join(bin, 'bin', 'run.js'),
      'exec',
      '--',
      'true',
    ],
    {cwd: project, env, encoding: 'utf8'},
  )
  return Number(/Collected : (\d+)/.exec(r.stderr)?.[1]) / 1e6
}
const counts = {base: [], mine: []}
for (let i = 0; i < 7; i++)
  for (const [k, bin] of [
    ['base', base],
    ['mine', mine],
  ])
    counts[k].push(instr(bin))
console.log(
  JSON.stringify({
    rounds: Number(rounds),
    medianMs: {base: med(times.base), mine: med(times.mine)},
    minMillionInstructions: {base: Math.min(...counts.base), mine: Math.min(...counts.mine)},
    allMillionInstructions: {base: counts.base.map(Math.round), mine: counts.mine.map(Math.round)},
  }),
)
