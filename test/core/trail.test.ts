import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {parseTime} from '../../src/core/trail.js'
import {SecretsError} from '../../src/errors.js'

describe('parseTime (--since / --until)', () => {
  const now = new Date('2026-11-30T12:00:00.000Z')
  it('takes a duration ago in s, m, h, d or w', () => {
    assert.equal(parseTime('90s', '--since', now).toISOString(), '2026-11-30T11:58:30.000Z')
    assert.equal(parseTime('30m', '--since', now).toISOString(), '2026-11-30T11:30:00.000Z')
    assert.equal(parseTime('24h', '--since', now).toISOString(), '2026-11-29T12:00:00.000Z')
    assert.equal(parseTime('7d', '--since', now).toISOString(), '2026-11-23T12:00:00.000Z')
    assert.equal(parseTime('2w', '--since', now).toISOString(), '2026-11-16T12:00:00.000Z')
  })
  it('takes an ISO date (UTC midnight) or date-time', () => {
    assert.equal(parseTime('2026-11-01', '--since', now).toISOString(), '2026-11-01T00:00:00.000Z')
    assert.equal(parseTime('2026-11-01T08:30:00Z', '--until', now).toISOString(), '2026-11-01T08:30:00.000Z')
    assert.equal(parseTime('2026-11-01T08:30:00+02:00', '--until', now).toISOString(), '2026-11-01T06:30:00.000Z')
  })
  it('refuses anything else as USAGE naming the flag', () => {
    for (const bad of ['yesterday', '24', '-1d', '2026-13-45', '']) {
      assert.throws(() => parseTime(bad, '--since', now), (e: unknown) => e instanceof SecretsError && e.code === 'USAGE' && e.message.startsWith('--since '))
    }
  })
})
