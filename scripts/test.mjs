#!/usr/bin/env node
// Runs every test/**/*.test.ts with Node's test runner (through tsx) and exits with its status.
// Node's spec reporter ends with the summary lines (tests / pass / fail) that CI reads.
// `--unit` runs only test/unit/**: they import src/ through tsx and spawn no bin/run.js, so no build is needed.
import {spawnSync} from 'node:child_process'
import {readdirSync} from 'node:fs'
import {join} from 'node:path'

function find(dir) {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) => {
    const p = join(dir, e.name)
    if (e.isDirectory()) return e.name === 'servers' || e.name === 'fixtures' ? [] : find(p)
    return e.name.endsWith('.test.ts') ? [p] : []
  })
}

const args = process.argv.slice(2)
const unit = args.includes('--unit')
const only = args.filter((a) => a !== '--unit')
const files = only.length > 0 ? only : find(unit ? join('test', 'unit') : 'test').sort()
const env = {...process.env, NO_COLOR: '1'}
delete env.FORCE_COLOR
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', '--test-timeout=300000', ...files],
  {stdio: 'inherit', env},
)
process.exit(result.status ?? 1)
