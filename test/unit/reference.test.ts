import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {formatReference, parseReference} from '../../src/core/reference.js'
import {SecretsError} from '../../src/errors.js'

function errorOf(raw: string): SecretsError {
  try {
    parseReference(raw)
  } catch (error) {
    assert.ok(error instanceof SecretsError)
    return error
  }
  assert.fail(`expected ${raw} to be rejected`)
}

describe('parseReference', () => {
  it('parses every part of the contract syntax', () => {
    assert.deepEqual(parseReference('vault://secret/myapp/db#url'), {
      alias: 'vault',
      path: 'secret/myapp/db',
      field: 'url',
      params: {},
      raw: 'vault://secret/myapp/db#url',
    })
    assert.deepEqual(parseReference('aws://prod/stripe#api_key?version=3'), {
      alias: 'aws',
      path: 'prod/stripe',
      field: 'api_key',
      params: {version: '3'},
      raw: 'aws://prod/stripe#api_key?version=3',
    })
    assert.deepEqual(parseReference('aws://prod/stripe?stage=AWSPREVIOUS#key'), {
      alias: 'aws',
      path: 'prod/stripe',
      field: 'key',
      params: {stage: 'AWSPREVIOUS'},
      raw: 'aws://prod/stripe?stage=AWSPREVIOUS#key',
    })
    assert.deepEqual(parseReference('vault-eu://kv/app'), {
      alias: 'vault-eu',
      path: 'kv/app',
      field: undefined,
      params: {},
      raw: 'vault-eu://kv/app',
    })
    assert.deepEqual(parseReference('local://SESSION_SECRET'), {
      alias: 'local',
      path: 'SESSION_SECRET',
      field: undefined,
      params: {},
      raw: 'local://SESSION_SECRET',
    })
  })

  it('round-trips through formatReference', () => {
    for (const raw of [
      'local://A',
      'vault://secret/app#db_url',
      'aws://x/y#f?version=2',
      'azure://vault/name?version=abc&stage=x',
    ]) {
      assert.equal(formatReference(parseReference(raw)), raw)
    }
  })

  const cases: Array<[string, string, number]> = [
    ['vault:/secret', 'expected "://" after the provider alias', 6],
    ['Vault://x', 'unexpected "V" in provider alias (lowercase letters, digits and "-", starting with a letter)', 1],
    ['://x', 'missing provider alias before "://"', 1],
    ['vault://', 'missing path after "://"', 9],
    ['vault://a//b', 'empty path segment', 11],
    ['vault://a/', 'path ends with "/"', 10],
    ['vault://a b', 'unexpected " "', 10],
    ['vault://a#', 'empty field after "#"', 11],
    ['vault://a#f#g', 'a second "#"', 12],
    ['vault://a?version', 'expected "=" after parameter "version"', 18],
    ['vault://a?version=', 'empty value for parameter "version"', 19],
    ['vault://a?=1', 'expected a parameter name after "?" or "&"', 11],
    ['vault://a?version=1&version=2', 'parameter "version" given twice', 21],
    ['noscheme', 'expected "<alias>://" (no scheme found)', 9],
  ]
  for (const [raw, what, at] of cases) {
    it(`rejects ${JSON.stringify(raw)} pointing at character ${at}`, () => {
      const e = errorOf(raw)
      assert.equal(e.code, 'REFERENCE_INVALID')
      assert.equal(e.exitCode, 4)
      const [first, shown, caret] = e.message.split('\n')
      assert.equal(first, `Invalid reference: ${what} at character ${at}:`)
      assert.equal(shown, `  ${JSON.stringify(raw)}`)
      // The caret sits under the offending character (2 spaces of indent and the opening quote).
      assert.equal(caret, `${' '.repeat(at + 2)}^`)
    })
  }

  it('names the context it was given', () => {
    assert.throws(
      () => parseReference('vault:x', 'secrets.yaml:4 (env.DB)'),
      /^SecretsError: Invalid reference in secrets\.yaml:4 \(env\.DB\): expected ":\/\/"/,
    )
  })
})
