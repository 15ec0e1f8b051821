import {describe} from 'node:test'

import {conformance} from '../../suites/conformance.js'
import {MemoryFixture} from './fixture.js'

describe('memory provider conformance (read-write)', () => {
  conformance(new MemoryFixture('read-write'))
})

describe('memory provider conformance (read-only)', () => {
  conformance(new MemoryFixture('read-only'))
})
