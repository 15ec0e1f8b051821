import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {parseWhen} from '../../../src/core/audit/query.js'
import {SecretsError} from '../../../src/errors.js'

describe('parseWhen (--since / --until of audit log and audit trail)', () => {
  const now = new Date('2026-11-30T12:00:00.000Z')
  it('takes a duration ago in s, m, h, d or w', () => {
    assert.equal(parseWhen('90s', now, '--since').toISOString(), '2026-11-30T11:58:30.000Z')
    assert.equal(parseWhen('30m', now, '--since').toISOString(), '2026-11-30T11:30:00.000Z')
    assert.equal(parseWhen('24h', now, '--since').toISOString(), '2026-11-29T12:00:00.000Z')
    assert.equal(parseWhen('7d', now, '--since').toISOString(), '2026-11-23T12:00:00.000Z')
    assert.equal(parseWhen('2w', now, '--since').toISOString(), '2026-11-16T12:00:00.000Z')
  })
  it('takes an ISO date (UTC midnight) or date-time', () => {
    assert.equal(parseWhen('2026-11-01', now, '--since').toISOString(), '2026-11-01T00:00:00.000Z')
    assert.equal(parseWhen('2026-11-01T08:30:00Z', now, '--until').toISOString(), '2026-11-01T08:30:00.000Z')
    assert.equal(parseWhen('2026-11-01T08:30:00+02:00', now, '--until').toISOString(), '2026-11-01T06:30:00.000Z')
  })
  it('refuses anything else as USAGE naming the flag', () => {
    for (const bad of ['yesterday', '24', '-1d', '2026-13-45', '']) {
      assert.throws(
        () => parseWhen(bad, now, '--since'),
        (e: unknown) => e instanceof SecretsError && e.code === 'USAGE' && e.message.startsWith('--since '),
      )
    }
  })
})
