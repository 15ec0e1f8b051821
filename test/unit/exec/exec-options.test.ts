import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it} from 'node:test'

import {exitStatus, findExecutable} from '../../../src/core/exec/child.js'
import {parseInterval, parseSignal} from '../../../src/core/exec/exec.js'

describe('exec options', () => {
  it('reads intervals with units, and refuses nonsense and anything under a second', () => {
    assert.deepEqual(
      ['30s', '5m', '1h', '1500ms', '2', '1.5s'].map((t) => parseInterval(t)),
      [30_000, 300_000, 3_600_000, 1500, 2000, 1500],
    )
    assert.throws(() => parseInterval('soon'), {code: 'USAGE', message: '--interval "soon" is not a duration.'})
    assert.throws(() => parseInterval('500ms'), {code: 'USAGE', message: '--interval 500ms is shorter than 1s.'})
    assert.throws(() => parseInterval('-5s'), {code: 'USAGE'})
  })

  it('reads signals by name or number, never KILL or STOP', () => {
    assert.deepEqual(
      ['HUP', 'sighup', 'SIGUSR1', '10', 'term'].map((t) => parseSignal(t)),
      ['SIGHUP', 'SIGHUP', 'SIGUSR1', 'SIGUSR1', 'SIGTERM'],
    )
    for (const bad of ['KILL', '9', 'SIGSTOP', 'NOPE']) assert.throws(() => parseSignal(bad), {code: 'USAGE'}, bad)
  })

  it("reports the child's status, or 128+N for signal N", () => {
    assert.equal(exitStatus({code: 0, signal: null}), 0)
    assert.equal(exitStatus({code: 255, signal: null}), 255)
    assert.equal(exitStatus({code: null, signal: 9}), 137)
    assert.equal(exitStatus({code: null, signal: 15}), 143)
  })

  it("finds commands on the child's PATH as execvp does", () => {
    assert.equal(findExecutable('sh', {PATH: '/nonexistent:/bin:/usr/bin'}), '/bin/sh')
    assert.throws(() => findExecutable('sh', {PATH: '/nonexistent'}), {code: 'COMMAND_NOT_FOUND'})
    const dir = mkdtempSync(join(tmpdir(), 'secrets-find-'))
    try {
      writeFileSync(join(dir, 'script.sh'), '#!/bin/sh\n', {mode: 0o644})
      assert.throws(() => findExecutable(join(dir, 'script.sh'), {PATH: '/bin'}), {code: 'COMMAND_NOT_EXECUTABLE'})
      assert.throws(() => findExecutable('script.sh', {PATH: dir}), {code: 'COMMAND_NOT_EXECUTABLE'})
      assert.throws(() => findExecutable('sh', {PATH: `${dir}/script.sh`}), {code: 'COMMAND_NOT_FOUND'})
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
    assert.throws(() => findExecutable('./no-such-thing', {PATH: '/bin'}), {code: 'COMMAND_NOT_FOUND'})
  })
})
