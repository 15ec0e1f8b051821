import assert from 'node:assert/strict'
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {parse} from 'yaml'

import {ROOT} from './helpers/cli.js'
import {commandLineProblem, commandLines} from './helpers/command-lines.js'

describe('docs/ci/rotate.yml', () => {
  const text = readFileSync(join(ROOT, 'docs', 'ci', 'rotate.yml'), 'utf8')
  const wf = parse(text)

  it('is a scheduled workflow that may request OIDC tokens and stores no cloud credential', () => {
    assert.ok(Array.isArray(wf.on.schedule) && wf.on.schedule.length === 1)
    assert.equal(wf.permissions['id-token'], 'write')
    const steps: Array<{uses?: string; with?: Record<string, unknown>; run?: string}> = wf.jobs.rotate.steps
    const uses = steps.map((s) => s.uses?.split('@')[0]).filter(Boolean)
    for (const action of ['aws-actions/configure-aws-credentials', 'azure/login', 'actions/github-script'])
      assert.ok(uses.includes(action), action)
    assert.doesNotMatch(text, /secrets\.(AWS|AZURE|VAULT)_/)
    assert.doesNotMatch(text, /client-secret|aws-secret-access-key|VAULT_TOKEN/)
  })

  it('rotates with --due --yes --json and treats exit 13 (nothing due) as success, 14 and 15 as failures', () => {
    const run = wf.jobs.rotate.steps.find((s: {id?: string}) => s.id === 'rotate').run as string
    assert.match(run, /secrets rotate --due --yes --json/)
    assert.match(run, /13\) echo 'Nothing is due.' ;;/)
    assert.match(run, /14\) .*exit 14 ;;/)
    assert.match(run, /15\) .*exit 15 ;;/)
  })
})

/** The CI pages: docs/ci.md, every page under docs/ci/ and the workflow beside them. */
const CI_PAGES = ['docs/ci.md', ...readdirSync(join(ROOT, 'docs', 'ci')).map((f) => `docs/ci/${f}`)].sort()

/** Variables a page may name that no code of ours reads, each with the reason. */
const NAMED_ONLY: Record<string, string> = {
  VAULT_ID_TOKEN: 'a name a GitLab job may already give its id token; gitlab.md passes it on as VAULT_JWT',
}

/** Where a variable's reader lives: our sources, and the SDK packages whose credential chains we use. */
function readersText(): string {
  const files = (dir: string, keep: (f: string) => boolean): string[] =>
    readdirSync(dir, {withFileTypes: true}).flatMap((e) =>
      e.isDirectory() ? files(join(dir, e.name), keep) : keep(e.name) ? [join(dir, e.name)] : [],
    )
  const sdk = join(ROOT, 'node_modules', '@aws-sdk')
  const aws = readdirSync(sdk)
    .filter((d) => d.startsWith('credential-provider-'))
    .map((d) => join(sdk, d, 'dist-cjs', 'index.js'))
    .filter((f) => existsSync(f))
  const azure = files(join(ROOT, 'node_modules', '@azure', 'identity', 'dist', 'commonjs'), (f) => f.endsWith('.js'))
  const ours = files(join(ROOT, 'src'), (f) => f.endsWith('.ts'))
  return [...ours, ...aws, ...azure, join(ROOT, 'action', 'run.sh')].map((f) => readFileSync(f, 'utf8')).join('\n')
}

describe('docs/ci pages', () => {
  it('cover GitHub Actions, GitLab CI, any OIDC issuer and the pre-commit hook, linked from docs/ci.md', () => {
    assert.deepEqual(CI_PAGES, [
      'docs/ci.md',
      'docs/ci/github-actions.md',
      'docs/ci/gitlab.md',
      'docs/ci/oidc.md',
      'docs/ci/pre-commit.md',
      'docs/ci/rotate.yml',
    ])
    const index = readFileSync(join(ROOT, 'docs', 'ci.md'), 'utf8')
    for (const page of CI_PAGES.slice(1)) assert.ok(index.includes(`](${page.slice(5)})`), page)
  })

  it('every `secrets` command line in them parses against the manifest', () => {
    const problems: string[] = []
    let count = 0
    for (const page of CI_PAGES) {
      const lines = commandLines(readFileSync(join(ROOT, page), 'utf8'), page.endsWith('.yml') ? 'yaml' : 'markdown')
      count += lines.length
      for (const line of lines) {
        const problem = commandLineProblem(line)
        if (problem) problems.push(`${page}: ${line}: ${problem}`)
      }
    }
    assert.deepEqual(problems, [])
    assert.ok(count >= 30, `only ${count} command lines found`)
  })

  it('the command-line check fails on what it should', () => {
    assert.equal(commandLineProblem('secrets export --format github'), undefined)
    assert.equal(commandLineProblem('secrets exec --env production -- ./deploy.sh --all'), undefined)
    assert.equal(commandLineProblem('secrets scan --no-values --staged src'), undefined)
    assert.equal(commandLineProblem('secrets audit report --format markdown'), undefined)
    assert.equal(commandLineProblem('secrets exprot'), 'no command "exprot"')
    assert.equal(commandLineProblem('secrets export --formt github'), 'export has no flag --formt')
    assert.equal(
      commandLineProblem('secrets export --format toml'),
      'export --format toml: not one of dotenv, json, yaml, shell, github',
    )
    assert.equal(commandLineProblem('secrets export --only'), 'export --only needs a value')
    assert.equal(commandLineProblem('secrets get A B'), 'get takes 1 argument(s), 2 given')
    assert.deepEqual(commandLines('run: |\n  echo x | secrets get A > f # then `secrets lst`\n', 'yaml'), [
      'secrets get A',
      'secrets lst',
    ])
  })

  it('every SECRETS_, VAULT_, AWS_ and AZURE_ variable they name is read by our code or the SDK chains we use', () => {
    const readers = readersText()
    const unknown: string[] = []
    for (const page of CI_PAGES) {
      const text = readFileSync(join(ROOT, page), 'utf8')
      for (const m of text.matchAll(/\b(?:SECRETS|VAULT|AWS|AZURE)_[A-Z0-9_]*[A-Z0-9]\b/g)) {
        const name = m[0]
        // `vars.NAME` and `secrets.NAME` are repository variables and secrets the reader creates.
        if (/\b(vars|secrets)\.$/.test(text.slice(0, m.index))) continue
        // A GitLab id token the page itself declares (`NAME:` with its `aud:` below it).
        const declared = new RegExp(`^\\s+${name}:\\s*(#.*)?\\n\\s+aud:`, 'm').test(text)
        if (!declared && !(name in NAMED_ONLY) && !new RegExp(`\\b${name}\\b`).test(readers))
          unknown.push(`${page}: ${name}`)
      }
    }
    assert.deepEqual([...new Set(unknown)], [])
  })

  it("every use of this repository's action passes only inputs action.yml declares", () => {
    const inputs = Object.keys((parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as {inputs: object}).inputs)
    const uses: Array<Record<string, unknown>> = []
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk)
      else if (node && typeof node === 'object') {
        const step = node as {uses?: unknown; with?: Record<string, unknown>}
        if (typeof step.uses === 'string' && step.uses.startsWith('<owner>/secrets@')) uses.push(step.with ?? {})
        Object.values(node).forEach(walk)
      }
    }
    for (const page of CI_PAGES.filter((p) => p.endsWith('.md'))) {
      const text = readFileSync(join(ROOT, page), 'utf8')
      for (const [, block] of text.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)) walk(parse(block))
    }
    assert.ok(uses.length >= 6, `only ${uses.length} uses of the action found`)
    // The inputs table lists exactly the declared inputs, in their order.
    const page = readFileSync(join(ROOT, 'docs', 'ci', 'github-actions.md'), 'utf8')
    const table = page.slice(page.indexOf('## Inputs'), page.indexOf('**Install.**'))
    assert.deepEqual(
      [...table.matchAll(/^\| `([\w-]+)` \|/gm)].map((m) => m[1]),
      inputs,
    )
    for (const w of uses) for (const key of Object.keys(w)) assert.ok(inputs.includes(key), `undeclared input ${key}`)
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
    const pages = CI_PAGES.map((p) => readFileSync(join(ROOT, p), 'utf8')).join('\n')
    for (const [, version] of pages.matchAll(/(?:secrets@v|secrets-cli@|rev: v)(\d+\.\d+\.\d+)/g))
      assert.equal(version, pkg.version, 'the pages name the current version')
  })
})
