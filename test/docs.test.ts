import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
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
