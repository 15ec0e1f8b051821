import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {closest, closestNames, didYouMean, unknownOnly} from '../../src/core/suggest.js'

describe('closestNames', () => {
  const pool = ['DATABASE_URL', 'DB_URL', 'DATABASE_USER', 'API_TOKEN', 'TLS_CERT', 'STAGING_DB']

  it('picks the nearest by edit distance, case-insensitively, nearest first', () => {
    // Within about a third of the name's length: DATABASE_USER is 4 edits from DATABSE_URL (too far for
    // 11 characters), 3 from database_url (close enough for 12).
    assert.deepEqual(closestNames('DATABSE_URL', pool), ['DATABASE_URL'])
    assert.deepEqual(closestNames('database_url', pool), ['DATABASE_URL', 'DATABASE_USER'])
    assert.deepEqual(closestNames('DATABASE_UR', pool), ['DATABASE_URL', 'DATABASE_USER'])
    assert.deepEqual(closestNames('TLSCERT', pool), ['TLS_CERT'])
  })

  it('leaves out implausible candidates and the name itself, and keeps at most `max`', () => {
    assert.deepEqual(closestNames('QQQQQQQQ', pool), [])
    assert.deepEqual(closestNames('TLS_CERT', pool), [])
    assert.deepEqual(closestNames('A', ['E', 'D', 'C', 'B']), ['B', 'C', 'D'])
    assert.deepEqual(closestNames('A', ['B', 'C', 'D', 'E'], {max: 1}), ['B'])
  })
})

describe('closest (commands, topics, flags)', () => {
  const commands = ['list', 'get', 'set', 'exec', 'audit', 'audit verify']

  it('names the one nearest candidate within a third of the typed length, at least one edit', () => {
    assert.equal(closest('lst', commands), 'list')
    assert.equal(closest('LIST', commands), 'list')
    assert.equal(closest('audit verfy', commands), 'audit verify')
    assert.equal(closest('gte', commands), undefined) // two edits from get: too far for three letters
    assert.equal(closest('x', commands), undefined)
    assert.equal(closest('qqqqqq', commands), undefined)
  })
})

describe('didYouMean and unknownOnly', () => {
  it('lists one, two or three names in a sentence', () => {
    assert.equal(didYouMean(['A']), 'Did you mean A?')
    assert.equal(didYouMean(['A', 'B']), 'Did you mean A or B?')
    assert.equal(didYouMean(['A', 'B', 'C']), 'Did you mean A, B or C?')
  })

  it('names the closest variables, then the list, then how to create one (NOT_FOUND, exit 5)', () => {
    const e = unknownOnly(['DATABSE_URL'], ['TLS_CERT', 'DATABASE_URL'], {
      scope: 'of this environment',
      listLabel: 'Variables',
      create: 'Create it.',
    })
    assert.deepEqual([e.code, e.exitCode], ['NOT_FOUND', 5])
    assert.equal(e.message, '--only names DATABSE_URL, which is not a variable of this environment.')
    assert.deepEqual(e.suggestions, ['Did you mean DATABASE_URL?', 'Variables: DATABASE_URL, TLS_CERT.', 'Create it.'])
    const two = unknownOnly(['X', 'Y'], [], {scope: 'read from vault', listLabel: 'Variables read from vault'})
    assert.equal(two.message, '--only names X, Y, which are not variables read from vault.')
    assert.deepEqual(two.suggestions, ['Variables read from vault: none.'])
  })
})
