import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {chmodSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {Ajv} from 'ajv'
import addFormatsModule from 'ajv-formats'

import {BIN, ROOT, Sandbox, type RunResult} from '../helpers/cli.js'

// Canaries: a configured value and credentials planted in files. None of them, nor their first
// characters, may ever appear in any output.
const VALUE = 'canary-Db-7Qx9Lm2Vp4Rt8Zw'
const AWS_KEY = 'AKIAQ3EGRRNJ5XW7PZ2D'
const GH_TOKEN = 'ghp_Q8x2LmN4pR7tV9wY1zA3bC5dE6fG8hJ0kL2m'
const LEAKS = [
  VALUE,
  VALUE.slice(0, 8),
  VALUE.slice(-8),
  AWS_KEY,
  AWS_KEY.slice(0, 10),
  AWS_KEY.slice(-8),
  GH_TOKEN.slice(0, 10),
  GH_TOKEN.slice(-8),
]

const GIT_ENV = {
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@example.com',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
}

function git(
  sb: Sandbox,
  args: string[],
  cwd = sb.project,
  env: Record<string, string | undefined> = {},
): {status: number | null; stdout: string; stderr: string} {
  const r = spawnSync('git', args, {cwd, env: sb.env({...GIT_ENV, ...env}), encoding: 'utf8'})
  return {status: r.status, stdout: r.stdout, stderr: r.stderr}
}

function assertNoLeak(r: RunResult, label: string): void {
  for (const leak of LEAKS) {
    assert.ok(!r.stdout.includes(leak), `${label}: stdout shows ${leak.length} characters of a secret`)
    assert.ok(!r.stderr.includes(leak), `${label}: stderr shows ${leak.length} characters of a secret`)
  }
}

function write(sb: Sandbox, rel: string, text: string | Buffer): void {
  const file = join(sb.project, rel)
  mkdirSync(join(file, '..'), {recursive: true})
  writeFileSync(file, text)
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv
const schema = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'sarif-schema-2.1.0.json'), 'utf8'))
// Strict mode on: the official schema compiles without unknown keywords or formats.
const compiled = addFormats(new Ajv({allErrors: true})).compile(schema)
const validateSarif = Object.assign((doc: unknown): boolean => compiled(doc), {
  get errors() {
    return compiled.errors
  },
})

/** A project in a git repository, with a local store holding DB_PASSWORD = VALUE. */
async function project(): Promise<Sandbox> {
  const sb = new Sandbox()
  assert.equal(git(sb, ['init', '-q', '-b', 'main']).status, 0)
  await sb.init()
  const set = await sb.run(['set', 'DB_PASSWORD'], {input: VALUE})
  assert.equal(set.code, 0, set.stderr)
  return sb
}

describe('scan: configured values and credential patterns', () => {
  let sb: Sandbox
  before(async () => {
    sb = await project()
    write(sb, 'src/config.js', `// config\nexport const db = {\n  password: "${VALUE}",\n}\n`)
    write(sb, 'deploy/aws.env', `REGION=eu-west-1\nAWS_ACCESS_KEY_ID=${AWS_KEY}\n`)
  })
  after(() => sb.cleanup())

  it('finds the planted value and the planted AWS key with file, line, column, rule and variable, and exits 16', async () => {
    const r = await sb.run(['scan'])
    assert.equal(r.code, 16, r.stderr)
    assert.equal(
      r.stdout,
      [
        'deploy/aws.env:2:19: aws-access-key-id: AWS access key ID hardcoded here.',
        'src/config.js:3:14: configured-secret-value: The value of DB_PASSWORD (a secret configured in secrets.yaml) is hardcoded here.',
        '',
      ].join('\n'),
    )
    assert.equal(r.stderr, '✗ 2 hardcoded secret(s) in 2 of 4 file(s) scanned.\n')
    assertNoLeak(r, 'text')
    // Reading the value for the scan is an access like any other: recorded, without the value.
    const audit = sb
      .auditText()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    assert.deepEqual(
      audit.filter((e) => e.command === 'scan').map((e) => [e.action, e.ref, e.outcome]),
      [['read', 'local://DB_PASSWORD', 'ok']],
    )
    assert.ok(!sb.auditText().includes(VALUE))
  })

  it('--format json and --json give the same findings, never a value', async () => {
    for (const args of [
      ['scan', '--format', 'json'],
      ['scan', '--json'],
    ]) {
      const r = await sb.run(args)
      assert.equal(r.code, 16, r.stderr)
      assertNoLeak(r, args.join(' '))
      const report = JSON.parse(r.stdout)
      assert.deepEqual(
        report.findings.map((f: Record<string, unknown>) => ({...f, fingerprint: typeof f.fingerprint})),
        [
          {
            rule: 'aws-access-key-id',
            file: 'deploy/aws.env',
            line: 2,
            column: 19,
            endLine: 2,
            endColumn: 39,
            source: 'worktree',
            fingerprint: 'string',
          },
          {
            rule: 'configured-secret-value',
            file: 'src/config.js',
            line: 3,
            column: 14,
            endLine: 3,
            endColumn: 14 + VALUE.length,
            variable: 'DB_PASSWORD',
            source: 'worktree',
            fingerprint: 'string',
          },
        ],
      )
      assert.deepEqual(
        [report.scanned, report.values.variables, report.values.checked, report.values.unresolved, report.exitCode],
        [4, 1, 1, [], 16],
      )
    }
  })

  it('--format sarif validates against the SARIF 2.1.0 schema and holds no value', async () => {
    const r = await sb.run(['scan', '--format', 'sarif'])
    assert.equal(r.code, 16, r.stderr)
    assertNoLeak(r, 'sarif')
    const sarif = JSON.parse(r.stdout)
    assert.ok(validateSarif(sarif), JSON.stringify(validateSarif.errors, null, 2))
    const run = sarif.runs[0]
    assert.equal(sarif.version, '2.1.0')
    assert.deepEqual(
      run.results.map(
        (x: {
          ruleId: string
          locations: Array<{
            physicalLocation: {artifactLocation: {uri: string}; region: {startLine: number; startColumn: number}}
          }>
        }) => [
          x.ruleId,
          x.locations[0].physicalLocation.artifactLocation.uri,
          x.locations[0].physicalLocation.region.startLine,
          x.locations[0].physicalLocation.region.startColumn,
        ],
      ),
      [
        ['aws-access-key-id', 'deploy/aws.env', 2, 19],
        ['configured-secret-value', 'src/config.js', 3, 14],
      ],
    )
    assert.equal(run.tool.driver.rules[run.results[1].ruleIndex].id, 'configured-secret-value')
    assert.equal(run.invocations[0].executionSuccessful, true)
  })

  it('an invalid SARIF document fails the same validation (the test can fail)', () => {
    assert.equal(validateSarif({version: '2.1.0', runs: [{tool: {driver: {}}, results: [{message: {}}]}]}), false)
  })

  it('--output writes the report to a file; stdout stays empty', async () => {
    const out = join(sb.root, 'scan.sarif')
    const r = await sb.run(['scan', '--format', 'sarif', '-o', out])
    assert.equal(r.code, 16, r.stderr)
    assert.equal(r.stdout, '')
    assert.ok(validateSarif(JSON.parse(readFileSync(out, 'utf8'))))
    assert.ok(!readFileSync(out, 'utf8').includes(VALUE))
  })

  it('--json with --output prints the report and writes the file too', async () => {
    const out = join(sb.root, 'scan.json')
    const r = await sb.run(['scan', '--json', '-o', out])
    assert.equal(r.code, 16, r.stderr)
    const written = JSON.parse(readFileSync(out, 'utf8'))
    assert.deepEqual(
      written.findings.map((f: {rule: string}) => f.rule),
      JSON.parse(r.stdout).findings.map((f: {rule: string}) => f.rule),
    )
    assert.ok(written.findings.length > 0)
    assert.ok(!readFileSync(out, 'utf8').includes(VALUE) && !r.stdout.includes(VALUE))
  })

  it('through a symlinked directory, paths stay relative to the repository root', async () => {
    const link = join(sb.root, 'link')
    symlinkSync(sb.project, link)
    const r = await sb.run(['scan', '.'], {cwd: join(link, 'src')})
    assert.equal(r.code, 16, r.stderr)
    assert.equal(
      r.stdout,
      'src/config.js:3:14: configured-secret-value: The value of DB_PASSWORD (a secret configured in secrets.yaml) is hardcoded here.\n',
    )
  })

  it('--no-values reads no secret (works without any identity) and still finds patterns', async () => {
    const r = await sb.run(['scan', '--no-values', '--json'], {env: {HOME: join(sb.root, 'nobody')}})
    assert.equal(r.code, 16, r.stderr)
    const report = JSON.parse(r.stdout)
    // Without values, the configured password is still caught as a random-looking assignment.
    assert.deepEqual(
      report.findings.map((f: {rule: string; variable?: string}) => [f.rule, f.variable]),
      [
        ['aws-access-key-id', undefined],
        ['generic-secret-assignment', 'password'],
      ],
    )
    assert.equal(report.values.note, 'configured values not looked for (--no-values)')
  })

  it('scans only the paths given', async () => {
    const r = await sb.run(['scan', 'src'])
    assert.equal(r.code, 16)
    assert.equal(r.stdout.trim().split('\n').length, 1)
    assert.match(r.stdout, /^src\/config\.js:3:14: configured-secret-value/)
    const missing = await sb.run(['scan', 'nope'])
    assert.equal(missing.code, 5)
    assert.equal(
      missing.stderr,
      'Error [NOT_FOUND]: nope does not exist, so it cannot be scanned.\n  → Pass files or directories that exist (default: the current directory).\n',
    )
  })
})

describe('scan: baseline', () => {
  let sb: Sandbox
  before(async () => {
    sb = await project()
    write(sb, 'src/config.js', `export const db = "${VALUE}"\n`)
    write(sb, 'deploy/aws.env', `AWS_ACCESS_KEY_ID=${AWS_KEY}\n`)
  })
  after(() => sb.cleanup())

  it('--update-baseline accepts current findings (fingerprints only, atomic, 0644); then they are suppressed', async () => {
    const w = await sb.run(['scan', '--baseline', '.secrets-baseline.json', '--update-baseline'])
    assert.equal(w.code, 0, w.stderr)
    assert.equal(w.stdout, '')
    assert.match(w.stderr, /^✓ 2 finding\(s\) accepted in .*\.secrets-baseline\.json \(4 file\(s\) scanned\)\.\n$/)
    const file = join(sb.project, '.secrets-baseline.json')
    assert.equal(statSync(file).mode & 0o777, 0o644)
    const text = readFileSync(file, 'utf8')
    for (const leak of LEAKS) assert.ok(!text.includes(leak))
    const doc = JSON.parse(text)
    assert.deepEqual(
      doc.findings.map((f: {rule: string; file: string; line: number; variable?: string}) => [
        f.rule,
        f.file,
        f.line,
        f.variable,
      ]),
      [
        ['aws-access-key-id', 'deploy/aws.env', 1, undefined],
        ['configured-secret-value', 'src/config.js', 1, 'DB_PASSWORD'],
      ],
    )

    const again = await sb.run(['scan', '--baseline', '.secrets-baseline.json'])
    assert.equal(again.code, 0, again.stderr)
    assert.equal(again.stdout, '')
    assert.equal(again.stderr, '✓ No hardcoded secrets in 5 file(s) scanned, 2 more accepted by the baseline.\n')
  })

  it('an accepted finding stays accepted when lines move; a new secret is still reported', async () => {
    write(sb, 'src/config.js', `// moved down\n\nexport const db = "${VALUE}"\n`)
    write(sb, 'src/gh.js', `const token = "${GH_TOKEN}"\n`)
    const r = await sb.run(['scan', '--baseline', '.secrets-baseline.json'])
    assert.equal(r.code, 16, r.stderr)
    assert.equal(r.stdout, 'src/gh.js:1:16: github-token: GitHub token hardcoded here.\n')
    assert.equal(r.stderr, '✗ 1 hardcoded secret(s) in 1 of 6 file(s) scanned, 2 more accepted by the baseline.\n')
    assertNoLeak(r, 'baseline')
    const sarif = await sb.run(['scan', '--baseline', '.secrets-baseline.json', '--format', 'sarif'])
    const doc = JSON.parse(sarif.stdout)
    assert.ok(validateSarif(doc), JSON.stringify(validateSarif.errors))
    assert.deepEqual(
      doc.runs[0].results.map((x: {ruleId: string; suppressions?: unknown[]}) => [
        x.ruleId,
        x.suppressions?.length ?? 0,
      ]),
      [
        ['github-token', 0],
        ['aws-access-key-id', 1],
        ['configured-secret-value', 1],
      ],
    )
  })

  it('the same baseline applies to --staged (fingerprints do not depend on where the bytes were read)', async () => {
    assert.equal(git(sb, ['add', 'src/config.js', 'deploy/aws.env']).status, 0)
    const r = await sb.run(['scan', '--staged', '--baseline', '.secrets-baseline.json'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stderr, '✓ No hardcoded secrets in 2 staged file(s) scanned, 2 more accepted by the baseline.\n')
    assert.equal(git(sb, ['reset', '-q']).status, 0)
  })

  it('a missing or malformed baseline is a clear error; --update-baseline needs --baseline', async () => {
    const missing = await sb.run(['scan', '--baseline', 'none.json'])
    assert.equal(missing.code, 5)
    assert.match(
      missing.stderr,
      /^Error \[NOT_FOUND\]: Baseline .*none\.json does not exist\.\n {2}→ Create it with `secrets scan --baseline .*none\.json --update-baseline`/,
    )
    write(sb, 'bad.json', '{"version": 1, "findings": {}}')
    const bad = await sb.run(['scan', '--baseline', 'bad.json'])
    assert.equal(bad.code, 8)
    assert.match(
      bad.stderr,
      /^Error \[INTEGRITY\]: Baseline .*bad\.json is not a valid secrets scan baseline: "findings" is not an array\./,
    )
    const usage = await sb.run(['scan', '--update-baseline'])
    assert.equal(usage.code, 2)
    assert.match(usage.stderr, /^Error \[USAGE\]: [\s\S]*--update-baseline: --baseline\n/)
  })
})

describe('scan --staged', () => {
  let sb: Sandbox
  before(async () => {
    sb = await project()
    write(sb, 'app.js', 'console.log("hello")\n')
    assert.equal(git(sb, ['add', '-A']).status, 0)
    assert.equal(git(sb, ['commit', '-q', '-m', 'init']).status, 0)
  })
  after(() => sb.cleanup())

  it('scans the staged blob, not the work tree', async () => {
    write(sb, 'app.js', `console.log("hello")\nconst key = "${AWS_KEY}"\n`)
    assert.equal(git(sb, ['add', 'app.js']).status, 0)
    write(sb, 'app.js', 'console.log("hello, clean again")\n')
    const staged = await sb.run(['scan', '--staged'])
    assert.equal(staged.code, 16, staged.stderr)
    assert.equal(staged.stdout, 'app.js:2:14: aws-access-key-id: AWS access key ID hardcoded here.\n')
    assert.equal(staged.stderr, '✗ 1 hardcoded secret(s) in 1 of 1 staged file(s) scanned.\n')
    assertNoLeak(staged, 'staged')
    const json = JSON.parse((await sb.run(['scan', '--staged', '--json'])).stdout)
    assert.deepEqual([json.staged, json.findings[0].source], [true, 'index'])
    const tree = await sb.run(['scan', 'app.js'])
    assert.equal(tree.code, 0, tree.stderr)
  })

  it('a secret only in the work tree is not in the index', async () => {
    assert.equal(git(sb, ['reset', '-q']).status, 0)
    write(sb, 'app.js', `const v = "${VALUE}"\n`)
    const staged = await sb.run(['scan', '--staged'])
    assert.equal(staged.code, 0, staged.stderr)
    assert.equal(staged.stderr, '✓ No hardcoded secrets in 0 staged file(s) scanned.\n')
    const tree = await sb.run(['scan'])
    assert.equal(tree.code, 16)
    assert.equal(
      tree.stdout,
      'app.js:1:12: configured-secret-value: The value of DB_PASSWORD (a secret configured in secrets.yaml) is hardcoded here.\n',
    )
  })

  it('PATH arguments restrict --staged to those paths', async () => {
    write(sb, 'a/one.js', `const k = "${AWS_KEY}"\n`)
    write(sb, 'b/two.js', `const t = "${GH_TOKEN}"\n`)
    assert.equal(git(sb, ['add', 'a', 'b']).status, 0)
    const r = await sb.run(['scan', '--staged', 'b'])
    assert.equal(r.code, 16, r.stderr)
    assert.equal(r.stdout, 'b/two.js:1:12: github-token: GitHub token hardcoded here.\n')
    const sub = await sb.run(['scan', '--staged', '.'], {cwd: join(sb.project, 'a')})
    assert.equal(sub.stdout, 'a/one.js:1:12: aws-access-key-id: AWS access key ID hardcoded here.\n')
    assert.equal(git(sb, ['reset', '-q']).status, 0)
  })

  it('outside a git repository, --staged is a usage error', async () => {
    const r = await sb.run(['scan', '--staged'], {cwd: sb.home})
    assert.equal(r.code, 2)
    assert.match(r.stderr, /^Error \[USAGE\]: --staged scans the git index, but .* is not inside a git work tree\./)
  })
})

describe('scan --install-hook', () => {
  let sb: Sandbox
  let binDir: string
  before(async () => {
    sb = await project()
    // `secrets` on PATH for the hook, as after `npm install -g`.
    binDir = join(sb.root, 'bin')
    mkdirSync(binDir)
    writeFileSync(join(binDir, 'secrets'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`)
    chmodSync(join(binDir, 'secrets'), 0o755)
  })
  after(() => sb.cleanup())

  const hookFile = () => join(sb.project, '.git', 'hooks', 'pre-commit')

  it('creates an executable pre-commit hook, and a second run changes nothing', async () => {
    const r = await sb.run(['scan', '--install-hook'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stderr, `✓ pre-commit hook running \`secrets scan --staged\` installed: ${hookFile()}\n`)
    assert.equal(statSync(hookFile()).mode & 0o777, 0o755)
    const text = readFileSync(hookFile(), 'utf8')
    assert.match(text, /^#!\/bin\/sh\n# >>> secrets scan/)
    assert.match(text, /^ {2}secrets scan --staged \|\| exit \$\?$/m)
    const again = await sb.run(['scan', '--install-hook', '--json'])
    assert.equal(again.code, 0)
    assert.equal(JSON.parse(again.stdout).hook.action, 'unchanged')
    assert.equal(readFileSync(hookFile(), 'utf8'), text)
  })

  it('the hook blocks a commit that adds a secret, and lets a clean one through', () => {
    const env = {PATH: `${binDir}:${process.env.PATH}`}
    write(sb, 'leak.js', `const t = "${GH_TOKEN}"\n`)
    assert.equal(git(sb, ['add', 'leak.js'], sb.project, env).status, 0)
    const blocked = git(sb, ['commit', '-q', '-m', 'leak'], sb.project, env)
    assert.notEqual(blocked.status, 0)
    assert.match(blocked.stdout + blocked.stderr, /leak\.js:1:12: github-token: GitHub token hardcoded here\./)
    for (const leak of LEAKS) assert.ok(!(blocked.stdout + blocked.stderr).includes(leak))
    assert.notEqual(git(sb, ['rev-parse', '-q', '--verify', 'HEAD']).status, 0, 'nothing was committed')
    write(sb, 'leak.js', 'const t = process.env.GITHUB_TOKEN\n')
    assert.equal(git(sb, ['add', '-A'], sb.project, env).status, 0)
    const ok = git(sb, ['commit', '-q', '-m', 'clean'], sb.project, env)
    assert.equal(ok.status, 0, ok.stderr)
  })

  it('appends to an existing shell hook and keeps what it had', async () => {
    writeFileSync(hookFile(), '#!/bin/sh\necho "lint first"\n')
    chmodSync(hookFile(), 0o700)
    const r = await sb.run(['scan', '--install-hook'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stderr, /appended to .*pre-commit\n$/)
    const text = readFileSync(hookFile(), 'utf8')
    assert.ok(text.startsWith('#!/bin/sh\necho "lint first"\n\n# >>> secrets scan'), text)
    assert.equal(statSync(hookFile()).mode & 0o777, 0o755)
  })

  it('refuses a hook it cannot safely append to, and leaves it unchanged', async () => {
    for (const existing of ['#!/bin/sh\nnpx lint-staged\nexit 0\n', '#!/usr/bin/env python3\nprint("hi")\n']) {
      writeFileSync(hookFile(), existing)

      const r = await sb.run(['scan', '--install-hook'])
      assert.equal(r.code, 11, r.stderr)
      assert.match(
        r.stderr,
        /^Error \[CONFLICT\]: A pre-commit hook already exists at .*pre-commit and (has a top-level `exit` or `exec`|is not a shell script \(#!\/usr\/bin\/env python3\)).*; it was left unchanged\.\n {2}→ Add `secrets scan --staged \|\| exit \$\?` to it/,
      )
      assert.equal(readFileSync(hookFile(), 'utf8'), existing)
    }
  })

  it('outside a git repository it is a usage error', async () => {
    const r = await sb.run(['scan', '--install-hook'], {cwd: sb.home})
    assert.equal(r.code, 2)
    assert.match(r.stderr, /^Error \[USAGE\]: --install-hook needs a git repository/)
  })
})

describe('scan: child processes', () => {
  it('git runs without any of our credentials in its environment', async () => {
    const sb = await project()
    try {
      // A `git` first on PATH that records its environment, then runs the real git.
      const realGit = spawnSync('sh', ['-c', 'command -v git'], {encoding: 'utf8'}).stdout.trim()
      const shimDir = join(sb.root, 'shim')
      const log = join(sb.root, 'git-env.log')
      mkdirSync(shimDir)
      writeFileSync(join(shimDir, 'git'), `#!/bin/sh\nenv >> '${log}'\necho ---- >> '${log}'\nexec '${realGit}' "$@"\n`)
      chmodSync(join(shimDir, 'git'), 0o755)
      const identity = readFileSync(sb.identityFile, 'utf8').match(/^AGE-SECRET-KEY-1\S+$/m)?.[0]
      assert.ok(identity)
      write(sb, 'staged.js', `const k = "${AWS_KEY}"\n`)
      assert.equal(git(sb, ['add', 'staged.js']).status, 0)
      const canaries = {
        SECRETS_AGE_KEY: identity,
        SECRETS_PASSPHRASE: 'canary-pass-1',
        VAULT_TOKEN: 'hvs.canaryVaultToken0123456789',
        AWS_SECRET_ACCESS_KEY: 'canary-aws-secret-0123',
        AZURE_CLIENT_SECRET: 'canary-azure-0123',
      }
      for (const args of [['scan'], ['scan', '--staged'], ['scan', '--install-hook']]) {
        const r = await sb.run(args, {env: {...canaries, PATH: `${shimDir}:${process.env.PATH}`}})
        assert.ok(r.code === 16 || r.code === 0, r.stderr)
      }
      const seen = readFileSync(log, 'utf8')
      assert.ok(seen.split('----').length >= 6, 'the shim saw the git calls')
      assert.match(seen, /^GIT_TERMINAL_PROMPT=0$/m)
      for (const [name, value] of Object.entries(canaries)) {
        assert.ok(!seen.includes(name), `${name} reached git`)
        assert.ok(!seen.includes(value), `the value of ${name} reached git`)
      }
      assert.ok(!seen.includes(VALUE))
    } finally {
      sb.cleanup()
    }
  })
})

describe('scan: what is skipped, clean trees, unreadable secrets', () => {
  it('paths with spaces and non-ASCII characters are percent-encoded in SARIF and still validate', async () => {
    const sb = new Sandbox()
    try {
      assert.equal(git(sb, ['init', '-q']).status, 0)
      write(sb, 'my notes/é 1.txt', `token ${GH_TOKEN}\n`)
      const r = await sb.run(['scan', '--no-values', '--format', 'sarif'])
      assert.equal(r.code, 16, r.stderr)
      const sarif = JSON.parse(r.stdout)
      assert.ok(validateSarif(sarif), JSON.stringify(validateSarif.errors))
      assert.equal(
        sarif.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri,
        'my%20notes/%C3%A9%201.txt',
      )
      assert.equal(
        (await sb.run(['scan', '--no-values'])).stdout,
        'my notes/é 1.txt:1:7: github-token: GitHub token hardcoded here.\n',
      )
    } finally {
      sb.cleanup()
    }
  })

  it('a clean tree exits 0 with an empty stdout', async () => {
    const sb = await project()
    try {
      write(sb, 'src/app.js', 'export const url = process.env.DATABASE_URL\n')
      const r = await sb.run(['scan'])
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stdout, '')
      assert.equal(r.stderr, '✓ No hardcoded secrets in 3 file(s) scanned.\n')
      const sarif = JSON.parse((await sb.run(['scan', '--format', 'sarif'])).stdout)
      assert.ok(validateSarif(sarif))
      assert.deepEqual(sarif.runs[0].results, [])
    } finally {
      sb.cleanup()
    }
  })

  it('respects .gitignore, skips node_modules, binary and oversized files (and says so)', async () => {
    const sb = await project()
    try {
      write(sb, '.gitignore', 'ignored.env\n')
      write(sb, 'ignored.env', `AWS_ACCESS_KEY_ID=${AWS_KEY}\n`)
      write(sb, 'node_modules/pkg/index.js', `const k = "${AWS_KEY}"\n`)
      write(sb, 'image.bin', Buffer.concat([Buffer.from([0x89, 0x50, 0x00, 0x01]), Buffer.from(AWS_KEY)]))
      write(sb, 'big.txt', `${'x'.repeat(5000)}\n${AWS_KEY}\n`)
      const r = await sb.run(['scan', '--max-bytes', '4096'])
      assert.equal(r.code, 0, r.stderr)
      assert.equal(
        r.stderr,
        '✓ No hardcoded secrets in 3 file(s) scanned; skipped 1 binary, 1 over 4096 bytes (big.txt).\n',
      )
      const all = await sb.run(['scan', '--max-bytes', '100000'])
      assert.equal(all.code, 16)
      assert.equal(all.stdout, 'big.txt:2:1: aws-access-key-id: AWS access key ID hardcoded here.\n')
    } finally {
      sb.cleanup()
    }
  })

  it('outside git it walks the directory, skipping node_modules and .git', async () => {
    const sb = new Sandbox()
    try {
      write(sb, 'a/keys.txt', `${GH_TOKEN}\n`)
      write(sb, 'node_modules/x.js', `${GH_TOKEN}\n`)
      const r = await sb.run(['scan', '--no-values'])
      assert.equal(r.code, 16, r.stderr)
      assert.equal(r.stdout, 'a/keys.txt:1:1: github-token: GitHub token hardcoded here.\n')
      const patternsOnly = await sb.run(['scan'])
      assert.equal(patternsOnly.code, 16)
      assert.match(patternsOnly.stderr, /^secrets: no secrets.yaml found: scanning for credential patterns only\n/)
    } finally {
      sb.cleanup()
    }
  })

  it('a secret that cannot be read is reported on stderr; the pattern scan goes on; the exit code says which', async () => {
    const sb = await project()
    try {
      writeFileSync(
        join(sb.project, 'secrets.yaml'),
        'providers:\n  local: {type: local, path: .secrets/store.json}\nenv:\n  API_KEY: local://MISSING_KEY\n',
      )
      write(sb, 'app.js', `const k = "${AWS_KEY}"\nconst p = "${VALUE}"\n`)
      const r = await sb.run(['scan'])
      assert.equal(r.code, 16, r.stderr)
      assert.match(
        r.stderr,
        /^Warning: API_KEY \(local:\/\/MISSING_KEY\) could not be read, so its value was not looked for: \[NOT_FOUND\] /,
      )
      assert.equal(
        r.stdout,
        [
          'app.js:1:12: aws-access-key-id: AWS access key ID hardcoded here.',
          'app.js:2:12: configured-secret-value: The value of DB_PASSWORD (a secret configured in secrets.yaml) is hardcoded here.',
          '',
        ].join('\n'),
      )
      assertNoLeak(r, 'unresolved')
      write(sb, 'app.js', 'const k = process.env.AWS_ACCESS_KEY_ID\n')
      const clean = await sb.run(['scan'])
      assert.equal(clean.code, 5, clean.stderr)
      const sarif = JSON.parse((await sb.run(['scan', '--format', 'sarif'])).stdout)
      assert.ok(validateSarif(sarif))
      assert.equal(sarif.runs[0].invocations[0].executionSuccessful, false)
      assert.match(
        sarif.runs[0].invocations[0].toolExecutionNotifications[0].message.text,
        /^API_KEY \(local:\/\/MISSING_KEY\) could not be read/,
      )
    } finally {
      sb.cleanup()
    }
  })

  it('without an identity to open the store, patterns are still scanned and the exit code is IDENTITY_MISSING', async () => {
    const sb = await project()
    try {
      const r = await sb.run(['scan'], {env: {HOME: join(sb.root, 'nobody')}})
      assert.equal(r.code, 7, r.stderr)
      assert.match(r.stderr, /^Warning: No configured value was looked for: \[IDENTITY_MISSING\] /)
      assert.match(r.stderr, /✓ No hardcoded secrets in 2 file\(s\) scanned\.\n$/)
    } finally {
      sb.cleanup()
    }
  })
})
