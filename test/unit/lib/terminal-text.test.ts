import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {table} from '../../../src/cli/style.js'
import {terminalSafe} from '../../../src/core/lib/terminal-text.js'

describe('terminalSafe', () => {
  it('shows control characters, C1 controls and bidi overrides as escapes, keeping newlines and tabs', () => {
    assert.equal(terminalSafe('a\u001b]0;owned\u0007b\rc\u009bd\u202ee'), 'a\\x1b]0;owned\\x07b\\x0dc\\x9bd\\u202ee')
    assert.equal(terminalSafe('line 1\n\tline 2'), 'line 1\n\tline 2')
    assert.equal(terminalSafe('a\nb\tc', {singleLine: true}), 'a\\x0ab\\x09c')
    assert.equal(terminalSafe('plain ünïcode ✓'), 'plain ünïcode ✓')
  })

  it('is applied to every table cell, before widths are measured', () => {
    assert.equal(table(['LABEL', 'X'], [['\u001b[2Jx', '1']]), 'LABEL     X\n\\x1b[2Jx  1')
  })
})
