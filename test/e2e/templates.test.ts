import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {BIN, Sandbox} from '../helpers/cli.js'
import {onTerminal, skipWithoutPty} from '../helpers/terminal.js'

const CANARY = 'CANARY-tpl-0b7e-never-print'
const TEMPLATE =
  '{"user": "{{ ref "DB_USER" }}", "password": "{{ref "local://DB_PASS"}}",\n "host": "{{ env "DB_HOST" }}", "braces": "{{ "{{" }}x}}"}\n'
const RENDERED = `{"user": "app-user", "password": "${CANARY}",\n "host": "db.internal", "braces": "{{x}}"}\n`
const CONFIG = 'providers:\n  local: {type: local, path: .secrets/store.json, inject: false}\n'

describe('templates: files: entries with template:, and secrets render', () => {
  const sb = new Sandbox()
  const config = (files: string) => writeFileSync(join(sb.project, 'secrets.yaml'), `${CONFIG}files:\n${files}`)
  const tpl = (name: string, text: string) => writeFileSync(join(sb.project, 'config', name), text)

  before(async () => {
    await sb.init()
    assert.equal((await sb.run(['set', 'DB_USER'], {input: 'app-user'})).code, 0)
    assert.equal((await sb.run(['set', 'DB_PASS'], {input: CANARY})).code, 0)
    mkdirSync(join(sb.project, 'config'))
    tpl('db.json.tpl', TEMPLATE)
  })
  after(() => sb.cleanup())

  it('exec renders a template into its private directory, exactly, 0600, and masks the secret and environment values in it', async () => {
    config('  DB_CONFIG: {template: config/db.json.tpl, name: db.json}\n')
    const plain = await sb.run(
      ['exec', '--no-redact', '--', 'sh', '-c', 'cat "$DB_CONFIG"; stat -c "%a %n" "$DB_CONFIG"'],
      {env: {DB_HOST: 'db.internal'}},
    )
    assert.equal(plain.code, 0, plain.stderr)
    const [, statLine] = plain.stdout.split(RENDERED)
    assert.ok(plain.stdout.startsWith(RENDERED), plain.stdout)
    assert.match(statLine, /^600 \/.*\/secrets-exec-\w+\/db\.json\n$/)
    assert.equal(existsSync(statLine.split(' ')[1].trim()), false, 'the private directory is left behind')
    const masked = await sb.run(['exec', '--', 'sh', '-c', 'cat "$DB_CONFIG"'], {env: {DB_HOST: 'db.internal'}})
    assert.equal(masked.code, 0, masked.stderr)
    assert.equal(
      masked.stdout,
      RENDERED.replace('app-user', '<secret:DB_CONFIG>')
        .replace(CANARY, '<secret:DB_CONFIG>')
        .replace('db.internal', '<secret:DB_CONFIG>'),
    )
    const reads = sb
      .auditText()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((e) => e.command === 'exec')
      .slice(-2)
    assert.deepEqual(
      reads.map((e) => [e.ref, e.outcome]),
      [
        ['local://DB_USER', 'ok'],
        ['local://DB_PASS', 'ok'],
      ],
    )
  })

  it('a template referencing a missing secret starts no child and names the place', async () => {
    tpl('missing.tpl', 'a={{ ref "DB_USER" }}\nb={{ ref "NOT_THERE" }}\n')
    config('  APP_CONF: {template: config/missing.tpl}\n')
    const marker = join(sb.root, 'started')
    const r = await sb.run(['exec', '--', 'sh', '-c', `touch ${marker}`])
    assert.equal(r.code, 5)
    assert.equal(existsSync(marker), false, 'the child was started')
    assert.match(
      r.stderr,
      /^Error \[NOT_FOUND\]: Could not resolve 1 of 2 variable\(s\); nothing was used:\n {2}APP_CONF \(config\/missing\.tpl:2:6\) = local:\/\/NOT_THERE \(provider local\): \[NOT_FOUND\] No secret named NOT_THERE/,
    )
    const noEnv = await sb.run(['exec', '--', 'sh', '-c', `touch ${marker}`], {env: {DB_HOST: undefined}})
    assert.equal(noEnv.code, 5)
    config('  DB_CONFIG: {template: config/db.json.tpl}\n')
    const unset = await sb.run(['exec', '--', 'sh', '-c', `touch ${marker}`])
    assert.equal(unset.code, 5)
    assert.equal(
      unset.stderr.split('\n')[0],
      'Error [NOT_FOUND]: config/db.json.tpl:2:14: {{ env "DB_HOST" }}: the variable DB_HOST is not set.',
    )
    assert.equal(existsSync(marker), false)
  })

  it('the strict parser: an unknown function or an unterminated placeholder is CONFIG_INVALID naming file:line:col', async () => {
    const cases: Array<[string, string]> = [
      ['x\n  {{ lookup "A" }}\n', 'config/bad.tpl:2:6: unknown function "lookup" in a placeholder (known: ref, env).'],
      ['x\ny {{ ref "DB_USER" \n', 'config/bad.tpl:2:3: unterminated placeholder: "{{" without a closing "}}".'],
      ['{{ ref DB_USER }}', 'config/bad.tpl:1:8: expected a quoted string, found "D".'],
      ['{{ ref "DB_USER" "x" }}', 'config/bad.tpl:1:18: unexpected "\\"", expected "}}".'],
      ['{{ ref "DB_USER }}', 'config/bad.tpl:1:8: unterminated string in a placeholder.'],
      ['{{ ref "bad ref://" }}', 'config/bad.tpl:1:4: Invalid reference: unexpected " " in provider alias'],
    ]
    config('  BAD: {template: config/bad.tpl}\n')
    for (const [text, message] of cases) {
      tpl('bad.tpl', text)

      const r = await sb.run(['exec', '--', 'true'])
      assert.equal(r.code, 3, `${text}: ${r.stderr}`)
      assert.ok(r.stderr.startsWith(`Error [CONFIG_INVALID]: ${message}`), `${text}: ${r.stderr}`)
    }
    writeFileSync(
      join(sb.project, 'secrets.yaml'),
      `${CONFIG}files:\n  BAD: {template: config/bad.tpl, ref: local://DB_USER}\n`,
    )
    const both = await sb.run(['exec', '--', 'true'])
    assert.equal(both.code, 3)
    assert.match(
      both.stderr,
      /`files\.BAD\.template` a file holds either a secret \(`ref:`\) or a rendered template \(`template:`\), not both\./,
    )
  })

  it('render prints to a pipe exactly, writes -o FILE atomically with mode 0600, and refuses a file git tracks', async () => {
    config('')
    const piped = await sb.run(['render', 'config/db.json.tpl'], {env: {DB_HOST: 'db.internal'}})
    assert.deepEqual([piped.code, piped.stdout, piped.stderr], [0, RENDERED, ''])
    // -o never creates a missing directory (issue 17): out/ is made here.
    mkdirSync(join(sb.project, 'out'))
    const out = await sb.run(['render', 'config/db.json.tpl', '-o', 'out/db.json'], {env: {DB_HOST: 'db.internal'}})
    assert.equal(out.code, 0, out.stderr)
    assert.equal(out.stderr, '✓ rendered config/db.json.tpl into out/db.json (2 reference(s))\n')
    assert.equal(readFileSync(join(sb.project, 'out', 'db.json'), 'utf8'), RENDERED)
    assert.equal(statSync(join(sb.project, 'out', 'db.json')).mode & 0o777, 0o600)

    const git = (...args: string[]) =>
      spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {
        cwd: sb.project,
        encoding: 'utf8',
      })
    assert.equal(git('init', '-q').status, 0)
    writeFileSync(join(sb.project, 'tracked.json'), '{}\n')
    writeFileSync(join(sb.project, '.gitignore'), 'ignored.json\n')
    assert.equal(git('add', 'tracked.json', '.gitignore').status, 0)
    assert.equal(git('commit', '-q', '-m', 'x').status, 0)
    const tracked = await sb.run(['render', 'config/db.json.tpl', '-o', 'tracked.json'], {
      env: {DB_HOST: 'db.internal'},
    })
    assert.equal(tracked.code, 2)
    assert.match(
      tracked.stderr,
      /^Error \[USAGE\]: Refusing to write tracked\.json: git tracks it, and a rendered template holds secret values\./,
    )
    assert.equal(readFileSync(join(sb.project, 'tracked.json'), 'utf8'), '{}\n')
    const ignored = await sb.run(['render', 'config/db.json.tpl', '-o', 'ignored.json'], {
      env: {DB_HOST: 'db.internal'},
    })
    assert.deepEqual(
      [ignored.code, ignored.stderr],
      [0, '✓ rendered config/db.json.tpl into ignored.json (2 reference(s))\n'],
    )
    const loose = await sb.run(['render', 'config/db.json.tpl', '-o', 'loose.json'], {env: {DB_HOST: 'db.internal'}})
    assert.equal(loose.code, 0)
    assert.equal(
      loose.stderr.split('\n')[0],
      'Warning: loose.json is not ignored by git; add it to .gitignore so the rendered secrets are never committed.',
    )
    for (const r of [piped, out, tracked, ignored, loose]) assert.ok(!r.stderr.includes(CANARY))
  })

  it('render refuses to print to a terminal', async (t) => {
    if (skipWithoutPty(t)) return
    const {code, output} = await onTerminal(process.execPath, [BIN, 'render', 'config/db.json.tpl'], [], {
      cwd: sb.project,
      env: sb.env({DB_HOST: 'db.internal'}),
    })
    assert.equal(code, 2, output)
    assert.match(output, /Error \[USAGE\]: Refusing to print a rendered template to a terminal/)
    assert.ok(!output.includes(CANARY))
  })
})
