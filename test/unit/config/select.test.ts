import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {parseConfig} from '../../../src/core/config/load.js'
import {selectEnvironment, selectFiles} from '../../../src/core/config/select.js'

const FILE = '/p/secrets.yaml'

describe('secrets.yaml environments', () => {
  it('reads files: entries, and environments override them both ways', () => {
    const c = parseConfig(
      `providers:
  local: {type: local}
env:
  API: local://API
files:
  TLS_CERT: local://CERT
  SA: {ref: local://SA_JSON, mode: "0400", name: sa.json}
environments:
  prod:
    env:
      SA: local://SA_PROD_INLINE
    files:
      API: local://API_FILE
`,
      FILE,
    )
    const base = selectFiles(c, undefined)
    assert.deepEqual(
      [...base.values()].map((f) => [f.name, f.ref?.raw, f.mode.toString(8), f.fileName, f.line]),
      [
        ['TLS_CERT', 'local://CERT', '600', 'TLS_CERT', 6],
        ['SA', 'local://SA_JSON', '400', 'sa.json', 7],
      ],
    )
    const prod = selectFiles(c, 'prod')
    assert.deepEqual([...prod.keys()], ['TLS_CERT', 'API'])
    assert.deepEqual([...selectEnvironment(c, 'prod').keys()], ['SA'])
    assert.deepEqual([...selectEnvironment(c, undefined).keys()], ['API'])
  })
})
