import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {hostname, userInfo} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {parseEnv} from 'node:util'
import dotenv from 'dotenv'
import {parse as parseYaml} from 'yaml'

import {Sandbox} from '../helpers/cli.js'
import {TRICKY} from '../unit/output/export-formats.test.js'

describe('init, set, get, list, export, delete (as a user runs them)', () => {
  const sb = new Sandbox()
  after(() => sb.cleanup())

  it('init --yes creates identity (0600), store and secrets.yaml, and keeps them on a second run', async () => {
    const r = await sb.run(['init', '--yes'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(statSync(sb.identityFile).mode & 0o777, 0o600)
    assert.equal(statSync(join(sb.home, '.config', 'secrets')).mode & 0o777, 0o700)
    assert.equal(statSync(sb.storeFile).mode & 0o777, 0o600)
    const identity = readFileSync(sb.identityFile, 'utf8')
    const recipient = /# public key: (age1[0-9a-z]+)/.exec(identity)?.[1]
    assert.ok(recipient)
    assert.match(identity, /^AGE-SECRET-KEY-1[0-9A-Z]+$/m)
    assert.match(r.stdout, new RegExp(`^created  identity  ${sb.identityFile}$`, 'm'))
    assert.match(r.stdout, new RegExp(`^Your public key: ${recipient}$`, 'm'))
    assert.match(
      readFileSync(join(sb.project, 'secrets.yaml'), 'utf8'),
      /^ {2}local: \{type: local, path: \.secrets\/store\.json\}$/m,
    )
    const again = await sb.run(['init', '--yes', '--json'])
    assert.equal(again.code, 0, again.stderr)
    const json = JSON.parse(again.stdout)
    assert.deepEqual([json.identity.created, json.store.created, json.config.created], [false, false, false])
    assert.equal(json.identity.recipient, recipient)
  })

  it('set reads stdin; get prints exactly the value', async () => {
    const set = await sb.run(['set', 'API_KEY'], {input: 'sk_live_abc123\n'})
    assert.equal(set.code, 0, set.stderr)
    assert.equal(set.stderr, '✓ local://API_KEY is now version 1\n')
    const get = await sb.run(['get', 'API_KEY'])
    assert.equal(get.code, 0, get.stderr)
    assert.equal(get.stdout, 'sk_live_abc123')
    const multi = 'line one\nline two\n'
    assert.equal((await sb.run(['set', 'MULTI'], {input: multi})).code, 0)
    assert.equal((await sb.run(['get', 'local://MULTI'])).stdout, multi)
  })

  it('keeps versions: get ?version=N and --json metadata', async () => {
    assert.equal((await sb.run(['set', 'API_KEY'], {input: 'sk_live_v2'})).code, 0)
    assert.equal((await sb.run(['get', 'local://API_KEY?version=1'])).stdout, 'sk_live_abc123')
    const json = JSON.parse((await sb.run(['get', 'API_KEY', '--json'])).stdout)
    assert.deepEqual(json, {
      name: 'API_KEY',
      source: 'implicit',
      ref: 'local://API_KEY',
      provider: 'local',
      version: '2',
      value: 'sk_live_v2',
    })
  })

  it('set --from-file keeps bytes exactly; an empty value is refused', async () => {
    const file = join(sb.root, 'cert.pem')
    writeFileSync(file, '-----BEGIN-----\nabc\n-----END-----\n')
    assert.equal((await sb.run(['set', 'CERT', '--from-file', file])).code, 0)
    assert.equal((await sb.run(['get', 'CERT'])).stdout, '-----BEGIN-----\nabc\n-----END-----\n')
    const empty = await sb.run(['set', 'EMPTY'])
    assert.equal(empty.code, 2)
    assert.equal(
      empty.stderr,
      'Error [USAGE]: The value for local://EMPTY is empty; nothing was written.\n  → Pipe the value on stdin (printf %s "$VALUE" | secrets set NAME) or pass --from-file FILE.\n',
    )
  })

  it('a value on argv is accepted with a warning about shell history', async () => {
    const r = await sb.run(['set', 'ARGV_SECRET', 'from-argv-1'])
    assert.equal(r.code, 0)
    assert.match(r.stderr, /^Warning: A value given on the command line lands in your shell history/)
    assert.equal((await sb.run(['get', 'ARGV_SECRET'])).stdout, 'from-argv-1')
  })

  it("list ALIAS shows the store's names, provider, version and author, never values", async () => {
    const r = await sb.run(['list', 'local'])
    assert.equal(r.code, 0, r.stderr)
    const lines = r.stdout.trimEnd().split('\n')
    assert.match(lines[0], /^NAME +PROVIDER +VERSION +UPDATED +BY$/)
    const by = `${userInfo().username}@${hostname()}`
    assert.deepEqual(
      lines.slice(1).map((l) => l.split(/ +/)),
      [
        ['API_KEY', 'local', '2', lines[1].split(/ +/)[3], by],
        ['ARGV_SECRET', 'local', '1', lines[2].split(/ +/)[3], by],
        ['CERT', 'local', '1', lines[3].split(/ +/)[3], by],
        ['MULTI', 'local', '1', lines[4].split(/ +/)[3], by],
      ],
    )
    for (const line of lines.slice(1)) assert.match(line.split(/ +/)[3], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    assert.ok(!r.stdout.includes('sk_live'))
    const json = JSON.parse((await sb.run(['list', 'local', '--json'])).stdout)
    assert.deepEqual(
      json.secrets.map((s: {name: string; version: string; versions: number}) => [s.name, s.version, s.versions]),
      [
        ['API_KEY', '2', 2],
        ['ARGV_SECRET', '1', 1],
        ['CERT', '1', 1],
        ['MULTI', '1', 1],
      ],
    )
  })

  it('delete asks for --yes without a TTY, then removes the secret', async () => {
    const refused = await sb.run(['delete', 'ARGV_SECRET'])
    assert.equal(refused.code, 2)
    assert.equal(
      refused.stderr,
      'Error [USAGE]: Refusing to delete local://ARGV_SECRET without confirmation: there is no terminal to ask on (or CI is set).\n  → Pass --yes to confirm.\n',
    )
    const r = await sb.run(['delete', 'ARGV_SECRET', '--yes'])
    assert.equal(r.code, 0, r.stderr)
    const get = await sb.run(['get', 'ARGV_SECRET'])
    assert.equal(get.code, 5)
    assert.match(
      get.stderr,
      /^Error \[NOT_FOUND\]: ARGV_SECRET is neither a variable of this environment nor a secret in the local store local\.\n/,
    )
  })
})

describe('export round-trips every value exactly', () => {
  const sb = new Sandbox()
  before(async () => {
    await sb.init()
    for (const [name, value] of Object.entries(TRICKY)) {
      const file = join(sb.root, `v-${name}`)
      writeFileSync(file, value)

      const r = await sb.run(['set', name, '--from-file', file])
      assert.equal(r.code, 0, r.stderr)
    }
  })
  after(() => sb.cleanup())

  it('json', async () => {
    const r = await sb.run(['export', '--format', 'json'])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(JSON.parse(r.stdout), TRICKY)
  })

  it('yaml', async () => {
    const r = await sb.run(['export', '--format', 'yaml'])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(parseYaml(r.stdout), TRICKY)
  })

  it('shell, through eval', async () => {
    const r = await sb.run(['export', '--format', 'shell', '-o', join(sb.root, 'env.sh')])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(statSync(join(sb.root, 'env.sh')).mode & 0o777, 0o600)
    for (const [name, value] of Object.entries(TRICKY)) {
      const out = spawnSync('sh', ['-c', `. "$1"; printf '%s' "$${name}"`, 'sh', join(sb.root, 'env.sh')], {
        encoding: 'utf8',
      })
      assert.equal(out.stdout, value, name)
    }
  })

  it("dotenv, through the dotenv package and Node's parser; a value dotenv cannot hold is refused by name", async () => {
    const refused = await sb.run(['export'])
    assert.equal(refused.code, 10)
    assert.equal(refused.stdout, '')
    assert.equal(
      refused.stderr,
      'Error [UNSUPPORTED]: The value of CRLF cannot be written exactly in dotenv format: it holds a carriage return, which dotenv parsers turn into a plain line break.\n  → Use --format json or --format shell, which can hold any text.\n',
    )
    const names = Object.keys(TRICKY).filter((n) => n !== 'CRLF')
    const r = await sb.run(['export', ...names.flatMap((n) => ['--only', n])])
    assert.equal(r.code, 0, r.stderr)
    const expected = Object.fromEntries(names.map((n) => [n, TRICKY[n]]))
    assert.deepEqual(dotenv.parse(r.stdout), expected)
    assert.deepEqual({...parseEnv(r.stdout)}, expected)
  })

  it('github: masks on stdout, heredoc blocks in $GITHUB_ENV', async () => {
    const ghEnv = join(sb.root, 'github_env')
    const r = await sb.run(['export', '--format', 'github', '--only', 'MULTILINE', '--only', 'DOLLAR'], {
      env: {GITHUB_ENV: ghEnv},
    })
    assert.equal(r.code, 0, r.stderr)
    assert.equal(
      r.stdout,
      [
        '::add-mask::pa$$word $HOME ${PATH} $(id) `id`',
        '::add-mask::-----BEGIN KEY-----',
        '::add-mask::MIIB',
        '::add-mask::line3',
        '::add-mask::-----END KEY-----',
        '',
      ].join('\n'),
    )
    const text = readFileSync(ghEnv, 'utf8')
    const blocks = [...text.matchAll(/^(\w+)<<(ghadelimiter_[0-9a-f]+)\n([\s\S]*?)\n\2\n/gm)].map((m) => [m[1], m[3]])
    assert.deepEqual(blocks, [
      ['DOLLAR', TRICKY.DOLLAR],
      ['MULTILINE', TRICKY.MULTILINE],
    ])
    const missing = await sb.run(['export', '--format', 'github'])
    assert.equal(missing.code, 2)
    assert.ok(!existsSync(join(sb.project, 'github_env')))
  })
})
