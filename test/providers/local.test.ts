import {after, before, describe} from 'node:test'

import {Sandbox} from '../helpers/cli.js'
import {conformance} from './conformance.js'

describe('local provider conformance', () => {
  const sb = new Sandbox()
  before(() => sb.init())
  after(() => sb.cleanup())
  conformance({alias: 'local', project: () => ({cwd: sb.project, env: sb.env()}), refFor: (name) => `local://${name}`})
})
