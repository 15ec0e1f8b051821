// The package as a user installs it: packed with `npm pack`, installed from the tarball into a fresh
// project with npm (offline, from the npm cache that `npm ci` filled), then used there from Node.
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {ROOT, Sandbox} from '../helpers/cli.js'

const DB = 'pw-from-the-store'
const TOKEN = 'token-from-the-store'

/** Run a command to completion; throw with its output when it fails. */
function must(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(command, args, {cwd, env, encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`)
  return r.stdout
}

/**
 * The consumer's lockfile: the tarball, plus the package's own dependencies pinned as in our
 * package-lock.json. `npm ci --offline` then takes every one from the npm cache by its integrity, where
 * `npm install --offline` would need registry metadata that `npm ci` never cached.
 */
function consumerLock(tarball: string): object {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, {dev?: boolean; link?: boolean}>
  }
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>
  const spec = `file:${tarball}`
  const packages: Record<string, unknown> = {
    '': {name: 'consumer', version: '1.0.0', dependencies: {'secrets-cli': spec}},
    'node_modules/secrets-cli': {
      version: pkg.version,
      resolved: spec,
      license: pkg.license,
      dependencies: pkg.dependencies,
      optionalDependencies: pkg.optionalDependencies,
      bin: pkg.bin,
      engines: pkg.engines,
    },
  }
  for (const [path, entry] of Object.entries(lock.packages))
    if (path !== '' && !entry.dev && !entry.link) packages[path] = entry
  return {name: 'consumer', version: '1.0.0', lockfileVersion: 3, requires: true, packages}
}

const APPS: Record<string, string> = {
  'env.mjs': `process.stdout.write(JSON.stringify({DB: process.env.DB_PASSWORD ?? null, TOKEN: process.env.API_TOKEN ?? null}))\n`,
  'env.cjs': `process.stdout.write(JSON.stringify({DB: process.env.DB_PASSWORD ?? null, TOKEN: process.env.API_TOKEN ?? null}))\n`,
  'first.mjs': `process.stdout.write('the first line ran\\n')\n`,
  'first.cjs': `process.stdout.write('the first line ran\\n')\n`,
  'load.mjs': `import {config, load, EXIT_CODES, SecretsError} from 'secrets-cli'
const values = await load()
const before = process.env.DB_PASSWORD ?? null
let error = null
try {
  await load({env: 'broken'})
} catch (e) {
  error = {isSecretsError: e instanceof SecretsError, code: e.code, exitCode: e.exitCode, message: e.message}
}
const assigned = await config()
process.stdout.write(JSON.stringify({values, plain: Object.getPrototypeOf(values) === Object.prototype, before, after: process.env.DB_PASSWORD, assigned, error, notFound: EXIT_CODES.NOT_FOUND}))
`,
  'load.cjs': `const {config, load, EXIT_CODES, SecretsError} = require('secrets-cli')
async function main() {
  const values = await load()
  const before = process.env.DB_PASSWORD ?? null
  let error = null
  try {
    await load({env: 'broken'})
  } catch (e) {
    error = {isSecretsError: e instanceof SecretsError, code: e.code, exitCode: e.exitCode, message: e.message}
  }
  const assigned = await config()
  process.stdout.write(JSON.stringify({values, plain: Object.getPrototypeOf(values) === Object.prototype, before, after: process.env.DB_PASSWORD, assigned, error, notFound: EXIT_CODES.NOT_FOUND}))
}
main()
`,
}

APPS['files.mjs'] = `import {load} from 'secrets-cli'
const warnings = []
const values = await load({env: 'withfile', onWarning: (m) => warnings.push(m)})
process.stdout.write(JSON.stringify({values, warnings}))
`

const TS_OK = `import {config, EXIT_CODES, load, SecretsError, type ErrorCode, type LoadOptions} from 'secrets-cli'
const options: LoadOptions = {env: 'staging', only: ['DB_PASSWORD'], maxAge: '1h', offline: true, onWarning: (m: string) => void m}
const values: Record<string, string> = await load(options)
const db: string | undefined = values.DB_PASSWORD
const assigned: Record<string, string> = await config({cwd: '.', allowMissing: true})
let code: ErrorCode | undefined
try {
  await load()
} catch (error) {
  if (error instanceof SecretsError) code = error.code
}
const five: 5 = EXIT_CODES.NOT_FOUND
export {assigned, code, db, five}
`
const TS_OK_CJS = `import {load, SecretsError} from 'secrets-cli'
export async function names(): Promise<string> {
  try {
    return Object.keys(await load({program: 'names'})).join(',')
  } catch (error) {
    return error instanceof SecretsError ? error.code : 'other'
  }
}
`
const TS_WRONG = `import {load} from 'secrets-cli'
const bad = await load({env: 3})
const n: number = (await load()).DB_PASSWORD
await load({unknownOption: true})
export {bad, n}
`

describe('the packed package, installed with npm', () => {
  const sb = new Sandbox()
  const app = sb.project
  const installedBin = () => join(app, 'node_modules', 'secrets-cli', 'bin', 'run.js')
  /** Run node in the consumer project with the sandbox's HOME and environment. */
  const node = (args: string[], env: Record<string, string | undefined> = {}) =>
    spawnSync(process.execPath, args, {cwd: app, env: sb.env(env), encoding: 'utf8'})
  /** The installed CLI, in the consumer project. */
  const secrets = (args: string[], o: {input?: string; env?: Record<string, string>} = {}) =>
    spawnSync(process.execPath, [installedBin(), ...args], {
      cwd: app,
      env: sb.env(o.env),
      input: o.input ?? '',
      encoding: 'utf8',
    })
  const records = () =>
    sb
      .auditText()
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as {command: string; child?: string; action: string; ref: string; outcome: string})
  let packed: string[] = []

  before(async () => {
    // --ignore-scripts: `prepare` would rebuild dist/ under the other tests that are running it.
    const out = join(sb.root, 'pack')
    mkdirSync(out)
    const [info] = JSON.parse(
      must('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', out], ROOT),
    ) as Array<{
      filename: string
      files: Array<{path: string}>
    }>
    packed = info.files.map((f) => f.path)
    const tarball = join(out, info.filename)
    const manifest = {
      name: 'consumer',
      version: '1.0.0',
      private: true,
      dependencies: {'secrets-cli': `file:${tarball}`},
    }
    writeFileSync(join(app, 'package.json'), JSON.stringify(manifest))
    writeFileSync(join(app, 'package-lock.json'), JSON.stringify(consumerLock(tarball)))
    // npm runs with the real environment: its cache is the one `npm ci` of this checkout filled.
    must('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], app)
    // The project, made with the installed CLI itself.
    for (const [args, input] of [
      [['init', '--yes'], ''],
      [['set', 'DB_PASSWORD'], DB],
      [['set', 'API_TOKEN'], TOKEN],
    ] as const) {
      const r = secrets([...args], {input})
      assert.equal(r.status, 0, r.stderr)
    }
    writeFileSync(
      join(app, 'secrets.yaml'),
      `${readFileSync(join(app, 'secrets.yaml'), 'utf8')}\nenvironments:\n  broken:\n    env:\n      MISSING_KEY: local://MISSING_KEY\n  withfile:\n    files:\n      TLS_CERT: local://DB_PASSWORD\n`,
    )
    for (const [name, text] of Object.entries(APPS)) writeFileSync(join(app, name), text)
  })
  after(() => sb.cleanup())

  it('holds bin, dist, the manifest, the schema and docs, never tests, benchmarks, sources or maps', () => {
    for (const f of ['bin/run.js', 'dist/lib/index.js', 'dist/lib/index.cjs', 'dist/lib/index.d.ts'])
      assert.ok(packed.includes(f), f)
    for (const f of ['oclif.manifest.json', 'secrets.schema.json', 'README.md', 'docs/library.md', 'package.json'])
      assert.ok(packed.includes(f), f)
    assert.deepEqual(
      packed.filter((f) => /^(test|bench|src|scripts)\/|\.map$|^bin\/dev\.js$/.test(f)),
      [],
    )
  })

  it('--import secrets-cli/register fills process.env before the first line, recorded as `library` with the program', () => {
    const r = node(['--import', 'secrets-cli/register', 'env.mjs'], {DB_PASSWORD: 'from-the-parent'})
    assert.equal(r.status, 0, r.stderr)
    assert.deepEqual(JSON.parse(r.stdout), {DB: DB, TOKEN: TOKEN})
    // exec's clash rule and warning: the secret wins over the variable the parent set.
    assert.equal(r.stderr, "Warning: DB_PASSWORD is set in your environment too; the secret's value is used.\n")
    const reads = records().slice(-2)
    assert.deepEqual(
      reads.map((e) => [e.command, e.child, e.action, e.ref, e.outcome]),
      [
        ['library', 'env.mjs', 'read', 'local://API_TOKEN', 'ok'],
        ['library', 'env.mjs', 'read', 'local://DB_PASSWORD', 'ok'],
      ].sort((a, b) => (a[3] < b[3] ? -1 : 1)),
    )
    assert.ok(!sb.auditText().includes(DB) && !sb.auditText().includes(TOKEN))
  })

  it('-r secrets-cli/register (CommonJS) fills process.env too, through a child over a pipe', () => {
    const r = node(['-r', 'secrets-cli/register', 'env.cjs'])
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stderr, '')
    assert.deepEqual(JSON.parse(r.stdout), {DB: DB, TOKEN: TOKEN})
    assert.deepEqual(
      records()
        .slice(-2)
        .map((e) => [e.command, e.child]),
      [
        ['library', 'env.cjs'],
        ['library', 'env.cjs'],
      ],
    )
  })

  it("a missing secret stops the program before its first line, with exec's error and exit code", () => {
    const exec = secrets(['exec', '--', 'true'], {env: {SECRETS_ENV: 'broken'}})
    assert.equal(exec.status, 5)
    assert.match(
      exec.stderr,
      /^Error \[NOT_FOUND\]: Could not resolve 1 of 3 variable\(s\); nothing was used:\n {2}MISSING_KEY = local:\/\/MISSING_KEY /,
    )
    for (const [flag, file] of [
      ['--import', 'first.mjs'],
      ['-r', 'first.cjs'],
    ]) {
      const r = node([flag, 'secrets-cli/register', file], {SECRETS_ENV: 'broken'})
      assert.equal(r.stdout, '', `${flag}: the program ran`)
      assert.equal(r.status, 5, `${flag}: ${r.stderr}`)
      assert.equal(r.stderr, exec.stderr, flag)
    }
  })

  for (const file of ['load.mjs', 'load.cjs'])
    it(`load() and config() from ${file.endsWith('.mjs') ? 'an ES module' : 'CommonJS'}`, () => {
      const r = node([file], {API_TOKEN: TOKEN})
      assert.equal(r.status, 0, r.stderr)
      // config() assigns; an equal value already set is no clash, so nothing is warned.
      assert.equal(r.stderr, '')
      const out = JSON.parse(r.stdout)
      const store = join(app, '.secrets', 'store.json')
      assert.deepEqual(out, {
        values: {API_TOKEN: TOKEN, DB_PASSWORD: DB},
        plain: true,
        before: null,
        after: DB,
        assigned: {API_TOKEN: TOKEN, DB_PASSWORD: DB},
        error: {
          isSecretsError: true,
          code: 'NOT_FOUND',
          exitCode: 5,
          message: `Could not resolve 1 of 3 variable(s); nothing was used:\n  MISSING_KEY = local://MISSING_KEY (provider local): [NOT_FOUND] No secret named MISSING_KEY in the local store ${store}.`,
        },
        notFound: 5,
      })
      assert.equal(records().at(-1)?.child, file)
    })

  it('leaves `files:` entries out, warning with their names and pointing to exec', () => {
    const r = node(['files.mjs'])
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stderr, '')
    // DB_PASSWORD is the file's secret, so (as with exec) it is not also a variable.
    assert.deepEqual(JSON.parse(r.stdout), {
      values: {API_TOKEN: TOKEN},
      warnings: [
        `TLS_CERT is declared under files: in ${join(app, 'secrets.yaml')}, which load() does not write (a secret file needs a private directory removed when the program ends); run the program under \`secrets exec\` for it.`,
      ],
    })
  })

  it('a TypeScript consumer type-checks against the shipped types, and a wrong use fails to', () => {
    const dir = join(app, 'ts')
    mkdirSync(dir, {recursive: true})
    writeFileSync(join(dir, 'package.json'), JSON.stringify({type: 'module'}))
    const compilerOptions = {
      module: 'nodenext',
      moduleResolution: 'nodenext',
      target: 'es2022',
      strict: true,
      noEmit: true,
      types: [],
    }
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({compilerOptions, files: ['ok.ts', 'ok-cjs.cts']}))
    writeFileSync(join(dir, 'tsconfig.wrong.json'), JSON.stringify({compilerOptions, files: ['wrong.ts']}))
    writeFileSync(join(dir, 'ok.ts'), TS_OK)
    writeFileSync(join(dir, 'ok-cjs.cts'), TS_OK_CJS)
    writeFileSync(join(dir, 'wrong.ts'), TS_WRONG)
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
    const ok = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], {cwd: dir, encoding: 'utf8'})
    assert.equal(ok.status, 0, ok.stdout + ok.stderr)
    const wrong = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.wrong.json'], {cwd: dir, encoding: 'utf8'})
    assert.notEqual(wrong.status, 0)
    const errors = [...wrong.stdout.matchAll(/wrong\.ts\((\d+),\d+\): error (TS\d+)/g)].map((m) => `${m[1]} ${m[2]}`)
    assert.deepEqual(errors, ['2 TS2322', '3 TS2322', '4 TS2353'], wrong.stdout)
  })
})
