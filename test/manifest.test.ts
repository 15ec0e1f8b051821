import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, readdirSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it} from 'node:test'

import {ROOT} from './helpers/cli.js'

const check = (file?: string) =>
  spawnSync(process.execPath, [join(ROOT, 'scripts', 'manifest.mjs'), '--check', ...(file ? ['--file', file] : [])], {
    encoding: 'utf8',
    cwd: ROOT,
  })

describe('oclif.manifest.json', () => {
  it('matches the built commands (regenerate with `npm run manifest`)', () => {
    const r = check()
    assert.equal(r.stderr, '')
    assert.equal(r.status, 0)
  })

  it('the check fails on a stale manifest', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8'))
    delete manifest.commands.export.flags.only
    const stale = join(mkdtempSync(join(tmpdir(), 'secrets-manifest-')), 'oclif.manifest.json')
    writeFileSync(stale, `${JSON.stringify(manifest, null, 2)}\n`)
    const r = check(stale)
    assert.equal(r.status, 1)
    assert.equal(r.stderr, `${stale} is stale: run \`npm run build && npm run manifest\` and commit it.\n`)
  })

  it('lists every command file', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8'))
    assert.deepEqual(Object.keys(manifest.commands).sort(), [
      'audit:log',
      'audit:report',
      'audit:trail',
      'audit:verify',
      'autocomplete',
      'autocomplete:script',
      'delete',
      'doctor',
      'drift',
      'exec',
      'export',
      'get',
      'help',
      'import',
      'init',
      'key:add',
      'key:list',
      'key:remove',
      'key:rotate',
      'key:trust',
      'lease:list',
      'lease:renew',
      'lease:revoke',
      'list',
      'purge',
      'render',
      'restore',
      'rollback',
      'rotate',
      'scan',
      'schema',
      'set',
      'status',
      'sync',
      'version',
      'versions',
    ])
  })

  it("command ids sort the same with < as with localeCompare (the build swaps oclif's localeCompare sort for <)", () => {
    // The manifest lists them sorted (scripts/manifest.mjs), so start from the reverse order.
    const ids = Object.keys(JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')).commands).reverse()
    const plain = [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    assert.deepEqual(
      plain,
      [...ids].sort((a, b) => a.localeCompare(b)),
    )
    assert.notDeepEqual(plain, ids, 'the input is not already sorted, so the comparison means something')
    // And the bundled oclif really has the swap (scripts/build.mjs fails if oclif's code changed under it).
    const chunks = readdirSync(join(ROOT, 'dist', 'chunks')).filter((f) => f.endsWith('.js'))
    assert.deepEqual(
      chunks.filter((f) => readFileSync(join(ROOT, 'dist', 'chunks', f), 'utf8').includes('a.id.localeCompare(b.id)')),
      [],
    )
  })
})
