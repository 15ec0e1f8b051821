import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {chmodSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {delimiter, join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {parse} from 'yaml'

import {BIN, ROOT, Sandbox} from './helpers/cli.js'

const AWS_KEY = 'AKIAQ3EGRRNJ5XW7PZ2D'
const GIT_ENV = {
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@example.com',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
}

interface Hook {
  id: string
  name: string
  description: string
  entry: string
  language: string
  pass_filenames?: boolean
  require_serial?: boolean
}

const hooks = parse(readFileSync(join(ROOT, '.pre-commit-hooks.yaml'), 'utf8')) as Hook[]
const preCommit = spawnSync('pre-commit', ['--version'], {encoding: 'utf8'})

describe('.pre-commit-hooks.yaml', () => {
  it('declares one secrets-scan hook: `secrets scan --staged` from PATH, without file names', () => {
    assert.deepEqual(
      hooks.map((h) => [h.id, h.entry, h.language, h.pass_filenames, h.require_serial]),
      [['secrets-scan', 'secrets scan --staged', 'system', false, true]],
    )
    assert.ok(hooks[0].name && hooks[0].description)
    // The command it runs is ours: `secrets` is package.json's bin, `scan --staged` a command and flag.
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
    assert.deepEqual(Object.keys(pkg.bin), ['secrets'])
    const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8'))
    assert.equal(manifest.commands.scan.flags.staged.type, 'boolean')
  })
})

describe('the secrets-scan hook, run as pre-commit runs it', () => {
  let sb: Sandbox
  let path: string
  const git = (...args: string[]) => {
    const r = spawnSync('git', args, {cwd: sb.project, env: sb.env({...GIT_ENV, PATH: path}), encoding: 'utf8'})
    assert.equal(r.status, 0, r.stderr)
  }
  /** The hook's entry, split as pre-commit splits it, run from the repository root with `secrets` on PATH. */
  const runHook = () => {
    const [command, ...args] = hooks[0].entry.split(' ')
    return spawnSync(command, args, {cwd: sb.project, env: sb.env({...GIT_ENV, PATH: path}), encoding: 'utf8'})
  }

  before(() => {
    sb = new Sandbox()
    // `secrets` on PATH, as after `npm install -g secrets-cli`.
    const bin = join(sb.root, 'bin')
    mkdirSync(bin)
    writeFileSync(join(bin, 'secrets'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`)
    chmodSync(join(bin, 'secrets'), 0o755)
    path = [bin, process.env.PATH].join(delimiter)
    git('init', '-q', '-b', 'main')
    writeFileSync(join(sb.project, 'app.js'), 'console.log("hello")\n')
    git('add', 'app.js')
    git('commit', '-q', '-m', 'init')
  })
  after(() => sb.cleanup())

  it('a staged credential fails the hook with FINDINGS (16), naming file, line and rule, never the value', () => {
    writeFileSync(join(sb.project, 'app.js'), `console.log("hello")\nconst key = "${AWS_KEY}"\n`)
    git('add', 'app.js')
    const r = runHook()
    assert.equal(r.status, 16, r.stderr)
    assert.equal(r.stdout, 'app.js:2:14: aws-access-key-id: AWS access key ID hardcoded here.\n')
    assert.equal(
      r.stderr,
      'secrets: no secrets.yaml found: scanning for credential patterns only\n✗ 1 hardcoded secret(s) in 1 of 1 staged file(s) scanned.\n',
    )
    for (const part of [AWS_KEY, AWS_KEY.slice(0, 10), AWS_KEY.slice(-8)])
      assert.ok(!(r.stdout + r.stderr).includes(part), 'the output shows part of the credential')
  })

  it('a clean index passes (0), whatever the work tree holds', () => {
    git('reset', '-q')
    writeFileSync(join(sb.project, 'notes.js'), 'const t = process.env.GITHUB_TOKEN\n')
    git('add', 'notes.js')
    const r = runHook()
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout, '')
    assert.match(r.stderr, /✓ No hardcoded secrets in 1 staged file\(s\) scanned\.\n$/)
  })

  it(
    'through pre-commit itself (try-repo of this repository)',
    {skip: preCommit.status !== 0 && 'pre-commit is not installed'},
    () => {
      writeFileSync(join(sb.project, 'leak.js'), `const key = "${AWS_KEY}"\n`)
      git('add', 'leak.js')
      const env = sb.env({...GIT_ENV, PATH: path, PRE_COMMIT_HOME: join(sb.root, 'pre-commit-cache')})
      const r = spawnSync('pre-commit', ['try-repo', ROOT, 'secrets-scan'], {cwd: sb.project, env, encoding: 'utf8'})
      assert.equal(r.status, 1, r.stdout + r.stderr)
      assert.match(r.stdout, /^secrets scan --staged\.+Failed\n- hook id: secrets-scan\n- exit code: 16\n/m)
      assert.match(r.stdout, /^leak\.js:1:14: aws-access-key-id: AWS access key ID hardcoded here\.$/m)
      assert.ok(!r.stdout.includes(AWS_KEY))
      git('rm', '-q', '--cached', 'leak.js')
      const clean = spawnSync('pre-commit', ['try-repo', ROOT, 'secrets-scan'], {
        cwd: sb.project,
        env,
        encoding: 'utf8',
      })
      assert.equal(clean.status, 0, clean.stdout + clean.stderr)
      assert.match(clean.stdout, /^secrets scan --staged\.+Passed$/m)
    },
  )
})
