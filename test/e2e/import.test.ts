import assert from 'node:assert/strict'
import {execFileSync, spawnSync} from 'node:child_process'
import {chmodSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {join} from 'node:path'
import {after, before, beforeEach, describe, it} from 'node:test'
import {parseEnv} from 'node:util'

import {ROOT, Sandbox, type RunResult} from '../helpers/cli.js'
import {VaultTestServer} from '../servers/vault/server.js'

const require = createRequire(import.meta.url)
const dotenv = require('dotenv') as {parse: (src: string) => Record<string, string>}
const primitives = require('@dotenvx/primitives') as {
  keypair: () => {publicKey: string; privateKey: string}
  encrypt: (publicKey: string, value: string) => string
}

const CANARY = 'CANARY-import-93ad-never-print'

const noValue = (...outs: RunResult[]): void => {
  for (const o of outs) assert.ok(!o.stdout.includes(CANARY) && !o.stderr.includes(CANARY), 'a value was printed')
}

// Quotes of each kind, a multiline value, `export `, comments (whole-line and trailing), "=" in a value,
// spaces around an unquoted value, an escaped newline in double quotes, a later line overriding an earlier one.
const TRICKY_ENV = [
  '# a comment',
  `DB_URL="postgres://app:${CANARY}@db:5432/app?sslmode=require"`,
  "SINGLE='no $expansion \\n here'",
  'BACKTICK=`it\'s "both"`',
  'export EXPORTED=from-export',
  'MULTILINE="-----BEGIN KEY-----',
  'line two',
  '-----END KEY-----"',
  'ESCAPED="a\\nb"',
  'EQUALS=a=b=c',
  'SPACED =   padded value   ',
  'TRAILING=value # trailing comment',
  'TWICE=first',
  'TWICE=second',
  '',
].join('\n')

describe('import: .env, JSON and YAML into the local store', () => {
  const sb = new Sandbox()
  const run = sb.runner({})
  const get = async (name: string): Promise<string> => {
    const r = await run(['get', `local://${name}`])
    assert.equal(r.code, 0, r.stderr)
    return r.stdout
  }

  before(() => sb.init())
  after(() => sb.cleanup())

  it('reads a .env as util.parseEnv and the dotenv package do, byte for byte; shows the diff; never prints a value', async () => {
    writeFileSync(join(sb.project, '.env'), TRICKY_ENV)
    const node = parseEnv(TRICKY_ENV)
    assert.deepEqual(dotenv.parse(TRICKY_ENV), node, 'the two reference parsers disagree on the corpus')
    const r = await run(['import', '.env'])
    assert.equal(r.code, 0, r.stderr)
    const names = Object.keys(node).sort()
    assert.deepEqual(
      r.stdout.split('\n').slice(0, -2),
      names.map((n) => `+ ${n.padEnd(9)}  .env  → local://${n} (new)`),
    )
    assert.equal(r.stdout.split('\n').at(-2), `${names.length} to write, 0 unchanged.`)
    assert.equal(
      r.stderr,
      `✓ imported ${names.length} secrets into local\n.env still holds the values in plaintext: delete it once you have checked the import (\`secrets list\`), and keep it out of git (\`git rm --cached .env\` if it is tracked; add it to .gitignore).\n`,
    )
    for (const n of names) assert.equal(await get(n), node[n], n)
    assert.equal(readFileSync(join(sb.project, '.env'), 'utf8'), TRICKY_ENV, 'the source file changed')
    const writes = sb
      .auditText()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((e) => e.command === 'import' && e.action === 'write')
    assert.deepEqual(
      writes.map((e) => [e.ref, e.outcome]),
      names.map((n) => [`local://${n}`, 'ok']),
    )
    assert.ok(!sb.auditText().includes(CANARY))
    noValue(r)
  })

  it('the same file again writes nothing; a changed value needs --overwrite, and without it nothing at all is written', async () => {
    const again = await run(['import', '.env'])
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stdout, /^= DB_URL +\.env += local:\/\/DB_URL \(v1\)$/m)
    assert.match(again.stdout, /\n0 to write, 10 unchanged\.\n$/)

    writeFileSync(join(sb.project, 'next.env'), `DB_URL=${CANARY}-2\nBRAND_NEW=new\n`)
    const store = readFileSync(sb.storeFile)
    const refused = await run(['import', 'next.env'])
    assert.equal(refused.code, 2)
    assert.equal(
      refused.stderr,
      'Error [USAGE]: A secret exists already with another value: DB_URL (local://DB_URL); nothing was imported.\n  → Pass --overwrite to write a new version of each, or --dry-run to see the whole diff.\n',
    )
    assert.deepEqual(readFileSync(sb.storeFile), store, 'a refused import wrote to the store')

    const dry = await run(['import', 'next.env', '--dry-run'])
    assert.equal(dry.code, 0, dry.stderr)
    assert.equal(
      dry.stdout,
      '+ BRAND_NEW  next.env  → local://BRAND_NEW (new)\n~ DB_URL     next.env  → local://DB_URL (v1)\n2 to write, 0 unchanged.\n',
    )
    assert.equal(dry.stderr, 'Dry run: nothing was written.\n')
    assert.deepEqual(readFileSync(sb.storeFile), store, 'a dry run wrote to the store')

    const over = await run(['import', 'next.env', '--overwrite', '--json'])
    assert.equal(over.code, 0, over.stderr)
    const json = JSON.parse(over.stdout)
    assert.deepEqual(
      json.items.map((i: {name: string; status: string; written?: string}) => [i.name, i.status, i.written]),
      [
        ['BRAND_NEW', 'add', '1'],
        ['DB_URL', 'change', '2'],
      ],
    )
    assert.deepEqual([json.format, json.written, json.dryRun], ['dotenv', 2, false])
    assert.equal(await get('DB_URL'), `${CANARY}-2`)
    noValue(again, refused, dry, over)
  })

  it('flat JSON (Doppler, Infisical) and YAML, detected or by --format; YAML scalars stay as written', async () => {
    writeFileSync(join(sb.project, 'doppler.json'), JSON.stringify({JSON_ONE: 'j1', JSON_TWO: `multi\nline ${CANARY}`}))
    writeFileSync(join(sb.project, 'values.yml'), 'YAML_PORT: 0123\nYAML_FLAG: yes\nYAML_BLOCK: |\n  a\n  b\n')
    writeFileSync(join(sb.project, 'exported'), '{"NO_EXT": "from-json"}\n')
    for (const file of ['doppler.json', 'values.yml', 'exported']) {
      const r = await run(['import', file, '--json'])
      assert.equal(r.code, 0, `${file}: ${r.stderr}`)
      assert.equal(JSON.parse(r.stdout).format, file === 'values.yml' ? 'yaml' : 'json')
      noValue(r)
    }
    assert.equal(await get('JSON_TWO'), `multi\nline ${CANARY}`)
    assert.equal(await get('YAML_PORT'), '0123')
    assert.equal(await get('YAML_FLAG'), 'yes')
    assert.equal(await get('YAML_BLOCK'), 'a\nb\n')
    assert.equal(await get('NO_EXT'), 'from-json')
    writeFileSync(join(sb.project, 'plain.txt'), 'FORCED=dotenv-format\n')
    const forced = await run(['import', 'plain.txt', '--format', 'dotenv'])
    assert.equal(forced.code, 0, forced.stderr)
    assert.equal(await get('FORCED'), 'dotenv-format')
  })

  it('refuses bad input by name and writes nothing: names, reserved names, non-strings, binary, not UTF-8, not a file', async () => {
    mkdirSync(join(sb.project, 'adir'))
    execFileSync('mkfifo', [join(sb.project, 'fifo.env')])
    const cases: Array<[string, string | Buffer, number, RegExp]> = [
      [
        'names.env',
        `GOOD=1\n9BAD=${CANARY}\n`,
        2,
        /has names that are not variable names: "9BAD"; nothing was imported\./,
      ],
      [
        'reserved.env',
        `SECRETS_AGE_KEY=${CANARY}\n`,
        2,
        /names starting with SECRETS_, which configure secrets itself: SECRETS_AGE_KEY;/,
      ],
      [
        'nested.json',
        JSON.stringify({OK: 'x', NESTED: {a: CANARY}}),
        2,
        /not a flat json mapping of names to values: the value of NESTED is not a string/,
      ],
      ['number.json', '{"PORT": 5432}', 2, /the value of PORT is not a string/],
      [
        'binary.json',
        JSON.stringify({BIN: `a\u0000${CANARY}`}),
        2,
        /The value of BIN in binary\.json holds a NUL byte/,
      ],
      ['latin1.env', Buffer.from([0x41, 0x3d, 0xe9, 0x0a]), 2, /latin1\.env is not UTF-8 text/],
      [
        'broken.json',
        `{"A": ${CANARY}}`,
        2,
        /^Error \[USAGE\]: broken\.json is not valid JSON; nothing was imported\.\n/,
      ],
      ['list.yaml', `- ${CANARY}\n`, 2, /the top level is not a mapping/],
      ['alias.yaml', `A: &x ${CANARY}\nB: *x\n`, 2, /^Error \[USAGE\]: alias\.yaml uses YAML aliases/],
    ]
    const store = readFileSync(sb.storeFile)
    for (const [file, content, code, message] of cases) {
      writeFileSync(join(sb.project, file), content)
      const r = await run(['import', file])
      assert.equal(r.code, code, `${file}: ${r.stderr}`)
      assert.match(r.stderr, message, file)
      assert.doesNotMatch(r.stderr, /INTERNAL|at .*\.js:\d+/, file)
      noValue(r)
    }
    for (const target of ['adir', 'fifo.env']) {
      const r = await run(['import', target])
      assert.equal(r.code, 2, `${target}: ${r.stderr}`)
      assert.match(r.stderr, new RegExp(`^Error \\[USAGE\\]: ${target.replace('.', '\\.')} is not a regular file`))
    }
    const missing = await run(['import', 'nope.env'])
    assert.equal(missing.code, 5, missing.stderr)
    assert.deepEqual(readFileSync(sb.storeFile), store, 'a refused import wrote to the store')
  })
})

describe('import: dotenvx-encrypted files', () => {
  const sb = new Sandbox()
  const run = sb.runner({})
  const dotenvxBin = join(ROOT, 'node_modules', '.bin', 'dotenvx')

  beforeEach(async () => {
    sb.cleanup()
    mkdirSync(sb.home, {recursive: true})
    mkdirSync(sb.project, {recursive: true})
    await sb.init()
  })
  after(() => sb.cleanup())

  it('opens a file dotenvx encrypted, with the .env.keys beside it; DOTENV_PUBLIC_KEY_* is not imported', async () => {
    writeFileSync(join(sb.project, '.env.production'), `API_TOKEN=${CANARY}\nGREETING="hello world"\n`)
    const enc = spawnSync(dotenvxBin, ['encrypt', '-f', '.env.production'], {
      cwd: sb.project,
      env: sb.env(),
      encoding: 'utf8',
    })
    assert.equal(enc.status, 0, enc.stderr)
    const file = readFileSync(join(sb.project, '.env.production'), 'utf8')
    assert.match(file, /^API_TOKEN=.?encrypted:/m)
    assert.ok(!file.includes(CANARY))
    const r = await run(['import', '.env.production'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(
      r.stdout,
      '+ API_TOKEN  .env.production  → local://API_TOKEN (new)\n+ GREETING   .env.production  → local://GREETING (new)\n2 to write, 0 unchanged.\n',
    )
    assert.match(r.stderr, /\.env\.production and the private key that opens it are no longer needed/)
    assert.equal((await run(['get', 'local://API_TOKEN'])).stdout, CANARY)
    assert.equal((await run(['get', 'local://GREETING'])).stdout, 'hello world')
    assert.equal((await run(['get', 'local://DOTENV_PUBLIC_KEY_PRODUCTION'])).code, 5)
    noValue(r)
  })

  it('the key from DOTENV_PRIVATE_KEY; a wrong key (7), no key (7), a damaged value (8), a key file others can read (6)', async () => {
    const pair = primitives.keypair()
    const body = `DOTENV_PUBLIC_KEY="${pair.publicKey}"\nTOKEN="${primitives.encrypt(pair.publicKey, CANARY)}"\nPLAIN=visible\n`
    writeFileSync(join(sb.project, '.env'), body)
    const store = readFileSync(sb.storeFile)

    const none = await run(['import', '.env'])
    assert.equal(none.code, 7, none.stderr)
    assert.match(
      none.stderr,
      /^Error \[IDENTITY_MISSING\]: \.env holds dotenvx-encrypted values, and no private key for it was found; nothing was imported\.\n {2}→ Set DOTENV_PRIVATE_KEY in the environment/,
    )

    const wrong = await run(['import', '.env'], {env: {DOTENV_PRIVATE_KEY: primitives.keypair().privateKey}})
    assert.equal(wrong.code, 7, wrong.stderr)
    assert.match(
      wrong.stderr,
      /^Error \[DECRYPT_FAILED\]: The private key from \$DOTENV_PRIVATE_KEY does not open TOKEN in \.env; nothing was imported\./,
    )

    writeFileSync(join(sb.project, '.env'), body.replace(/encrypted:B(.{10})/, 'encrypted:BAAAAAAAAAA'))
    const damaged = await run(['import', '.env'], {env: {DOTENV_PRIVATE_KEY: pair.privateKey}})
    assert.ok([7, 8].includes(damaged.code ?? -1), damaged.stderr)
    assert.match(damaged.stderr, /TOKEN in \.env/)
    writeFileSync(join(sb.project, '.env'), body)

    writeFileSync(join(sb.project, '.env.keys'), `DOTENV_PRIVATE_KEY=${pair.privateKey}\n`)
    chmodSync(join(sb.project, '.env.keys'), 0o644)
    const open = await run(['import', '.env'])
    assert.equal(open.code, 6, open.stderr)
    assert.match(
      open.stderr,
      /^Error \[INSECURE_PERMISSIONS\]: \.env\.keys holds private keys and can be read by others/,
    )
    assert.deepEqual(readFileSync(sb.storeFile), store, 'a refused import wrote to the store')

    const ok = await run(['import', '.env'], {env: {DOTENV_PRIVATE_KEY: pair.privateKey}})
    assert.equal(ok.code, 0, ok.stderr)
    assert.equal((await run(['get', 'local://TOKEN'])).stdout, CANARY)
    assert.equal((await run(['get', 'local://PLAIN'])).stdout, 'visible')
    noValue(none, wrong, damaged, open, ok)
  })
})

describe('import --to a Vault secret', () => {
  const sb = new Sandbox()
  let server: VaultTestServer
  const run = sb.runner(() => ({VAULT_ADDR: server.url, VAULT_TOKEN: server.rootToken}))

  before(async () => {
    server = await VaultTestServer.start()
    await sb.init()
    writeFileSync(
      join(sb.project, 'secrets.yaml'),
      'providers:\n  local: {type: local, path: .secrets/store.json}\n  vault: {type: vault}\n',
    )
  })
  after(async () => {
    await server.close()
    sb.cleanup()
  })

  it("writes each name as a field of the secret, with sync's addressing", async () => {
    writeFileSync(join(sb.project, '.env'), `DB_PASS=${CANARY}\nDB_USER=app\n`)
    const r = await run(['import', '.env', '--to', 'vault://secret/app'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(
      r.stdout,
      '+ DB_PASS  .env  → vault://secret/app#DB_PASS (new)\n+ DB_USER  .env  → vault://secret/app#DB_USER (new)\n2 to write, 0 unchanged.\n',
    )
    assert.equal((await run(['get', 'vault://secret/app#DB_PASS'])).stdout, CANARY)
    assert.equal((await run(['get', 'vault://secret/app#DB_USER'])).stdout, 'app')
    noValue(r)
  })
})
