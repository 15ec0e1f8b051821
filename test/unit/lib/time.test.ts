import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {currentTime, formatAge, formatDuration, parseDuration, parseTime} from '../../../src/core/lib/time.js'
import {SecretsError} from '../../../src/errors.js'

describe('durations', () => {
  it('parses and formats durations', () => {
    assert.equal(parseDuration('30d'), 2_592_000_000)
    assert.equal(parseDuration('1d12h'), 36 * 3_600_000)
    assert.equal(parseDuration('90s'), 90_000)
    for (const bad of ['30', 'd', '30 days', '-1d', '0d', '1.5d', '']) assert.equal(parseDuration(bad), undefined, bad)
    assert.equal(formatDuration(30 * 86_400_000), '30d')
    assert.equal(formatDuration(14 * 86_400_000), '2w')
    assert.equal(formatDuration(36 * 3_600_000), '36h')
  })

  it('says how old a cached value is (formatAge)', () => {
    assert.deepEqual([0, 999, 45_000, 125_000, 7_500_000, 90_061_000].map(formatAge), [
      '0s',
      '0s',
      '45s',
      '2m 5s',
      '2h 5m',
      '1d 1h',
    ])
  })
})

describe('currentTime (--now, SECRETS_NOW) with parseTime', () => {
  it('--since / --until take durations before now or dates; now comes from --now or SECRETS_NOW', () => {
    const now = currentTime(undefined, {SECRETS_NOW: '2026-03-10T12:00:00Z'})
    assert.equal(now.toISOString(), '2026-03-10T12:00:00.000Z')
    assert.equal(
      currentTime('2026-01-01T00:00:00Z', {SECRETS_NOW: '2026-03-10T12:00:00Z'}).toISOString(),
      '2026-01-01T00:00:00.000Z',
    )
    assert.deepEqual(
      ['90s', '30m', '24h', '7d', '2w', '2026-03-01', '2026-03-01T08:00:00Z'].map((t) =>
        parseTime(t, now, '--since').toISOString(),
      ),
      [
        '2026-03-10T11:58:30.000Z',
        '2026-03-10T11:30:00.000Z',
        '2026-03-09T12:00:00.000Z',
        '2026-03-03T12:00:00.000Z',
        '2026-02-24T12:00:00.000Z',
        '2026-03-01T00:00:00.000Z',
        '2026-03-01T08:00:00.000Z',
      ],
    )
    assert.throws(() => parseTime('24 hours', now, '--until'), /^SecretsError: --until expects a duration before now/)
    assert.throws(() => currentTime('noon', {}), /^SecretsError: --now must be an ISO 8601 time/)
    assert.equal(currentTime(undefined, {SECRETS_NOW: '1767225600000'}).toISOString(), '2026-01-01T00:00:00.000Z')
  })
})

describe('parseTime (--since / --until of audit log and audit trail)', () => {
  const now = new Date('2026-11-30T12:00:00.000Z')
  it('takes a duration ago in s, m, h, d or w', () => {
    assert.equal(parseTime('90s', now, '--since').toISOString(), '2026-11-30T11:58:30.000Z')
    assert.equal(parseTime('30m', now, '--since').toISOString(), '2026-11-30T11:30:00.000Z')
    assert.equal(parseTime('24h', now, '--since').toISOString(), '2026-11-29T12:00:00.000Z')
    assert.equal(parseTime('7d', now, '--since').toISOString(), '2026-11-23T12:00:00.000Z')
    assert.equal(parseTime('2w', now, '--since').toISOString(), '2026-11-16T12:00:00.000Z')
  })
  it('takes an ISO date (UTC midnight) or date-time', () => {
    assert.equal(parseTime('2026-11-01', now, '--since').toISOString(), '2026-11-01T00:00:00.000Z')
    assert.equal(parseTime('2026-11-01T08:30:00Z', now, '--until').toISOString(), '2026-11-01T08:30:00.000Z')
    assert.equal(parseTime('2026-11-01T08:30:00+02:00', now, '--until').toISOString(), '2026-11-01T06:30:00.000Z')
  })
  it('refuses anything else as USAGE naming the flag', () => {
    for (const bad of ['yesterday', '24', '-1d', '2026-13-45', '']) {
      assert.throws(
        () => parseTime(bad, now, '--since'),
        (e: unknown) => e instanceof SecretsError && e.code === 'USAGE' && e.message.startsWith('--since '),
      )
    }
  })
})
