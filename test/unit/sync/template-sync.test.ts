import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {destinationOf, formatPlan} from '../../../src/core/sync/sync.js'
import {parseTemplate} from '../../../src/core/exec/template.js'
import {SecretValue} from '../../../src/core/secret-value.js'
import {SecretsError} from '../../../src/errors.js'

function failure(text: string): string {
  try {
    parseTemplate(text, 't.tpl')
  } catch (error) {
    assert.ok(error instanceof SecretsError)
    assert.equal(error.code, 'CONFIG_INVALID')
    return error.message
  }
  assert.fail(`parsed: ${JSON.stringify(text)}`)
}

describe('template parser', () => {
  it('splits text and placeholders, with positions of each function', () => {
    assert.deepEqual(parseTemplate('a {{ ref "vault://s/p#k" }}\n{{env "HOME"}}{{ "{{" }}}} z', 't'), [
      {kind: 'text', text: 'a '},
      {kind: 'ref', arg: 'vault://s/p#k', line: 1, col: 6},
      {kind: 'text', text: '\n'},
      {kind: 'env', arg: 'HOME', line: 2, col: 3},
      {kind: 'text', text: '{{'},
      {kind: 'text', text: '}} z'},
    ])
    assert.deepEqual(parseTemplate('{{ "a \\"q\\" \\\\ b" }}', 't'), [{kind: 'text', text: 'a "q" \\ b'}])
    assert.deepEqual(parseTemplate('', 't'), [])
    assert.deepEqual(parseTemplate('no placeholders } }', 't'), [{kind: 'text', text: 'no placeholders } }'}])
  })

  it('rejects everything else with file:line:col', () => {
    assert.equal(
      failure('x\n {{ secret "a" }}'),
      't.tpl:2:5: unknown function "secret" in a placeholder (known: ref, env).',
    )
    assert.equal(failure('ab {{ ref "a"'), 't.tpl:1:4: unterminated placeholder: "{{" without a closing "}}".')
    assert.equal(failure('{{ }}'), 't.tpl:1:4: expected a function (ref, env) or a quoted string.')
    assert.equal(failure('{{ref"a"}}'), 't.tpl:1:6: expected a space and a quoted argument after ref.')
    assert.equal(failure('{{ ref }}'), 't.tpl:1:8: expected a quoted string, found "}}".')
    assert.equal(failure('{{ env "a\\n" }}'), 't.tpl:1:10: unknown escape in a string (only \\" and \\\\).')
    assert.equal(failure('{{ env "a\n" }}'), 't.tpl:1:8: unterminated string in a placeholder.')
    assert.equal(failure('{{ env "A" | upper }}'), 't.tpl:1:12: unexpected "|", expected "}}".')
  })
})

describe('sync helpers', () => {
  it('maps a variable to its destination reference', () => {
    assert.equal(destinationOf('local', 'DB_PASS'), 'local://DB_PASS')
    assert.equal(destinationOf('aws://prod/', 'DB_PASS'), 'aws://prod/DB_PASS')
    assert.equal(destinationOf('vault://secret/app', 'DB_PASS'), 'vault://secret/app#DB_PASS')
  })

  it('formats the diff with names, references and versions only', () => {
    const plan = {
      from: 'vault',
      to: 'local',
      values: new Map([['A', new SecretValue('CANARY-diff-1')]]),
      items: [
        {name: 'A', from: 'vault://s/app#a', fromVersion: '3', to: 'local://A', status: 'add' as const},
        {
          name: 'LONG_NAME',
          from: 'vault://s/app#long',
          fromVersion: '3',
          to: 'local://LONG_NAME',
          toVersion: '2',
          status: 'change' as const,
        },
        {name: 'B', from: 'vault://s/b', to: 'local://B', toVersion: '1', status: 'same' as const},
      ],
    }
    assert.deepEqual(formatPlan(plan), [
      '+ A          vault://s/app#a (v3)     → local://A (new)',
      '~ LONG_NAME  vault://s/app#long (v3)  → local://LONG_NAME (v2)',
      '= B          vault://s/b              = local://B (v1)',
    ])
    assert.ok(!JSON.stringify(plan).includes('CANARY'))
  })
})
