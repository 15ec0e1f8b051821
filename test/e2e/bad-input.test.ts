import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {Sandbox} from '../helpers/cli.js'

// Bad input that used to crash (INTERNAL) or hang: each case ends at once with a named, documented error.
describe('bad input is refused, never a crash or a hang', () => {
  const sb = new Sandbox()
  before(async () => {
    await sb.init()
    mkdirSync(join(sb.project, 'a-dir'))
    execFileSync('mkfifo', [join(sb.project, 'a-fifo')])
  })
  after(() => sb.cleanup())

  it('names like constructor, __proto__ and toString are stored, read, listed, exported and injected', async () => {
    for (const name of ['constructor', '__proto__', 'toString']) {
      const r = await sb.run(['set', name], {input: `value-of-${name}`})
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stderr, `✓ local://${name} is now version 1\n`)
    }
    for (const name of ['constructor', '__proto__', 'toString']) {
      const r = await sb.run(['get', name])
      assert.equal(r.stdout, `value-of-${name}`)
    }
    const exported = await sb.run(['export'])
    assert.equal(
      exported.stdout,
      "__proto__='value-of-__proto__'\nconstructor='value-of-constructor'\ntoString='value-of-toString'\n",
    )
    const child = await sb.run(['exec', '--', 'sh', '-c', 'env | grep -c "^[a-zA-Z_]*=value-of-"'])
    assert.equal(child.stdout, '3\n')
  })

  it('--from-file given a directory, a FIFO, /dev/zero or /proc/self/mem', async () => {
    const cases: Array<[string, string]> = [
      ['a-dir', 'is a directory, not a regular file'],
      ['a-fifo', 'is a named pipe (FIFO), not a regular file'],
      ['/dev/zero', 'is a character device, not a regular file'],
      ['/proc/self/mem', 'cannot be read as a file (EIO)'],
    ]
    for (const [file, what] of cases) {
      const r = await sb.run(['set', 'X', '--from-file', file])
      assert.equal(r.code, 2, file)
      assert.equal(
        r.stderr,
        `Error [USAGE]: --from-file ${file} ${what}.\n  → ${
          file === '/proc/self/mem'
            ? 'Give the path of a regular file.'
            : 'Give the path of a regular file, or pipe the value on stdin (some-command | secrets set NAME).'
        }\n`,
      )
    }
  })

  it('--config that is a FIFO, /dev/zero or /proc/self/mem', async () => {
    for (const [file, what] of [
      ['a-fifo', 'is a named pipe (FIFO), not a regular file'],
      ['/dev/zero', 'is a character device, not a regular file'],
      ['/proc/self/mem', 'cannot be read as a file (EIO)'],
    ]) {
      const r = await sb.run(['list', '--config', file])
      assert.equal(r.code, 3, file)
      assert.match(
        r.stderr,
        new RegExp(`^Error \\[CONFIG_INVALID\\]: The config file \\S*${file} ${what.replace(/[()]/g, '\\$&')}\\.\n`),
      )
    }
  })

  it('a store path: that is a directory', async () => {
    writeFileSync(join(sb.root, 'dir-store.yaml'), 'providers:\n  local: {type: local, path: project/a-dir}\n')
    for (const args of [
      ['get', 'X'],
      ['exec', '--', 'true'],
    ]) {
      const r = await sb.run([args[0], '--config', join(sb.root, 'dir-store.yaml'), ...args.slice(1)])
      assert.equal(r.code, 3)
      assert.equal(
        r.stderr,
        `Error [CONFIG_INVALID]: The local store path ${join(sb.project, 'a-dir')} is a directory, not a store file.\n` +
          '  → Make `path:` of the local provider in secrets.yaml name the file, e.g. .secrets/store.json.\n',
      )
    }
  })

  it('invalid UTF-8 and unknown tags in secrets.yaml, naming the line', async () => {
    const file = join(sb.root, 'bad.yaml')
    writeFileSync(
      file,
      Buffer.concat([Buffer.from('providers:\n  local: {type: local}\n# caf'), Buffer.from([0xe9, 0x0a])]),
    )
    let r = await sb.run(['list', '--config', file])
    assert.equal(r.code, 3)
    assert.match(
      r.stderr,
      new RegExp(`^Error \\[CONFIG_INVALID\\]: ${file}:3: invalid UTF-8: the file must be UTF-8 text\\.\n`),
    )
    writeFileSync(file, 'providers:\n  local: {type: local}\nenv: !vault {}\n')
    r = await sb.run(['list', '--config', file])
    assert.equal(r.code, 3)
    assert.match(r.stderr, new RegExp(`^Error \\[CONFIG_INVALID\\]: ${file}:3: invalid YAML: Unresolved tag: !vault\n`))
  })

  it('messages: SECRETS_IDENTITY missing or a directory is IDENTITY_MISSING, mode 0o400 shown in octal, labels sanitized', async () => {
    let r = await sb.run(['get', 'constructor'], {env: {SECRETS_IDENTITY: '/nonexistent'}})
    assert.equal(r.code, 7)
    assert.equal(
      r.stderr.split('\n')[0],
      'Error [IDENTITY_MISSING]: SECRETS_IDENTITY points at /nonexistent, which does not exist.',
    )
    r = await sb.run(['get', 'constructor'], {env: {SECRETS_IDENTITY: '/tmp'}})
    assert.equal(r.code, 7)
    assert.doesNotMatch(r.stderr, /chmod/)
    const file = join(sb.root, 'mode.yaml')
    writeFileSync(
      file,
      'providers:\n  local: {type: local, path: project/.secrets/store.json}\nfiles:\n  C: {ref: local://X, mode: 0o400}\n',
    )
    r = await sb.run(['list', '--config', file])
    assert.equal(r.code, 3)
    assert.equal(
      r.stderr.split('\n')[0],
      `Error [CONFIG_INVALID]: ${file}:4: \`files.C.mode\` is the number 256 (octal 0400); write the mode as a quoted string, e.g. "0400".`,
    )
    r = await sb.run(['set', 'X', '--from-file', 'evil\u001b]0;pwned\u0007name'])
    assert.equal(r.code, 5)
    assert.ok(!r.stderr.includes('\u001b'), r.stderr)
    assert.match(r.stderr, /evil\\x1b\]0;pwned\\x07name/)
  })
})
