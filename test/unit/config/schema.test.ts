import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {basename, dirname, join} from 'node:path'
import {describe, it} from 'node:test'

import {CORE_SCHEMA, load as loadYaml} from 'js-yaml'

import {parseConfig} from '../../../src/core/config/load.js'
import {configSchema} from '../../../src/core/config/schema.js'
import {schemaLocation} from '../../../src/core/setup/init.js'
import {SecretsError} from '../../../src/errors.js'
import {ROOT} from '../../helpers/cli.js'

const require = createRequire(import.meta.url)
const Ajv2020 = require('ajv/dist/2020') as new (o: object) => {compile: (s: object) => (d: unknown) => boolean}

const P = 'providers:\n  local: {type: local, path: .secrets/store.json}\n  vault: {type: vault}\n'

/**
 * The corpus: every config the validator accepts or refuses, with the message it gives. `cli` is the
 * CLI's message (a pattern), or undefined for a valid config. `needsWholeFile` marks the rules a JSON
 * Schema cannot state (they compare one part of the file with another): the schema accepts those, and
 * the test checks that exactly these differ.
 */
const CORPUS: Array<{name: string; yaml: string; cli?: RegExp; needsWholeFile?: true}> = [
  {name: 'minimal', yaml: P},
  {name: 'providers only, empty sections', yaml: `version: 1\n${P}env:\nfiles:\nenvironments:\ncache:\n`},
  {
    name: 'everything',
    yaml: `${P}  aws: {type: aws, region: eu-west-1}\nenv:\n  DB: vault://secret/app#db?version=2\n  API: {ref: 'local://API', rotate: {every: 30d, generate: {type: password, length: 40, classes: [lower, digit], symbols: '!#'}, verify: ./check}}\n  HEX: {ref: local://HEX, rotate: {every: 1w2d, generate: hex}}\n  NORULE: {ref: local://N, rotate: null}\nfiles:\n  CERT: {ref: local://CERT, mode: '0400', name: cert.pem}\n  CONF: {template: conf.tpl, mode: 600}\n  RAW: local://RAW\nenvironments:\n  staging.eu:\n    env: {DB: 'vault://secret/staging?version=1#db'}\n    files: {KEY: local://K}\n  empty: {}\ncache: {maxAge: 24h}\n`,
  },
  {name: 'empty file', yaml: '', cli: /the file is empty; it needs at least a `providers:` section/},
  {name: 'a list', yaml: '- a\n', cli: /the top level must be a mapping/},
  {name: 'unknown top-level field', yaml: `${P}secrets: {}\n`, cli: /`secrets` is not a known field here/},
  {name: 'version 2', yaml: `version: 2\n${P}`, cli: /`version` must be 1/},
  {name: 'providers a list', yaml: 'providers: [local]\n', cli: /`providers` must be a mapping of alias/},
  {name: 'bad alias', yaml: 'providers:\n  Local: {type: local}\n', cli: /provider alias "Local" must be lowercase/},
  {
    name: 'provider not a mapping',
    yaml: 'providers:\n  local: local\n',
    cli: /must be a mapping with at least `type:`/,
  },
  {name: 'no type', yaml: 'providers:\n  local: {path: x}\n', cli: /`providers.local.type` is required/},
  {name: 'unknown type', yaml: 'providers:\n  x: {type: gcp}\n', cli: /unknown provider type "gcp"/},
  {
    name: 'unknown setting',
    yaml: 'providers:\n  local: {type: local, colour: red}\n',
    cli: /unknown setting for a local provider/,
  },
  {name: 'credential setting', yaml: 'providers:\n  vault: {type: vault, token: x}\n', cli: /looks like a credential/},
  {
    name: 'credential setting, any case',
    yaml: 'providers:\n  vault: {type: vault, Token: x}\n',
    cli: /looks like a credential/,
  },
  {
    name: 'setting of the wrong type',
    yaml: 'providers:\n  local: {type: local, inject: maybe}\n',
    cli: /`providers.local.inject` must be a boolean/,
  },
  {name: 'env a list', yaml: `${P}env: [a]\n`, cli: /`env` must be a mapping of VARIABLE_NAME to reference/},
  {name: 'bad variable name', yaml: `${P}env:\n  1DB: local://X\n`, cli: /variable names are letters, digits and "_"/},
  {
    name: 'SECRETS_ variable',
    yaml: `${P}env:\n  SECRETS_X: local://X\n`,
    cli: /names starting with SECRETS_ configure secrets itself/,
  },
  {
    name: 'a value, not a reference',
    yaml: `${P}env:\n  DB: hunter2\n`,
    cli: /is not a reference \(expected `alias:\/\/path`/,
  },
  {name: 'a number', yaml: `${P}env:\n  DB: 5\n`, cli: /must be a reference string such as `local:\/\/NAME`/},
  {name: 'malformed reference', yaml: `${P}env:\n  DB: local://a//b\n`, cli: /empty path segment/},
  {name: 'reference with a trailing slash', yaml: `${P}env:\n  DB: local://a/\n`, cli: /path ends with "\/"/},
  {name: 'reference with two fields', yaml: `${P}env:\n  DB: vault://a#b#c\n`, cli: /a second "#"/},
  {
    name: 'reference with an empty query value',
    yaml: `${P}env:\n  DB: vault://a?version=\n`,
    cli: /empty value for parameter/,
  },
  {name: 'reference with a space', yaml: `${P}env:\n  DB: 'local://a b'\n`, cli: /unexpected " "/},
  {
    name: 'parameter given twice',
    yaml: `${P}env:\n  DB: vault://a?version=1&version=2\n`,
    cli: /parameter "version" given twice/,
    needsWholeFile: true,
  },
  {
    name: 'undeclared alias',
    yaml: `${P}env:\n  DB: aws://x\n`,
    cli: /uses provider alias "aws", which is not declared/,
    needsWholeFile: true,
  },
  {
    name: 'entry with an unknown field',
    yaml: `${P}env:\n  DB: {ref: local://X, every: 1d}\n`,
    cli: /`env.DB.every` is not a known field here/,
  },
  {
    name: 'entry without ref',
    yaml: `${P}env:\n  DB: {rotate: {every: 1d}}\n`,
    cli: /`env.DB.ref` must be a reference string/,
  },
  {
    name: 'rotate a string',
    yaml: `${P}env:\n  DB: {ref: local://X, rotate: 30d}\n`,
    cli: /`env.DB.rotate` must be a mapping such as/,
  },
  {
    name: 'every not a duration',
    yaml: `${P}env:\n  DB: {ref: local://X, rotate: {every: 30 days}}\n`,
    cli: /is not a duration/,
  },
  {name: 'every zero', yaml: `${P}env:\n  DB: {ref: local://X, rotate: {every: 0d}}\n`, cli: /is not a duration/},
  {
    name: 'verify blank',
    yaml: `${P}env:\n  DB: {ref: local://X, rotate: {verify: ' '}}\n`,
    cli: /must be a shell command as a string/,
  },
  {
    name: 'generate unknown type',
    yaml: `${P}env:\n  DB: {ref: local://X, rotate: {generate: words}}\n`,
    cli: /`env.DB.rotate.generate.type` must be one of/,
  },
  {
    name: 'generate a list',
    yaml: `${P}env:\n  DB: {ref: local://X, rotate: {generate: [hex]}}\n`,
    cli: /must be a generator type/,
  },
  {
    name: 'generate unknown field',
    yaml: `${P}env:\n  DB: {ref: local://X, rotate: {generate: {type: hex, size: 3}}}\n`,
    cli: /`env.DB.rotate.generate.size` is not a known field/,
  },
  {
    name: 'length too short',
    yaml: `${P}env:\n  DB: {ref: local://X, rotate: {generate: {type: hex, length: 4}}}\n`,
    cli: /must be a whole number from 8 to 4096/,
  },
  {
    name: 'length not whole',
    yaml: `${P}env:\n  DB: {ref: local://X, rotate: {generate: {type: hex, length: 9.5}}}\n`,
    cli: /must be a whole number from 8 to 4096/,
  },
  {
    name: 'uuid with length',
    yaml: `${P}env:\n  DB: {ref: local://X, rotate: {generate: {type: uuid, length: 16}}}\n`,
    cli: /does not apply to uuid/,
  },
  {
    name: 'classes for hex',
    yaml: `${P}env:\n  DB: {ref: local://X, rotate: {generate: {type: hex, classes: [lower]}}}\n`,
    cli: /applies to `type: password` only/,
  },
  {
    name: 'unknown class',
    yaml: `${P}env:\n  DB: {ref: local://X, rotate: {generate: {type: password, classes: [emoji]}}}\n`,
    cli: /must be a list of lower, upper, digit, symbol/,
  },
  {
    name: 'no classes',
    yaml: `${P}env:\n  DB: {ref: local://X, rotate: {generate: {type: password, classes: []}}}\n`,
    cli: /must be a list of lower/,
  },
  {
    name: 'symbols with a letter',
    yaml: `${P}env:\n  DB: {ref: local://X, rotate: {generate: {type: password, symbols: '!a'}}}\n`,
    cli: /must be printable ASCII punctuation/,
  },
  {
    name: 'charset too small',
    yaml: `${P}env:\n  DB: {ref: local://X, rotate: {generate: {type: password, charset: abc}}}\n`,
    cli: /at least 10 distinct printable ASCII/,
  },
  {
    name: 'charset of repeated characters',
    yaml: `${P}env:\n  DB: {ref: local://X, rotate: {generate: {type: password, charset: aaaaaaaaaaaa}}}\n`,
    cli: /at least 10 distinct printable ASCII/,
    needsWholeFile: true,
  },
  {
    name: 'charset and classes',
    yaml: `${P}env:\n  DB: {ref: local://X, rotate: {generate: {type: password, classes: [lower], charset: abcdefghijk}}}\n`,
    cli: /replaces `classes`; give one or the other/,
  },
  {name: 'files a list', yaml: `${P}files: [a]\n`, cli: /`files` must be a mapping of VARIABLE_NAME to a reference/},
  {
    name: 'files and env both',
    yaml: `${P}env:\n  K: local://K\nfiles:\n  K: local://K\n`,
    cli: /a variable is either a value or a file, not both/,
    needsWholeFile: true,
  },
  {
    name: 'file with ref and template',
    yaml: `${P}files:\n  K: {ref: local://K, template: t}\n`,
    cli: /a file holds either a secret \(`ref:`\) or a rendered template/,
  },
  {
    name: 'file with an empty template',
    yaml: `${P}files:\n  K: {template: ''}\n`,
    cli: /must be the path of a template file/,
  },
  {
    name: 'file with an unknown field',
    yaml: `${P}files:\n  K: {ref: local://K, owner: me}\n`,
    cli: /`files.K.owner` is not a known field/,
  },
  {
    name: 'file mode readable by others',
    yaml: `${P}files:\n  K: {ref: local://K, mode: '0644'}\n`,
    cli: /lets group or others read the secret/,
  },
  {
    name: 'file mode not octal',
    yaml: `${P}files:\n  K: {ref: local://K, mode: rw}\n`,
    cli: /must be an octal mode as a quoted string/,
  },
  {
    name: 'file mode not readable by the owner',
    yaml: `${P}files:\n  K: {ref: local://K, mode: '0200'}\n`,
    cli: /does not let the owner read the file/,
  },
  {
    name: 'file name with a slash',
    yaml: `${P}files:\n  K: {ref: local://K, name: a/b}\n`,
    cli: /must be a plain file name/,
  },
  {
    name: 'file without ref',
    yaml: `${P}files:\n  K: {mode: '0400'}\n`,
    cli: /`files.K.ref` must be a reference string/,
  },
  {
    name: 'two files, one name',
    yaml: `${P}files:\n  A: {ref: local://A, name: x}\n  B: {ref: local://B, name: x}\n`,
    cli: /writes the file "x", as A does/,
    needsWholeFile: true,
  },
  {
    name: 'environments a list',
    yaml: `${P}environments: [a]\n`,
    cli: /`environments` must be a mapping of environment name/,
  },
  {name: 'bad environment name', yaml: `${P}environments:\n  -x: {}\n`, cli: /environment names are letters, digits/},
  {
    name: 'environment null',
    yaml: `${P}environments:\n  x:\n`,
    cli: /must be a mapping with an `env:` and\/or `files:` section/,
  },
  {
    name: 'environment unknown field',
    yaml: `${P}environments:\n  x: {vars: {}}\n`,
    cli: /`environments.x.vars` is not a known field/,
  },
  {
    name: 'params on Vault entries (env and files)',
    yaml: `${P}env:\n  CRT: {ref: 'vault://pki/issue/web#certificate', params: {common_name: app.internal, ttl: 3600, exclude_cn_from_sans: true}}\nfiles:\n  KEY: {ref: 'vault://pki/issue/web#private_key', params: {common_name: app.internal}, mode: '0400'}\n`,
  },
  {
    name: 'params on a local reference',
    yaml: `${P}env:\n  A: {ref: local://A, params: {common_name: x}}\n`,
    cli: /`env.A.params` is only for HashiCorp Vault references .*local:\/\/A is a local reference, which takes none: remove `params:`/,
    needsWholeFile: true,
  },
  {
    name: 'params also in the query',
    yaml: `${P}env:\n  A: {ref: 'vault://pki/issue/web?common_name=a#certificate', params: {common_name: b}}\n`,
    cli: /`env.A.params.common_name` is also in the query of vault:\/\/pki\/issue\/web\?common_name=a#certificate; give each parameter in one place/,
    needsWholeFile: true,
  },
  {
    name: 'params empty',
    yaml: `${P}env:\n  A: {ref: 'vault://pki/issue/web#certificate', params: {}}\n`,
    cli: /`env.A.params` must be a mapping of parameter names to values/,
  },
  {
    name: 'params with a list value',
    yaml: `${P}env:\n  A: {ref: 'vault://pki/issue/web#certificate', params: {alt_names: [a, b]}}\n`,
    cli: /`env.A.params.alt_names` must be a string, a number or a boolean \(lists as one comma-separated string\)/,
  },
  {
    name: 'params naming a credential',
    yaml: `${P}env:\n  A: {ref: 'vault://aws/sts/deploy#access_key', params: {password: x}}\n`,
    cli: /`env.A.params.password` looks like a credential/,
  },
  {
    name: 'params on a template',
    yaml: `${P}files:\n  A: {template: a.tpl, params: {common_name: x}}\n`,
    cli: /`files.A.params` goes with `ref:`/,
  },
  {name: 'cache a string', yaml: `${P}cache: 24h\n`, cli: /`cache` must be a mapping, e.g. `cache: \{maxAge: 24h\}`/},
  {name: 'cache unknown field', yaml: `${P}cache: {ttl: 1h}\n`, cli: /`cache.ttl` is not a known field/},
  {name: 'cache maxAge bad', yaml: `${P}cache: {maxAge: soon}\n`, cli: /`cache.maxAge` must be a duration/},
]

describe('secrets.schema.json and the CLI validator agree', () => {
  const validate = new Ajv2020({allErrors: true, strict: false}).compile(configSchema())

  for (const c of CORPUS) {
    it(c.name, () => {
      let refused: SecretsError | undefined
      try {
        parseConfig(c.yaml, 'secrets.yaml')
      } catch (error) {
        if (!(error instanceof SecretsError)) throw error
        refused = error
      }
      if (c.cli === undefined) assert.equal(refused, undefined, `the CLI refused a valid config: ${refused?.message}`)
      else {
        assert.ok(refused, 'the CLI accepted an invalid config')
        assert.match(refused.message, c.cli)
        assert.ok(['CONFIG_INVALID', 'REFERENCE_INVALID'].includes(refused.code), refused.code)
      }
      const schemaAccepts = validate(loadYaml(c.yaml, {schema: CORE_SCHEMA}) ?? null)
      const cliAccepts = refused === undefined
      if (c.needsWholeFile) assert.deepEqual([cliAccepts, schemaAccepts], [false, true])
      else
        assert.equal(
          schemaAccepts,
          cliAccepts,
          `the schema ${schemaAccepts ? 'accepts' : 'refuses'} what the CLI ${cliAccepts ? 'accepts' : 'refuses'}`,
        )
    })
  }

  it('the committed secrets.schema.json is what the validator definitions give (the e2e test: and what `secrets schema` prints)', () => {
    const committed = JSON.parse(readFileSync(join(ROOT, 'secrets.schema.json'), 'utf8'))
    assert.deepEqual(
      committed,
      configSchema(),
      'stale: run `npm run build && node bin/run.js schema > secrets.schema.json`',
    )
  })
  it("init's editor line points at the shipped file: relative inside the package's project, absolute elsewhere", () => {
    // A project whose node_modules holds the package: the path is relative, the same on every clone.
    assert.equal(schemaLocation(dirname(ROOT)), `${basename(ROOT)}/secrets.schema.json`)
    // Anywhere else (a global install): the absolute path of the installed copy.
    assert.equal(schemaLocation(join(ROOT, 'test')), join(ROOT, 'secrets.schema.json'))
  })
})
