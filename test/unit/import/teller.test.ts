import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import type {ProjectConfig} from '../../../src/core/config/types.js'
import {isTellerFile} from '../../../src/core/import/teller-config.js'
import {planTeller, renderTellerTemplates} from '../../../src/core/import/teller.js'

const emptyConfig = (): ProjectConfig => ({
  file: '/p/secrets.yaml',
  dir: '/p',
  providers: new Map([['local', {alias: 'local', type: 'local', settings: {type: 'local', path: 's.json'}}]]),
  env: new Map(),
  environments: new Map(),
  files: new Map(),
  environmentFiles: new Map(),
  rotation: new Map(),
})

describe('teller import: templates, names, aliases', () => {
  it('get_env takes the variable when set, else the default; without either it refuses', () => {
    const text = 'path: a/{{ get_env(name="STAGE", default="dev") }}/b/{{get_env(name="R")}}\n'
    assert.deepEqual(renderTellerTemplates(text, 't.yml', {STAGE: 'prod', R: 'x'}), {
      text: 'path: a/prod/b/x\n',
      used: ['STAGE (from the environment)', 'R (from the environment)'],
    })
    assert.throws(
      () => renderTellerTemplates(text, 't.yml', {}),
      /t\.yml uses get_env\(name="R"\) without a default, and R is not set/,
    )
    assert.throws(() => renderTellerTemplates('a: 1\nb: {% if x %}\n', 't.yml', {}), /t\.yml line 2 holds a template/)
  })

  it('knows teller file names and nothing else', () => {
    for (const f of [
      '.teller.yml',
      '.teller.yaml',
      'teller.yml',
      'prod.teller.yml',
      '.teller.prod.yml',
      'dir/.teller.yml',
    ])
      assert.equal(isTellerFile(f), true, f)
    for (const f of ['secrets.yaml', 'teller.json', 'storyteller.yml', '.env', 'tellers.yml'])
      assert.equal(isTellerFile(f), false, f)
  })

  it('aliases follow the alias rule and never take a declared one; bad variable names are left out by name', () => {
    const root = {
      providers: {
        local: {kind: 'hashicorp', maps: [{id: 'a', path: 'kv/x', keys: {'my-key': '==', k: 'SECRETS_X', ok: 'OK'}}]},
        '9_Vault': {kind: 'aws_secretsmanager', maps: [{id: 'b', path: '/starts/with/slash', keys: {f: 'F'}}]},
      },
    }
    const plan = planTeller('t.yml', root, emptyConfig())
    assert.deepEqual(
      plan.providers.map((p) => p.alias),
      ['local-2', 'teller-9-vault'],
    )
    assert.deepEqual(plan.env, [
      {name: 'OK', ref: 'local-2://kv/x#ok', status: 'add', from: 'providers.local.maps[a] ok'},
    ])
    assert.deepEqual(
      plan.skipped.map((s) => s.what),
      ['providers.local.maps[a] my-key', 'providers.local.maps[a] k', 'providers.9_Vault.maps[b] f'],
    )
    assert.match(plan.skipped[2].reason, /starts with "\/": write its ARN/)
  })
})
