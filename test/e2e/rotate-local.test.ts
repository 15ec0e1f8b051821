import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {after, before, describe} from 'node:test'

import {Sandbox} from '../helpers/cli.js'
import {rotationSuite} from '../suites/rotation.js'

describe('rotate on the local store', () => {
  const sb = new Sandbox()
  before(async () => {
    await sb.init()
  })
  after(() => sb.cleanup())
  const names = {A: 'ROT_A', B: 'ROT_B'}
  rotationSuite(() => ({
    sb,
    env: {},
    config:
      'providers:\n  local: {type: local, path: .secrets/store.json, inject: false}\nenv:\n  A_VAR: {{REF}}\n  B_VAR: {{REF2}}\n',
    async seed(name, value) {
      await sb.run(['delete', names[name], '--yes'])
      const r = await sb.run(['set', names[name]], {input: value})
      assert.equal(r.code, 0, r.stderr)
      return `local://${names[name]}`
    },
    async pendingLeft(name) {
      const store = JSON.parse(readFileSync(sb.storeFile, 'utf8'))
      return store.secrets[names[name]].versions.some((v: {state?: string}) => v.state === 'pending')
    },
  }))
})
