import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {inspect} from 'node:util'

import {fingerprint, readBaseline, writeBaseline} from '../../../src/core/scan/baseline.js'
import {gitEnv} from '../../../src/core/scan/git.js'
import {isBinary, matchBuffer, position} from '../../../src/core/scan/matcher.js'
import {looksRandom, PATTERN_RULES, shannonEntropy} from '../../../src/core/scan/rules.js'
import {ValueIndex} from '../../../src/core/scan/value-index.js'
import {SecretValue} from '../../../src/core/secret-value.js'
import {SecretsError} from '../../../src/errors.js'

const CANARY = 'canary-Scan-4b1d9e7a'

function rules(text: string, index?: ValueIndex): Array<[string, string, string?]> {
  const buf = Buffer.from(text)
  return matchBuffer(buf, buf.length, index).map((m) => [
    m.rule,
    buf.subarray(m.offset, m.offset + m.length).toString(),
    m.variable,
  ])
}

describe('ValueIndex', () => {
  it('finds every occurrence of every value, at its exact offset, by hash', () => {
    const index = new ValueIndex()
    index.add('DB_PASSWORD', new SecretValue(CANARY))
    index.add('API_TOKEN', new SecretValue('0123456789abcdef0123456789abcdef'))
    index.add('ALIAS', new SecretValue(CANARY))
    const text = `${CANARY} x=0123456789abcdef0123456789abcdef y=${CANARY}`
    const hits = index.scan(Buffer.from(text))
    assert.deepEqual(hits, [
      {offset: 0, length: CANARY.length, names: ['DB_PASSWORD', 'ALIAS']},
      {offset: CANARY.length + 3, length: 32, names: ['API_TOKEN']},
      {offset: text.length - CANARY.length, length: CANARY.length, names: ['DB_PASSWORD', 'ALIAS']},
    ])
    assert.equal(index.size, 3)
  })

  it('does not match a value with one byte changed, a truncated one, or a value past `end`', () => {
    const index = new ValueIndex()
    index.add('V', new SecretValue(CANARY))
    assert.deepEqual(index.scan(Buffer.from(`${CANARY.slice(0, -1)}X`)), [])
    assert.deepEqual(index.scan(Buffer.from(CANARY.slice(0, -1))), [])
    assert.deepEqual(index.scan(Buffer.from(`ab${CANARY}`), 2 + CANARY.length - 1), [])
    assert.deepEqual(index.scan(Buffer.from(`ab${CANARY}`), 2 + CANARY.length), [
      {offset: 2, length: CANARY.length, names: ['V']},
    ])
  })

  it('skips values shorter than 8 bytes and names them; a trailing newline is optional in the text', () => {
    const index = new ValueIndex()
    index.add('SHORT', new SecretValue('abc1234'))
    index.add('PEM', new SecretValue(`${CANARY}\n`))
    assert.deepEqual(index.tooShort, ['SHORT'])
    assert.deepEqual(index.scan(Buffer.from(`abc1234 "${CANARY}"`)), [
      {offset: 9, length: CANARY.length, names: ['PEM']},
    ])
    assert.deepEqual(
      index.scan(Buffer.from(`${CANARY}\n`)).map((h) => h.length),
      [CANARY.length, CANARY.length + 1],
    )
  })

  it('holds no printable copy of a value (inspect, JSON and string forms of the index)', () => {
    const index = new ValueIndex()
    index.add('V', new SecretValue(CANARY))
    for (const s of [inspect(index, {depth: 10, showHidden: true}), JSON.stringify(index), String(index)])
      assert.ok(!s.includes(CANARY.slice(0, 8)), s)
  })
})

describe('pattern rules', () => {
  const AWS_ID = 'AKIAQ3EGRRNJ5XW7PZ2D'
  const AWS_SECRET = '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'
  const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk4'
  const GHP = 'ghp_Q8x2LmN4pR7tV9wY1zA3bC5dE6fG8hJ0kL2m'
  const cases: Array<[string, string, string]> = [
    ['aws-access-key-id', `const id = "${AWS_ID}";`, AWS_ID],
    ['aws-secret-access-key', `aws_secret_access_key = ${AWS_SECRET}`, AWS_SECRET],
    [
      'private-key',
      '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM2Bx9Jq+Zn2kLw8nYbG9hF0pQ\n-----END RSA PRIVATE KEY-----\n',
      '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM2Bx9Jq+Zn2kLw8nYbG9hF0pQ',
    ],
    [
      'age-secret-key',
      'SECRETS_AGE_KEY=AGE-SECRET-KEY-1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQY\n',
      'AGE-SECRET-KEY-1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQY',
    ],
    ['jwt', `Authorization: Bearer ${JWT}`, JWT],
    [
      'vault-token',
      'VAULT_TOKEN=hvs.CAESIJ9x2kLmN4pR7tV9wY1zA3bC5dE6fG8hJ0kL2mQ',
      'hvs.CAESIJ9x2kLmN4pR7tV9wY1zA3bC5dE6fG8hJ0kL2mQ',
    ],
    ['vault-token', 'token: s.Q8x2LmN4pR7tV9wY1zA3bC5d', 's.Q8x2LmN4pR7tV9wY1zA3bC5d'],
    [
      'azure-storage-connection-string',
      'DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=q8X2lmN4pR7tV9wY1zA3bC5dE6fG8hJ0kL2mQ8x2LmN4pR7tV9wY1zA3bC5dE6fG8hJ0kL2mQ8x2LmN4pR7tA==;EndpointSuffix=core.windows.net',
      'q8X2lmN4pR7tV9wY1zA3bC5dE6fG8hJ0kL2mQ8x2LmN4pR7tV9wY1zA3bC5dE6fG8hJ0kL2mQ8x2LmN4pR7tA==',
    ],
    [
      'azure-service-bus-connection-string',
      'Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=Q8x2LmN4pR7tV9wY1zA3bC5dE6fG8hJ0kL2mQ8x2Lm4=',
      'Q8x2LmN4pR7tV9wY1zA3bC5dE6fG8hJ0kL2mQ8x2Lm4=',
    ],
    [
      'azure-client-secret',
      'clientSecret: "Xy78Q~q8X2lmN4pR7tV9wY1zA3bC5dE6fG8hJ0kL"',
      'Xy78Q~q8X2lmN4pR7tV9wY1zA3bC5dE6fG8hJ0kL',
    ],
    ['github-token', `GITHUB=${GHP}`, GHP],
    ['generic-secret-assignment', 'DB_PASSWORD="Xk9mQ2vLp8zR4tWc"', 'Xk9mQ2vLp8zR4tWc'],
    ['generic-secret-assignment', "  apiKey: '5f2b8c9e1a7d4b3f6e0c2a9d8b7f1e4c',", '5f2b8c9e1a7d4b3f6e0c2a9d8b7f1e4c'],
  ]
  for (const [rule, text, secret] of cases) {
    it(`${rule} finds ${JSON.stringify(text.slice(0, 30))}...`, () => {
      const found = rules(text)
      assert.equal(found.length, 1, JSON.stringify(found))
      assert.equal(found[0][0], rule)
      assert.equal(found[0][1], secret)
    })
  }

  it('generic assignments report the variable name', () => {
    assert.deepEqual(rules('DB_PASSWORD="Xk9mQ2vLp8zR4tWc"'), [
      ['generic-secret-assignment', 'Xk9mQ2vLp8zR4tWc', 'DB_PASSWORD'],
    ])
  })

  it('leaves alone placeholders, low-entropy values, identifiers, references and ordinary code', () => {
    const clean = [
      'password = "changeme-changeme-1"',
      'password = "aaaaaaaaaaaaaaaa1"',
      'token = getTokenFromTheEnvironment()',
      'api_key: ${API_KEY_FROM_ENV_1234}',
      'const secretName = "projectsMyAppDatabase"',
      'DB_PASSWORD: local://DB_PASSWORD',
      'session.token = "xxxxxxxxxxxxxxxxxxxxxx"',
      'return this.s.someVeryLongPropertyNamesX',
      '-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n',
      'AKIAIOSFODNN7EXAMPLEEXTRA1',
      "const APP_SECRET = 'app-client-secret-value-1'",
      'password: correct_horse_battery_staple',
    ]
    for (const text of clean) assert.deepEqual(rules(text), [], text)
  })

  it('prefers a configured value over a pattern at the same place', () => {
    const index = new ValueIndex()
    index.add('AWS_ID', new SecretValue('AKIAQ3EGRRNJ5XW7PZ2D'))
    assert.deepEqual(rules('k = AKIAQ3EGRRNJ5XW7PZ2D', index), [
      ['configured-secret-value', 'AKIAQ3EGRRNJ5XW7PZ2D', 'AWS_ID'],
    ])
  })

  it('every rule has a unique id, a name, a description and a global regex with a secret group', () => {
    assert.equal(new Set(PATTERN_RULES.map((r) => r.id)).size, PATTERN_RULES.length)
    for (const r of PATTERN_RULES) {
      assert.ok(r.regex.global && r.regex.source.includes('?<secret>'), r.id)
      assert.ok(r.name && r.description.length > 40, r.id)
    }
  })

  it('entropy and randomness', () => {
    assert.equal(shannonEntropy(''), 0)
    assert.equal(shannonEntropy('aaaa'), 0)
    assert.equal(shannonEntropy('abcd'), 2)
    assert.ok(looksRandom('Xk9mQ2vLp8zR4tWc'))
    assert.ok(!looksRandom('abcdefghijklmnop'))
    assert.ok(!looksRandom('1111111111111111'))
  })
})

describe('positions and binary files', () => {
  it('gives 1-based lines and columns in code points', () => {
    const buf = Buffer.from('first\nsecond é line: X\nthird')
    assert.deepEqual(position(buf, 0), {line: 1, column: 1})
    assert.deepEqual(position(buf, buf.indexOf('X')), {line: 2, column: 16})
    assert.deepEqual(position(buf, buf.indexOf('third')), {line: 3, column: 1})
  })

  it('calls a buffer binary when a NUL is in its first 8000 bytes', () => {
    assert.equal(isBinary(Buffer.from('a\0b'), 3), true)
    assert.equal(isBinary(Buffer.from('abc'), 3), false)
    const late = Buffer.alloc(9000, 0x61)
    late[8500] = 0
    assert.equal(isBinary(late, late.length), false)
  })
})

describe('baseline', () => {
  it('fingerprints do not depend on the line, and differ per rule, file, variable and credential', () => {
    const a = fingerprint('jwt', 'a.js', undefined, 'd1')
    assert.match(a, /^[0-9a-f]{64}$/)
    assert.notEqual(a, fingerprint('jwt', 'b.js', undefined, 'd1'))
    assert.notEqual(a, fingerprint('jwt', 'a.js', undefined, 'd2'))
    assert.notEqual(a, fingerprint('github-token', 'a.js', undefined, 'd1'))
    assert.notEqual(
      fingerprint('configured-secret-value', 'a.js', 'A', undefined),
      fingerprint('configured-secret-value', 'a.js', 'B', undefined),
    )
  })

  it('round-trips, and rejects a malformed or missing file with a clear error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'secrets-baseline-'))
    try {
      const file = join(dir, 'baseline.json')
      const fp = fingerprint('jwt', 'a.js', undefined, 'd1')
      writeBaseline(file, [
        {fingerprint: fp, rule: 'jwt', file: 'a.js', line: 3},
        {fingerprint: fp, rule: 'jwt', file: 'a.js', line: 9},
      ])
      assert.deepEqual(readBaseline(file), [{fingerprint: fp, rule: 'jwt', file: 'a.js', line: 3}])
      assert.throws(
        () => readBaseline(join(dir, 'none.json')),
        (e: unknown) =>
          e instanceof SecretsError && e.code === 'NOT_FOUND' && /--update-baseline/.test(e.suggestions[0]),
      )
      assert.deepEqual(readBaseline(join(dir, 'none.json'), true), [])
      for (const [text, why] of [
        ['{', /not JSON/],
        ['[]', /not a JSON object/],
        ['{"version":2,"findings":[]}', /"version" is 2/],
        ['{"version":1,"findings":[{"fingerprint":"abc"}]}', /findings\[0\]/],
      ] as const) {
        writeFileSync(file, text)
        assert.throws(
          () => readBaseline(file),
          (e: unknown) => e instanceof SecretsError && e.code === 'INTEGRITY' && why.test(e.message),
          text,
        )
      }
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})

describe('git child environment', () => {
  it('passes PATH, HOME and GIT_* only: no credential reaches git', () => {
    const env = gitEnv({
      PATH: '/bin',
      HOME: '/h',
      GIT_INDEX_FILE: '/i',
      SECRETS_AGE_KEY: 'AGE-SECRET-KEY-1X',
      SECRETS_PASSPHRASE: 'p',
      VAULT_TOKEN: 'hvs.x',
      AWS_SECRET_ACCESS_KEY: 'k',
      AZURE_CLIENT_SECRET: 'c',
    })
    assert.deepEqual(env, {PATH: '/bin', HOME: '/h', GIT_INDEX_FILE: '/i', GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C'})
  })
})
