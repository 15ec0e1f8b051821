import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'

import {ROOT, Sandbox} from '../helpers/cli.js'

describe('secrets schema', () => {
  const sb = new Sandbox()
  after(() => sb.cleanup())

  it('prints exactly the shipped secrets.schema.json, and init points editors at that file', async () => {
    const printed = await sb.run(['schema'])
    assert.equal(printed.code, 0, printed.stderr)
    assert.equal(printed.stdout, readFileSync(join(ROOT, 'secrets.schema.json'), 'utf8'))
    assert.equal(printed.stderr, '')
    await sb.init()
    const first = readFileSync(join(sb.project, 'secrets.yaml'), 'utf8').split('\n')[0]
    assert.equal(first, `# yaml-language-server: $schema=${join(ROOT, 'secrets.schema.json')}`)
  })
})
