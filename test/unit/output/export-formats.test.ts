import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {describe, it} from 'node:test'
import {parseEnv} from 'node:util'
import dotenv from 'dotenv'
import {parse as parseYaml} from 'yaml'

import {
  dotenvLine,
  formatEntries,
  githubEnvBlock,
  githubMasks,
  type ExportEntry,
} from '../../../src/output/export-formats.js'

/** Values that break naive quoting. */
export const TRICKY: Record<string, string> = {
  PLAIN: 'abc123',
  SPACES: '  leading and trailing  ',
  DOLLAR: 'pa$$word $HOME ${PATH} $(id) `id`',
  SINGLE: "it's",
  DOUBLE: 'say "hi"',
  BACKSLASH: 'C:\\path\\to\\n\\file\\',
  MULTILINE: '-----BEGIN KEY-----\nMIIB\nline3\n-----END KEY-----\n',
  HASH: '# not a comment',
  EQUALS: 'a=b=c',
  UNICODE: 'pässwörd ✓ 密码',
  QUOTES_MIX: `'single' and "double"`,
  CRLF: 'line1\r\nline2',
  TAB: 'a\tb',
  EMPTYISH: ' ',
  YAMLISH: 'yes',
  NUMBERISH: '0123',
}

const entries: ExportEntry[] = Object.entries(TRICKY).map(([name, value]) => ({name, value}))

describe('export formats', () => {
  it("dotenv round-trips through the dotenv package and Node's --env-file parser", () => {
    const {CRLF: _, ...expected} = TRICKY
    const text = formatEntries(
      entries.filter((e) => e.name !== 'CRLF'),
      'dotenv',
    )
    assert.deepEqual(dotenv.parse(text), expected)
    assert.deepEqual({...parseEnv(text)}, expected)
    const both = dotenvLine({name: 'BOTH', value: "it's `x`\nline2 $HOME \\"})
    assert.equal(both, 'BOTH="it\'s `x`\\nline2 $HOME \\"')
    assert.deepEqual(dotenv.parse(both), {BOTH: "it's `x`\nline2 $HOME \\"})
    assert.deepEqual({...parseEnv(both)}, {BOTH: "it's `x`\nline2 $HOME \\"})
  })

  it('dotenv refuses what it cannot hold exactly, naming the variable only', () => {
    assert.throws(() => dotenvLine({name: 'ALL', value: `'"\`x`}), {
      code: 'UNSUPPORTED',
      message: 'The value of ALL cannot be written exactly in dotenv format: it holds all three quote characters.',
    })
    assert.throws(() => dotenvLine({name: 'CRLF', value: TRICKY.CRLF}), {
      code: 'UNSUPPORTED',
      message:
        'The value of CRLF cannot be written exactly in dotenv format: it holds a carriage return, which dotenv parsers turn into a plain line break.',
    })
    assert.throws(() => dotenvLine({name: 'BSN', value: `'\`\\n`}), {code: 'UNSUPPORTED'})
  })

  it('shell round-trips through eval in sh', () => {
    const text = formatEntries(entries, 'shell')
    for (const [name, value] of Object.entries(TRICKY)) {
      const r = spawnSync('sh', ['-c', `eval "$1"; printf '%s' "$${name}"`, 'sh', text], {
        encoding: 'utf8',
        env: {PATH: process.env.PATH},
      })
      assert.equal(r.status, 0, r.stderr)
      assert.equal(r.stdout, value, name)
    }
  })

  it('json and yaml round-trip and keep strings as strings', () => {
    assert.deepEqual(JSON.parse(formatEntries(entries, 'json')), TRICKY)
    assert.deepEqual(parseYaml(formatEntries(entries, 'yaml')), TRICKY)
    assert.equal(formatEntries([], 'yaml'), '{}\n')
  })

  it('github: heredoc with a delimiter not in the value, and a mask per line', () => {
    const block = githubEnvBlock({name: 'K', value: 'a\nb'})
    const m = /^K<<(ghadelimiter_[0-9a-f]{32})\na\nb\n\1\n$/.exec(block)
    assert.ok(m, block)
    assert.equal(githubMasks('first\n\nsecond 100%\r\n'), '::add-mask::first\n::add-mask::second 100%25\n')
  })
})
