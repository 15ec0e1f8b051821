import assert from 'node:assert/strict'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'

import {type EXIT_CODES as CORE_EXIT_CODES, SecretsError as CoreSecretsError} from '../../src/errors.js'
import type * as Api from '../../src/lib/api.js'
import {assignToProcess} from '../../src/lib/assign.js'
import * as cjs from '../../src/lib/index-cjs.js'
import * as lib from '../../src/lib/index.js'

// The shipped declarations (src/lib/api.d.ts) describe the code: `npm run typecheck` fails on this file
// when an export, an option or an error code drifts from them.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
const declared: {
  load: typeof Api.load
  config: typeof Api.config
  SecretsError: typeof Api.SecretsError
  EXIT_CODES: typeof Api.EXIT_CODES
} = lib
const declaredCjs: typeof declared = cjs
const sameCodes: Same<Api.ErrorCode, keyof typeof CORE_EXIT_CODES> = true
const sameExitCodes: Same<typeof Api.EXIT_CODES, typeof CORE_EXIT_CODES> = true
const sameLoad: Same<typeof Api.load, typeof lib.load> = true
const sameError: Same<InstanceType<typeof Api.SecretsError>, CoreSecretsError> = true

/** The rejection of `promise`, which must be a SecretsError. */
async function rejection(promise: Promise<unknown>): Promise<CoreSecretsError> {
  try {
    await promise
  } catch (error) {
    assert.ok(error instanceof CoreSecretsError, String(error))
    return error
  }
  assert.fail('expected a rejection')
}

describe('library entry', () => {
  // No secrets.yaml here: an option error must come first, before any config is looked for.
  const empty = mkdtempSync(join(tmpdir(), 'secrets-lib-'))
  after(() => rmSync(empty, {recursive: true, force: true}))

  it('exports exactly load, config, SecretsError and EXIT_CODES, from ESM and the CommonJS source alike', () => {
    assert.deepEqual([sameCodes, sameExitCodes, sameLoad, sameError], [true, true, true, true])
    assert.deepEqual(Object.keys(declared).sort(), ['EXIT_CODES', 'SecretsError', 'config', 'load'])
    assert.deepEqual(Object.keys(declaredCjs).sort(), ['EXIT_CODES', 'SecretsError', 'config', 'load'])
    assert.equal(lib.EXIT_CODES.NOT_FOUND, 5)
  })

  it('refuses an unknown option as USAGE, naming it and the known ones', async () => {
    const e = await rejection(lib.load({cwd: empty, bogus: true} as Api.LoadOptions))
    assert.equal(e.code, 'USAGE')
    assert.equal(e.exitCode, 2)
    assert.equal(e.message, 'load()/config() has no option "bogus".')
    assert.equal(
      e.suggestions[0],
      'Known options: cwd, env, config, only, allowMissing, fallback, maxAge, offline, program, onWarning.',
    )
  })

  it('refuses options of the wrong type or a bad duration as USAGE before looking for secrets.yaml', async () => {
    const only = await rejection(lib.load({cwd: empty, only: 'DB_PASSWORD'} as unknown as Api.LoadOptions))
    assert.equal(only.code, 'USAGE')
    assert.equal(only.message, 'The option only of load()/config() must be an array of strings.')
    const env = await rejection(lib.load({cwd: empty, env: ''}))
    assert.equal(env.message, 'The option env of load()/config() must be a non-empty string.')
    const age = await rejection(lib.config({cwd: empty, maxAge: 'soon'}))
    assert.equal(age.code, 'USAGE')
    assert.equal(age.message, 'The option maxAge "soon" is not a duration.')
    const notObject = await rejection(lib.load('staging' as unknown as Api.LoadOptions))
    assert.equal(notObject.message, 'The options of load()/config() must be an object.')
  })

  it('fails with CONFIG_NOT_FOUND (exit 3) where no secrets.yaml is found', async () => {
    const e = await rejection(lib.load({cwd: empty, config: join(empty, 'secrets.yaml')}))
    assert.equal(e.code, 'CONFIG_NOT_FOUND')
    assert.equal(e.exitCode, 3)
  })

  it('instanceof SecretsError holds across copies of the class (the CommonJS entry bundles its own)', () => {
    const brand = Symbol.for('secrets-cli.SecretsError')
    const fromOtherCopy = Object.defineProperty(new Error('x'), brand, {value: true})
    assert.ok(fromOtherCopy instanceof CoreSecretsError)
    assert.ok(!(new Error('x') instanceof CoreSecretsError))
    assert.ok(!((null as unknown as object) instanceof CoreSecretsError))
  })
})

describe('assignToProcess (config())', () => {
  it("assigns every value, warning as exec does only where a different value was set: the secret's wins", () => {
    const names = ['X_LIB_TEST_SAME', 'X_LIB_TEST_OTHER', 'X_LIB_TEST_NEW']
    const [same, other, fresh] = names
    process.env[same] = 'one'
    process.env[other] = 'parent'
    delete process.env[fresh]
    const warnings: string[] = []
    try {
      assignToProcess({[same]: 'one', [other]: 'secret', [fresh]: 'new'}, (m) => warnings.push(m))
      assert.deepEqual(
        names.map((n) => process.env[n]),
        ['one', 'secret', 'new'],
      )
      assert.deepEqual(warnings, [`${other} is set in your environment too; the secret's value is used.`])
    } finally {
      for (const n of names) delete process.env[n]
    }
  })
})
