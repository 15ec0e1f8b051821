import assert from 'node:assert/strict'
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {describe, it} from 'node:test'

import {EXIT_CODE_TABLE, EXIT_CODES} from '../src/errors.js'
import {ROOT} from './helpers/cli.js'

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')

describe('README', () => {
  it('has the exit-code table exactly as src/errors.ts defines it', () => {
    const section = readme.slice(readme.indexOf('## Exit codes'))
    const rows = [...section.matchAll(/^\| ([^|]+) \| ([^|]*) \| (.+) \|$/gm)]
      .map((m) => [m[1].trim(), m[2].trim(), m[3].trim()])
      .filter((r) => r[0] !== 'exit')
    assert.deepEqual(
      rows.slice(0, EXIT_CODE_TABLE.length),
      EXIT_CODE_TABLE.map((r) => [String(r.exit), r.codes, r.meaning]),
    )
  })

  it('documents every error code in the table', () => {
    const documented = EXIT_CODE_TABLE.flatMap((r) => r.codes.split(', ')).filter(Boolean)
    for (const code of Object.keys(EXIT_CODES)) assert.ok(documented.includes(code), code)
  })

  it(".ci/run runs the README's test command", () => {
    assert.match(readme, /```sh\nnpm test\n```/)
    assert.match(readFileSync(join(ROOT, '.ci', 'run'), 'utf8'), /^npm ci\nnpm test$/m)
  })
})

/** Markdown files a reader follows links through: the README, CONTRIBUTING.md and every page under docs/. */
function markdownFiles(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(join(ROOT, dir), {withFileTypes: true}).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.md') ? [join(dir, e.name)] : [],
    )
  return ['README.md', 'CONTRIBUTING.md', ...walk('docs')]
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function anchors(markdown: string): Set<string> {
  const headings = markdown.replaceAll(/^```[\s\S]*?^```/gm, '').matchAll(/^#+ (.+)$/gm)
  return new Set(
    [...headings].map((m) =>
      m[1]
        .toLowerCase()
        .replaceAll(/[^\w\- ]/g, '')
        .replaceAll(' ', '-'),
    ),
  )
}

describe('docs pages', () => {
  it('every relative link points at a file that exists, and at a heading it has', () => {
    const broken: string[] = []
    for (const file of markdownFiles()) {
      const text = readFileSync(join(ROOT, file), 'utf8').replaceAll(/^```[\s\S]*?^```/gm, '')
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target)) continue
        const [path, anchor] = target.split('#')
        const dest = path === '' ? file : join(dirname(file), path)
        if (!existsSync(join(ROOT, dest))) broken.push(`${file}: ${target}`)
        else if (anchor && !anchors(readFileSync(join(ROOT, dest), 'utf8')).has(anchor))
          broken.push(`${file}: ${target}`)
      }
    }
    assert.deepEqual(broken, [])
  })

  it("the README's quick start is the quickstart script", () => {
    assert.match(readme, /```sh\nnpm ci && npm run quickstart\n```/)
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
    assert.equal(pkg.scripts.quickstart, 'sh scripts/quickstart.sh')
    assert.ok(existsSync(join(ROOT, 'scripts', 'quickstart.sh')))
  })
})

/** The example column of docs/commands.md's table, unescaped (`\|` is a pipe inside a cell). */
function tableExamples(): string[] {
  const text = readFileSync(join(ROOT, 'docs', 'commands.md'), 'utf8')
  return [...text.matchAll(/^\| `[^\n]*\| `(secrets [^`]+|[^`]*\| secrets [^`]+|eval "\$\(secrets [^`]+)` \|$/gm)].map(
    (m) => m[1].replaceAll('\\|', '|'),
  )
}

/** Examples that need a cloud provider or stand for a value the reader fills in; each says why it is not run here. */
const NOT_RUN: Array<[RegExp, string]> = [
  [/aws:\/\/|azure:\/\/|--from aws|--provider aws/, 'needs a cloud provider (test/e2e/<provider>.test.ts runs these)'],
  [
    /age1\.\.\./,
    'age1... stands for a recipient the reader fills in (test/e2e/lifecycle and key tests run key add/remove)',
  ],
]

/** What an example exits with when 0 is not the point of it. */
const EXPECTED_EXIT: Array<[RegExp, number]> = [[/^secrets rotate --due/, 13]]

const DOCS_CONFIG = `providers:
  local: {type: local, path: .secrets/store.json}
env:
  DATABASE_URL: local://STAGING_DB
files:
  TLS_CERT: local://CERT_PEM
environments:
  staging:
    env:
      DATABASE_URL: local://STAGING_DB
  production:
    env:
      DATABASE_URL: local://PROD_DB
`

/** A sandbox project with `secrets` on PATH (bin/run.js) and `npm start` checking that `variable` arrived. */
async function exampleProject(variable: string) {
  const {Sandbox} = await import('./helpers/cli.js')
  const {mkdirSync, writeFileSync, chmodSync} = await import('node:fs')
  const sb = new Sandbox()
  writeFileSync(
    join(sb.project, 'package.json'),
    JSON.stringify({
      name: 'docs-example',
      scripts: {start: `node -e "process.exit(process.env.${variable} ? 0 : 9)"`},
    }),
  )
  const bin = join(sb.root, 'bin')
  mkdirSync(bin)
  writeFileSync(join(bin, 'secrets'), `#!/bin/sh\nexec "${process.execPath}" "${join(ROOT, 'bin', 'run.js')}" "$@"\n`)
  chmodSync(join(bin, 'secrets'), 0o755)
  return {sb, path: `${bin}:${process.env.PATH}`}
}

describe('README examples', () => {
  it('the quick start by hand runs as written, and prints no value', async () => {
    const {spawnSync} = await import('node:child_process')
    const block = /The same by hand[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? ''
    const lines = block
      .split('\n')
      .map((l) => l.replace(/ +#.*$/, '').trim())
      .filter(Boolean)
    assert.deepEqual(
      lines.map((l) => l.split(' ').slice(0, 2).join(' ')),
      ['secrets init', 'printf %s', 'secrets exec', 'secrets list', 'secrets doctor'],
    )
    const {sb, path} = await exampleProject('STRIPE_KEY')
    try {
      const value = 'docs-canary-stripe-key'
      for (const line of lines) {
        const r = spawnSync('sh', ['-c', line], {
          cwd: sb.project,
          env: sb.env({PATH: path, STRIPE_KEY: value}),
          encoding: 'utf8',
          timeout: 60_000,
        })
        assert.equal(r.status, 0, `${line}\n${r.stdout}\n${r.stderr}`)
        assert.ok(!`${r.stdout}${r.stderr}`.includes(value), `${line} printed the value`)
        if (line === 'secrets list')
          assert.match(r.stdout, /^STRIPE_KEY +local:\/\/STRIPE_KEY +local +local +implicit +1 /m)
      }
    } finally {
      sb.cleanup()
    }
  })
})

describe('docs/commands.md examples', () => {
  it('every example in the command table runs as written against a project that has what it names', async () => {
    const {spawnSync} = await import('node:child_process')
    const {writeFileSync} = await import('node:fs')
    const {sb, path} = await exampleProject('API_TOKEN')
    try {
      await sb.init()
      const values: Record<string, string> = {
        STAGING_DB: 'docs-canary-staging-db',
        PROD_DB: 'docs-canary-prod-db',
        CERT_PEM: 'docs-canary-cert',
        OLD_TOKEN: 'docs-canary-old-token',
        DB_PASSWORD: 'docs-canary-db-password-1',
      }
      for (const [name, value] of Object.entries(values))
        assert.equal((await sb.run(['set', name], {input: value})).code, 0)
      assert.equal((await sb.run(['set', 'DB_PASSWORD'], {input: 'docs-canary-db-password-2'})).code, 0)
      writeFileSync(join(sb.project, 'secrets.yaml'), DOCS_CONFIG)
      writeFileSync(join(sb.project, '.env'), 'IMPORTED_KEY=docs-canary-imported\n')
      writeFileSync(join(sb.project, 'db.json.tpl'), '{"password": "{{ ref "DB_PASSWORD" }}"}\n')
      spawnSync('git', ['init', '-q'], {cwd: sb.project})
      const token = 'docs-canary-api-token'
      const examples = tableExamples()
      assert.ok(examples.length >= 25, `only ${examples.length} examples found`)
      const ran: string[] = []
      for (const example of examples) {
        if (NOT_RUN.some(([pattern]) => pattern.test(example))) continue
        const r = spawnSync('sh', ['-c', example], {
          cwd: sb.project,
          env: sb.env({PATH: path, T: token}),
          encoding: 'utf8',
          timeout: 60_000,
        })
        const expected = EXPECTED_EXIT.find(([pattern]) => pattern.test(example))?.[1] ?? 0
        assert.equal(r.status, expected, `${example}\n${r.stdout}\n${r.stderr}`)
        // `get` prints exactly the value it is asked for; nothing else prints one.
        const printed = /^secrets get /.test(example) ? r.stdout.replace(token, '') : r.stdout
        for (const value of [...Object.values(values), 'docs-canary-db-password-2', 'docs-canary-imported', token])
          assert.ok(!`${printed}${r.stderr}`.includes(value), `${example} printed a value`)
        if (/^secrets get /.test(example)) assert.equal(r.stdout, token)
        ran.push(example)
      }
      assert.equal(ran.length + examples.filter((e) => NOT_RUN.some(([p]) => p.test(e))).length, examples.length)
    } finally {
      sb.cleanup()
    }
  })
})
