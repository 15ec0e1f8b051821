import assert from 'node:assert/strict'
import {execFileSync, spawn} from 'node:child_process'
import {lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {Sandbox} from '../helpers/cli.js'

const CANARY = 'CANARY-out-5d1c-never-print'

// Issue 17 item 5: `export -o` and `render -o` write into pipes and devices in place, through symlinks,
// never into a directory, never into a missing directory, never over a file git tracks.
describe('output files of export -o and render -o', () => {
  const sb = new Sandbox()
  const git = (...args: string[]) => execFileSync('git', args, {cwd: sb.project, stdio: 'pipe'})
  before(async () => {
    await sb.init()
    assert.equal((await sb.run(['set', 'API_TOKEN'], {input: CANARY})).code, 0)
    writeFileSync(join(sb.project, 'app.tpl'), 'token={{ ref "API_TOKEN" }}\n')
    mkdirSync(join(sb.project, 'out'))
    git('init', '-q')
  })
  after(() => sb.cleanup())

  const commands: Array<[string, string[], string]> = [
    ['export', ['export'], `API_TOKEN='${CANARY}'\n`],
    ['render', ['render', 'app.tpl'], `token=${CANARY}\n`],
  ]

  for (const [name, args, text] of commands) {
    it(`${name} -o /dev/stdout writes into the pipe in place (the link and the pipe stay)`, async () => {
      const r = await sb.run([...args, '-o', '/dev/stdout'])
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stdout, text)
      assert.equal(readlinkSync('/dev/stdout'), '/proc/self/fd/1')
    })

    it(`${name} -o FIFO writes to its reader, and refuses a FIFO nobody reads`, async () => {
      const fifo = join(sb.project, `${name}.fifo`)
      execFileSync('mkfifo', [fifo])
      const refused = await sb.run([...args, '-o', fifo])
      assert.equal(refused.code, 2)
      assert.equal(
        refused.stderr,
        `Error [USAGE]: Refusing to write ${fifo}: it is a named pipe that no process reads.\n  → Start the reader first, or write to a regular file.\n`,
      )
      const reader = spawn('cat', [fifo])
      let got = ''
      reader.stdout.setEncoding('utf8').on('data', (d: string) => (got += d))
      const closed = new Promise((resolve) => reader.on('close', resolve))
      await new Promise((resolve) => setTimeout(resolve, 300))
      const r = await sb.run([...args, '-o', fifo])
      assert.equal(r.code, 0, r.stderr)
      await closed
      assert.equal(got, text)
      assert.ok(lstatSync(fifo).isFIFO(), 'the FIFO is still a FIFO')
    })

    it(`${name} -o a directory, or into a missing directory, is refused and creates nothing`, async () => {
      const dir = await sb.run([...args, '-o', 'out'])
      assert.equal(dir.code, 2)
      assert.equal(
        dir.stderr,
        'Error [USAGE]: Refusing to write out: it is a directory.\n  → Name a file to write, e.g. out/out.\n',
      )
      const missing = await sb.run([...args, '-o', 'no/such/dir/file.env'])
      assert.equal(missing.code, 5)
      assert.equal(
        missing.stderr,
        `Error [NOT_FOUND]: Cannot write no/such/dir/file.env: the directory ${join(sb.project, 'no/such/dir')} does not exist.\n` +
          `  → Create it first (mkdir -p ${join(sb.project, 'no/such/dir')}), or fix the path.\n`,
      )
      assert.throws(() => statSync(join(sb.project, 'no')), {code: 'ENOENT'})
    })

    it(`${name} -o a symlink writes through to its target (0600), and the link stays a link`, async () => {
      const target = join(sb.project, 'out', `${name}.real`)
      const link = join(sb.project, `${name}.link`)
      writeFileSync(target, 'old\n')
      symlinkSync(target, link)
      const r = await sb.run([...args, '-o', `${name}.link`])
      assert.equal(r.code, 0, r.stderr)
      assert.ok(lstatSync(link).isSymbolicLink())
      assert.equal(readFileSync(target, 'utf8'), text)
      assert.equal(statSync(target).mode & 0o777, 0o600)
    })

    it(`${name} -o refuses a file git tracks`, async () => {
      writeFileSync(join(sb.project, `${name}-tracked.env`), 'committed\n')
      git('add', `${name}-tracked.env`)
      const r = await sb.run([...args, '-o', `${name}-tracked.env`])
      assert.equal(r.code, 2)
      const holds = name === 'export' ? 'an export' : 'a rendered template'
      assert.equal(
        r.stderr.split('\n')[0],
        `Error [USAGE]: Refusing to write ${name}-tracked.env: git tracks it, and ${holds} holds secret values.`,
      )
      assert.equal(readFileSync(join(sb.project, `${name}-tracked.env`), 'utf8'), 'committed\n')
    })
  }

  it('export -o into a file git does not ignore warns', async () => {
    const r = await sb.run(['export', '-o', 'loose.env'])
    assert.equal(r.code, 0)
    assert.equal(
      r.stderr,
      'Warning: loose.env is not ignored by git; add it to .gitignore so the exported secrets are never committed.\n' +
        '✓ 1 variable(s) written to loose.env\n',
    )
  })
})

// Issue 17 item 6: template paths stay in the project, {{ env "SECRETS_*" }} is refused, env values are masked.
describe('templates are confined to the project', () => {
  const sb = new Sandbox()
  const config = (template: string) =>
    writeFileSync(
      join(sb.project, 'secrets.yaml'),
      `providers:\n  local: {type: local, path: .secrets/store.json, inject: false}\nfiles:\n  CONF: {template: ${template}}\n`,
    )
  before(async () => {
    await sb.init()
    assert.equal((await sb.run(['set', 'API_TOKEN'], {input: CANARY})).code, 0)
    writeFileSync(join(sb.root, 'outside.tpl'), 'home={{ env "HOME" }}\n')
    symlinkSync(join(sb.root, 'outside.tpl'), join(sb.project, 'inside-link.tpl'))
  })
  after(() => sb.cleanup())

  it('an absolute path, ../ and a symlink out of the project are refused before anything runs', async () => {
    const outside = join(sb.root, 'outside.tpl')
    for (const [template, shown] of [
      [outside, `${outside} is outside the project (${sb.project})`],
      ['../outside.tpl', `${outside} is outside the project (${sb.project})`],
      ['inside-link.tpl', `inside-link.tpl is outside the project (${sb.project}): it resolves to ${outside}`],
    ]) {
      config(template)
      const r = await sb.run(['exec', '--', 'sh', '-c', 'echo started'])
      assert.equal(r.code, 3, template)
      assert.equal(r.stdout, '')
      assert.equal(
        r.stderr,
        `Error [CONFIG_INVALID]: files.CONF.template: ${shown}.\n` +
          '  → Keep templates inside the folder of secrets.yaml (no absolute paths, no ../, no symlinks out of it).\n',
      )
    }
  })

  it('{{ env "SECRETS_..." }} is refused, in exec and in render', async () => {
    writeFileSync(join(sb.project, 'key.tpl'), 'key={{ env "SECRETS_AGE_KEY" }}\n')
    config('key.tpl')
    const message =
      'Error [CONFIG_INVALID]: key.tpl:1:8: {{ env "SECRETS_AGE_KEY" }}: SECRETS_* variables configure secrets itself (SECRETS_AGE_KEY is an identity key), so templates never read them.\n' +
      '  → Store the value as a secret and use {{ ref "NAME" }} instead.\n'
    for (const args of [
      ['exec', '--', 'true'],
      ['render', 'key.tpl'],
    ]) {
      const r = await sb.run(args)
      assert.equal(r.code, 3)
      assert.equal(r.stdout, '')
      assert.equal(r.stderr, message)
    }
  })

  it('environment values a template inserts are masked in exec output', async () => {
    writeFileSync(join(sb.project, 'ci.tpl'), 'token={{ env "CI_TOKEN" }} api={{ ref "API_TOKEN" }}\n')
    config('ci.tpl')
    const r = await sb.run(['exec', '--', 'sh', '-c', 'cat "$CONF"; echo "$CI_TOKEN"'], {
      env: {CI_TOKEN: 'ci-token-4f2a9e'},
    })
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'token=<secret:CONF> api=<secret:CONF>\n<secret:CONF>\n')
  })

  it('render given a directory, a FIFO or /dev/zero refuses it at once', async () => {
    mkdirSync(join(sb.project, 'tpl-dir'))
    execFileSync('mkfifo', [join(sb.project, 'tpl-fifo')])
    for (const [file, what] of [
      ['tpl-dir', 'is a directory'],
      ['tpl-fifo', 'is a named pipe (FIFO)'],
      ['/dev/zero', 'is a character device'],
    ]) {
      const r = await sb.run(['render', file, '-o', 'out.txt'])
      assert.equal(r.code, 3, file)
      assert.equal(
        r.stderr,
        `Error [CONFIG_INVALID]: The template ${file} ${what}, not a regular file.\n  → Give the path of a regular file.\n`,
      )
    }
  })
})
