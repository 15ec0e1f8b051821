import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'

import {readRegularFile} from '../../../src/core/lib/read-input.js'
import {SecretsError} from '../../../src/errors.js'

const refusal = (code: string, message: string) => (error: unknown) => {
  assert.ok(error instanceof SecretsError)
  assert.equal(error.code, code)
  assert.equal(error.message, message)
  return true
}

describe('readRegularFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'read-input-'))
  after(() => rmSync(dir, {recursive: true, force: true}))

  it('reads a regular file whole, and a /proc file whose stat size is 0', () => {
    writeFileSync(join(dir, 'f'), 'abc')
    assert.equal(readRegularFile(join(dir, 'f'), {what: 'the file', maxBytes: 10}).toString(), 'abc')
    assert.match(readRegularFile('/proc/self/status', {what: 'the file', maxBytes: 1 << 20}).toString(), /^Name:/)
  })

  it('refuses a directory, a FIFO without a writer (at once, no hang), /dev/zero and /proc/self/mem', () => {
    mkdirSync(join(dir, 'd'))
    execFileSync('mkfifo', [join(dir, 'fifo')])
    const o = {what: 'the config file', maxBytes: 1024, code: 'CONFIG_INVALID' as const}
    assert.throws(
      () => readRegularFile(join(dir, 'd'), {...o, display: 'd'}),
      refusal('CONFIG_INVALID', 'The config file d is a directory, not a regular file.'),
    )
    assert.throws(
      () => readRegularFile(join(dir, 'fifo'), {...o, display: 'fifo'}),
      refusal('CONFIG_INVALID', 'The config file fifo is a named pipe (FIFO), not a regular file.'),
    )
    assert.throws(
      () => readRegularFile('/dev/zero', o),
      refusal('CONFIG_INVALID', 'The config file /dev/zero is a character device, not a regular file.'),
    )
    assert.throws(
      () => readRegularFile('/proc/self/mem', {what: '--from-file', maxBytes: 1024}),
      refusal('USAGE', '--from-file /proc/self/mem cannot be read as a file (EIO).'),
    )
  })

  it('refuses a file over the cap, also when stat does not know its size', () => {
    writeFileSync(join(dir, 'big'), 'x'.repeat(2 * 1024 * 1024 + 1))
    assert.throws(
      () => readRegularFile(join(dir, 'big'), {what: 'the template', maxBytes: 2 * 1024 * 1024, display: 'big'}),
      refusal('USAGE', 'The template big is larger than 2 MiB.'),
    )
    assert.throws(
      () => readRegularFile('/proc/self/maps', {what: 'the template', maxBytes: 1024 * 1024 * 0.001}),
      (e: unknown) => e instanceof SecretsError && /is larger than/.test(e.message),
    )
  })

  it('passes errors from open through for the caller to word', () => {
    assert.throws(
      () => readRegularFile(join(dir, 'missing'), {what: 'the file', maxBytes: 10}),
      (e: NodeJS.ErrnoException) => e.code === 'ENOENT',
    )
  })
})
