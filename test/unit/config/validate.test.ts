import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {parseConfig, parseConfigFull} from '../../../src/core/config/load.js'
import {selectEnvironment} from '../../../src/core/config/select.js'
import {SecretsError} from '../../../src/errors.js'

const FILE = '/p/secrets.yaml'

function messageOf(text: string, parse = parseConfig): string {
  try {
    parse(text, FILE)
  } catch (error) {
    assert.ok(error instanceof SecretsError)
    assert.equal(error.code, 'CONFIG_INVALID')
    assert.equal(error.exitCode, 3)
    return error.message
  }
  assert.fail('expected the config to be rejected')
}

describe('secrets.yaml validation', () => {
  it('accepts the documented contract shape', () => {
    const c = parseConfig(
      `providers:
  local: {type: local, path: .secrets/store.json}
  vault: {type: vault}
  aws:   {type: aws, region: eu-west-1}
  azure: {type: azure, vaultUrl: https://acme.vault.azure.net}
env:
  DATABASE_URL: vault://secret/myapp/db#url
  STRIPE_KEY: aws://prod/stripe#api_key
  SENTRY_DSN: azure://sentry-dsn
environments:
  staging:
    env:
      DATABASE_URL: vault://secret/myapp-staging/db#url
`,
      FILE,
    )
    assert.deepEqual([...c.providers.keys()], ['local', 'vault', 'aws', 'azure'])
    assert.equal(c.providers.get('aws')?.settings.region, 'eu-west-1')
    assert.equal(c.env.get('STRIPE_KEY')?.ref.field, 'api_key')
    assert.equal(c.env.get('SENTRY_DSN')?.line, 9)
    assert.equal(selectEnvironment(c, undefined).get('DATABASE_URL')?.ref.path, 'secret/myapp/db')
    const staging = selectEnvironment(c, 'staging')
    assert.equal(staging.get('DATABASE_URL')?.ref.path, 'secret/myapp-staging/db')
    assert.equal(staging.get('STRIPE_KEY')?.ref.raw, 'aws://prod/stripe#api_key')
    assert.throws(() => selectEnvironment(c, 'prod'), {
      code: 'CONFIG_INVALID',
      message: 'Environment "prod" is not defined in /p/secrets.yaml.',
    })
  })

  const cases: Array<[string, string, string]> = [
    [
      'bad YAML',
      'providers:\n  local: {type: local\nenv: {}\n',
      '/p/secrets.yaml:3: invalid YAML: Flow map in block collection must be sufficiently indented and end with a }',
    ],
    [
      'unknown type',
      'providers:\n  local: {type: local}\n  v: {type: vaultx}\n',
      '/p/secrets.yaml:3: `providers.v.type` unknown provider type "vaultx"; one of local, vault, aws, azure.',
    ],
    [
      'a credential',
      'providers:\n  vault:\n    type: vault\n    token: abc\n',
      '/p/secrets.yaml:4: `providers.vault.token` looks like a credential; secrets.yaml never holds secrets or credentials. Provide it through the environment (VAULT_TOKEN, VAULT_ROLE_ID/VAULT_SECRET_ID or a token file).',
    ],
    [
      'an undeclared alias',
      'providers:\n  local: {type: local}\nenv:\n  DB: vault://secret/x#y\n',
      '/p/secrets.yaml:4: `env.DB` uses provider alias "vault", which is not declared under `providers:` (declared: local).',
    ],
    [
      'a value instead of a reference',
      'providers:\n  local: {type: local}\nenv:\n  DB: hunter2-password\n',
      '/p/secrets.yaml:4: `env.DB` is not a reference (expected `alias://path`, e.g. `local://NAME`); secret values never go in this file.',
    ],
    [
      'a bad variable name',
      'providers:\n  local: {type: local}\nenv:\n  1DB: local://x\n',
      '/p/secrets.yaml:4: `env.1DB` variable names are letters, digits and "_", not starting with a digit.',
    ],
    [
      'an unknown top-level field',
      'providers:\n  local: {type: local}\nsecrets: {}\n',
      '/p/secrets.yaml:3: `secrets` is not a known field here (expected version, providers, env, files, environments, cache).',
    ],
    [
      'a duplicate key',
      'providers:\n  local: {type: local}\n  local: {type: local}\n',
      '/p/secrets.yaml:3: invalid YAML: Map keys must be unique',
    ],
    [
      'an unknown local setting',
      'providers:\n  local: {type: local, pth: x}\n',
      '/p/secrets.yaml:2: `providers.local.pth` unknown setting for a local provider; known settings: path, inject.',
    ],
    [
      'a bad reference in an environment',
      'providers:\n  local: {type: local}\nenvironments:\n  prod:\n    env:\n      X: nope://y\n',
      '/p/secrets.yaml:6: `environments.prod.env.X` uses provider alias "nope", which is not declared under `providers:` (declared: local).',
    ],
    ['an empty file', '', '/p/secrets.yaml: the file is empty; it needs at least a `providers:` section.'],
    [
      'a list at the top',
      '- a\n- b\n',
      '/p/secrets.yaml:1: the top level must be a mapping with `providers:`, `env:` and `environments:`.',
    ],
    [
      'an upper-case alias',
      'providers:\n  Local: {type: local}\n',
      '/p/secrets.yaml:2: `providers.Local` provider alias "Local" must be lowercase letters, digits and "-", starting with a letter (it is the scheme of references).',
    ],
    [
      'a wrong setting type',
      'providers:\n  local: {type: local, inject: "yes"}\n',
      '/p/secrets.yaml:2: `providers.local.inject` must be a boolean.',
    ],
    [
      'a SECRETS_ variable',
      'providers:\n  local: {type: local}\nenv:\n  SECRETS_AGE_KEY: local://K\n',
      '/p/secrets.yaml:4: `env.SECRETS_AGE_KEY` names starting with SECRETS_ configure secrets itself and are never passed to a child.',
    ],
    [
      'a credential inside a nested setting',
      'providers:\n  azure:\n    type: azure\n    auth: {method: client-secret, clientSecret: abc}\n',
      '/p/secrets.yaml:4: `providers.azure.auth.clientSecret` looks like a credential; secrets.yaml never holds secrets or credentials. Provide it through the environment (AZURE_CLIENT_ID/AZURE_TENANT_ID with AZURE_CLIENT_SECRET, a certificate or a federated token file).',
    ],
    [
      'an unknown nested setting',
      'providers:\n  azure:\n    type: azure\n    auth: {method: client-secret, flavour: x}\n',
      '/p/secrets.yaml:4: `providers.azure.auth.flavour` unknown setting for `auth`; known settings: method, tenantId, clientId, certificatePath, tokenFilePath.',
    ],
    [
      'a scalar where a mapping belongs',
      'providers:\n  azure:\n    type: azure\n    auth: client-secret\n',
      '/p/secrets.yaml:4: `providers.azure.auth` must be a mapping (settings: method, tenantId, clientId, certificatePath, tokenFilePath).',
    ],
    [
      'a string where a list belongs',
      'providers:\n  azure:\n    type: azure\n    vaults: other=https://o.vault.azure.net\n',
      '/p/secrets.yaml:4: `providers.azure.vaults` must be a list of strings.',
    ],
    [
      'a file mode others can read',
      'providers:\n  local: {type: local}\nfiles:\n  CERT: {ref: local://C, mode: "0640"}\n',
      '/p/secrets.yaml:4: `files.CERT.mode` 0640 lets group or others read the secret; use owner-only bits such as "0400" or "0600".',
    ],
    [
      'a file mode that is not octal',
      'providers:\n  local: {type: local}\nfiles:\n  CERT: {ref: local://C, mode: rw}\n',
      '/p/secrets.yaml:4: `files.CERT.mode` must be an octal mode as a quoted string, e.g. "0400" or "0600".',
    ],
    [
      'a file name with a slash',
      'providers:\n  local: {type: local}\nfiles:\n  CERT: {ref: local://C, name: ../x}\n',
      '/p/secrets.yaml:4: `files.CERT.name` must be a plain file name (letters, digits, "_", "." and "-"; no "/"), e.g. `cert.pem`.',
    ],
    [
      'two files with one name',
      'providers:\n  local: {type: local}\nfiles:\n  A: {ref: local://C, name: x.pem}\n  B: {ref: local://D, name: x.pem}\n',
      '/p/secrets.yaml:5: `files.B` writes the file "x.pem", as A does; give one of them another `name:`.',
    ],
    [
      'a variable that is both a value and a file',
      'providers:\n  local: {type: local}\nenv:\n  CERT: local://C\nfiles:\n  CERT: local://C\n',
      '/p/secrets.yaml:6: `files.CERT` CERT is also under `env`; a variable is either a value or a file, not both.',
    ],
    [
      'a value instead of a file reference',
      'providers:\n  local: {type: local}\nfiles:\n  CERT: {ref: "-----BEGIN CERT"}\n',
      '/p/secrets.yaml:4: `files.CERT.ref` is not a reference (expected `alias://path`, e.g. `local://NAME`); secret values never go in this file.',
    ],
    [
      'a cache maxAge that is not a duration',
      'providers:\n  local: {type: local}\ncache: {maxAge: soon}\n',
      '/p/secrets.yaml:3: `cache.maxAge` must be a duration such as 30m, 24h or 7d.',
    ],
    [
      'an unknown cache setting',
      'providers:\n  local: {type: local}\ncache:\n  dir: /tmp\n',
      '/p/secrets.yaml:4: `cache.dir` is not a known field here (expected maxAge).',
    ],
    [
      'a template that is not a path',
      'providers:\n  local: {type: local}\nfiles:\n  CONF: {template: 3}\n',
      '/p/secrets.yaml:4: `files.CONF.template` must be the path of a template file, relative to secrets.yaml.',
    ],
    [
      'an unknown file setting',
      'providers:\n  local: {type: local}\nfiles:\n  CERT: {ref: local://C, owner: me}\n',
      '/p/secrets.yaml:4: `files.CERT.owner` is not a known field here (expected ref, template, mode, name, params).',
    ],
  ]
  for (const [what, text, expected] of cases) {
    it(`rejects ${what}, naming file, line and field`, () => {
      assert.equal(messageOf(text), expected)
      assert.equal(messageOf(text, parseConfigFull), expected)
    })
  }

  it('points at the character of a malformed reference, with file, line and field', () => {
    assert.equal(
      messageOf('providers:\n  local: {type: local}\nenv:\n  DB: local:/x\n'),
      'Invalid reference in /p/secrets.yaml:4 (env.DB): expected "://" after the provider alias at character 6:\n  "local:/x"\n        ^',
    )
  })

  it('never echoes a value that is not a reference', () => {
    assert.ok(!messageOf('providers:\n  local: {type: local}\nenv:\n  DB: "hunter2:pw"\n').includes('hunter2'))
  })

  it('params: lands on the reference of env, files and environment entries, apart from the query', () => {
    const text = `providers:
  vault: {type: vault}
env:
  CRT: {ref: 'vault://pki/issue/web?ttl=1h#certificate', params: {common_name: app.internal, exclude_cn_from_sans: true}}
files:
  KEY: {ref: 'vault://pki/issue/web#private_key', params: {common_name: app.internal, ttl: 3600}}
environments:
  eu:
    env:
      CRT: {ref: 'vault://pki/issue/web#certificate', params: {common_name: eu.app.internal}}
`
    for (const parse of [parseConfig, parseConfigFull]) {
      const c = parse(text, FILE)
      const crt = c.env.get('CRT')!.ref
      assert.deepEqual(
        [crt.params, crt.entryParams],
        [{ttl: '1h'}, {common_name: 'app.internal', exclude_cn_from_sans: true}],
      )
      assert.deepEqual(c.files.get('KEY')!.ref!.entryParams, {common_name: 'app.internal', ttl: 3600})
      assert.deepEqual(selectEnvironment(c, 'eu').get('CRT')!.ref.entryParams, {common_name: 'eu.app.internal'})
    }
  })

  it('params: is refused with the file, line and field: on a local reference, twice, or not a mapping', () => {
    assert.equal(
      messageOf('providers:\n  local: {type: local}\nenv:\n  A: {ref: local://A, params: {common_name: x}}\n'),
      '/p/secrets.yaml:4: `env.A.params` is only for HashiCorp Vault references (the parameters of the write that issues a dynamic credential, e.g. pki/issue/<role> or aws/sts/<role>); local://A is a local reference, which takes none: remove `params:`.',
    )
    assert.match(
      messageOf('providers:\n  vault: {type: vault}\nenv:\n  A: {ref: "vault://x/y?ttl=1", params: {ttl: 2}}\n'),
      /^\/p\/secrets\.yaml:4: `env\.A\.params\.ttl` is also in the query of vault:\/\/x\/y\?ttl=1; give each parameter in one place/,
    )
    assert.match(
      messageOf('providers:\n  vault: {type: vault}\nfiles:\n  A: {ref: "vault://x/y", params: common_name}\n'),
      /`files\.A\.params` must be a mapping of parameter names to values/,
    )
    assert.match(
      messageOf('providers:\n  vault: {type: vault}\nenv:\n  A: {ref: "vault://x/y", params: {Common-Name: x}}\n'),
      /`env\.A\.params\.Common-Name` parameter names are lowercase letters, digits and "_"/,
    )
  })
})
