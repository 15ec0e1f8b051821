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
