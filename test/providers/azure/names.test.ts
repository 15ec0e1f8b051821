import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {azureSecretName, collisionError, findCollisions} from '../../../src/providers/azure/names.js'
import {SecretsError} from '../../../src/errors.js'

describe('azure name mapping', () => {
  it('keeps Key Vault names as written and maps variable-style names (lowercase, "_" -> "-")', () => {
    assert.deepEqual(azureSecretName('db-password'), {name: 'db-password', mapped: false})
    assert.deepEqual(azureSecretName('Api-Key2'), {name: 'Api-Key2', mapped: false})
    assert.deepEqual(azureSecretName('DB_PASSWORD'), {name: 'db-password', mapped: true})
    assert.deepEqual(azureSecretName('smtp__relay_USER'), {name: 'smtp--relay-user', mapped: true})
  })

  it('refuses names that are neither', () => {
    for (const bad of ['db.password', 'a b', 'ü-name', 'x'.repeat(128)]) {
      assert.throws(
        () => azureSecretName(bad, `azure://${bad}`),
        (e: unknown) => e instanceof SecretsError && e.code === 'REFERENCE_INVALID' && e.exitCode === 4,
        bad,
      )
    }
  })

  it('finds two variable-style spellings of one Key Vault name, and nothing else', () => {
    const refs = (paths: string[]) => paths.map((p) => ({path: p, raw: `azure://${p}`}))
    assert.deepEqual(findCollisions(refs(['DB_PASSWORD', 'db_password', 'API_KEY'])), [
      {name: 'db-password', refs: ['azure://DB_PASSWORD', 'azure://db_password']},
    ])
    // The same spelling twice, or a mapped name next to the explicit Key Vault name, is one secret on purpose.
    assert.deepEqual(findCollisions(refs(['DB_PASSWORD', 'DB_PASSWORD', 'db-password'])), [])
    const err = collisionError('db-password', ['azure://DB_PASSWORD', 'azure://db_password'])
    assert.equal(err.code, 'REFERENCE_INVALID')
    assert.equal(
      err.message,
      'Name collision: azure://DB_PASSWORD and azure://db_password all map to the Key Vault secret "db-password" (lowercase, "_" becomes "-"); refusing to let them share one secret.',
    )
  })
})
