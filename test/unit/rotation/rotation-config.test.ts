import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {GENERATE_LENGTH} from '../../../src/core/config/fields.js'
import {parseConfig, parseConfigFull} from '../../../src/core/config/load.js'
import {PASSWORD_CLASSES} from '../../../src/core/config/types.js'
import {selectEnvironment} from '../../../src/core/config/select.js'
import {SecretsError} from '../../../src/errors.js'

const FILE = '/p/secrets.yaml'
const HEAD = 'providers:\n  local: {type: local}\n  vault: {type: vault}\n'

function rejected(text: string): string {
  for (const parse of [parseConfig, parseConfigFull]) {
    try {
      parse(text, FILE)
    } catch (error) {
      assert.ok(error instanceof SecretsError)
      assert.equal(error.code, 'CONFIG_INVALID')
      if (parse === parseConfigFull) return error.message
      continue
    }
    assert.fail('expected the config to be rejected')
  }
  return ''
}

describe('rotation policy in secrets.yaml', () => {
  it('the shortest length allowed holds one character of every class (so no length-versus-classes check is needed)', () => {
    assert.ok(GENERATE_LENGTH.min >= PASSWORD_CLASSES.length)
  })

  it('reads `{ref, rotate}` entries into config.rotation (every in milliseconds) and keeps plain entries working', () => {
    const c = parseConfig(
      `${HEAD}env:
  PLAIN: local://PLAIN
  DB_PASSWORD:
    ref: vault://secret/app/db#password
    rotate: {every: 30d, generate: {type: password, length: 40, classes: [lower, upper, digit, symbol], symbols: "-_"}, verify: ./check-db}
  API_KEY: {ref: local://API_KEY, rotate: {every: 12h, generate: hex}}
environments:
  staging:
    env:
      STAGING_ONLY: {ref: local://S, rotate: {every: 1w2d}}
      DB_PASSWORD: {ref: vault://secret/staging/db#password, rotate: {every: 1d}}
`,
      FILE,
    )
    assert.equal(c.env.get('PLAIN')?.ref.raw, 'local://PLAIN')
    assert.equal(c.env.get('PLAIN')?.rotate, undefined)
    assert.equal(c.env.get('DB_PASSWORD')?.ref.field, 'password')
    const db = c.rotation.get('DB_PASSWORD')
    assert.equal(db?.every, 30 * 86_400_000)
    assert.deepEqual(db?.generate, {
      type: 'password',
      length: 40,
      classes: ['lower', 'upper', 'digit', 'symbol'],
      symbols: '-_',
    })
    assert.equal(db?.verify, './check-db')
    assert.equal(db?.line, 8)
    assert.deepEqual(c.rotation.get('API_KEY')?.generate, {type: 'hex'})
    assert.equal(c.rotation.get('API_KEY')?.every, 12 * 3_600_000)
    // Environment entries add policies for names the base does not declare, and carry their own per entry.
    assert.equal(c.rotation.get('STAGING_ONLY')?.every, 9 * 86_400_000)
    assert.equal(c.rotation.get('DB_PASSWORD')?.every, 30 * 86_400_000)
    assert.equal(selectEnvironment(c, 'staging').get('DB_PASSWORD')?.rotate?.every, 86_400_000)
    assert.deepEqual([...c.rotation.keys()].sort(), ['API_KEY', 'DB_PASSWORD', 'STAGING_ONLY'])
  })

  const cases: Array<[string, string, string]> = [
    [
      'a bad duration',
      'env:\n  A:\n    ref: local://A\n    rotate: {every: 30 days}\n',
      '/p/secrets.yaml:7: `env.A.rotate.every` "30 days" is not a duration; write a number and a unit (s, m, h, d, w), e.g. 30d or 12h.',
    ],
    [
      'a number as duration',
      'env:\n  A: {ref: local://A, rotate: {every: 30}}\n',
      '/p/secrets.yaml:5: `env.A.rotate.every` 30 is not a duration; write a number and a unit (s, m, h, d, w), e.g. 30d or 12h.',
    ],
    [
      'an unknown generator',
      'env:\n  A: {ref: local://A, rotate: {generate: {type: pin}}}\n',
      '/p/secrets.yaml:5: `env.A.rotate.generate.type` must be one of password, hex, base64, base64url, uuid.',
    ],
    [
      'a short length',
      'env:\n  A: {ref: local://A, rotate: {generate: {type: hex, length: 4}}}\n',
      '/p/secrets.yaml:5: `env.A.rotate.generate.length` must be a whole number from 8 to 4096.',
    ],
    [
      'classes on hex',
      'env:\n  A: {ref: local://A, rotate: {generate: {type: hex, classes: [digit]}}}\n',
      '/p/secrets.yaml:5: `env.A.rotate.generate.classes` applies to `type: password` only.',
    ],
    [
      'an unknown class',
      'env:\n  A: {ref: local://A, rotate: {generate: {type: password, classes: [emoji]}}}\n',
      '/p/secrets.yaml:5: `env.A.rotate.generate.classes` must be a list of lower, upper, digit, symbol.',
    ],
    [
      'an unknown rotate key',
      'env:\n  A: {ref: local://A, rotate: {evry: 1d}}\n',
      '/p/secrets.yaml:5: `env.A.rotate.evry` is not a known field here (expected every, generate, verify).',
    ],
    [
      'an unknown entry key',
      'env:\n  A: {ref: local://A, value: x}\n',
      '/p/secrets.yaml:5: `env.A.value` is not a known field here (expected ref, rotate, params).',
    ],
    [
      'an entry without ref',
      'env:\n  A: {rotate: {every: 1d}}\n',
      '/p/secrets.yaml:5: `env.A.ref` must be a reference string such as `local://NAME` (secret values never go in this file).',
    ],
    [
      'an empty verify',
      'env:\n  A: {ref: local://A, rotate: {verify: ""}}\n',
      '/p/secrets.yaml:5: `env.A.rotate.verify` must be a shell command as a string, e.g. `./scripts/check-db`.',
    ],
  ]
  for (const [what, body, message] of cases) {
    it(`rejects ${what} with file, line and field`, () => {
      assert.equal(rejected(HEAD + body), message)
    })
  }
})
