import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {parseConfig} from '../../../src/core/config/load.js'
import {parseReference} from '../../../src/core/reference.js'
import {SecretsError} from '../../../src/errors.js'
import {toSecretsError} from '../../../src/providers/vault/errors.js'
import {isLoopback, parseVersionParam, resolveSettings} from '../../../src/providers/vault/settings.js'

function configError(text: string): string {
  try {
    parseConfig(text, '/p/secrets.yaml')
  } catch (error) {
    assert.ok(error instanceof SecretsError)
    assert.equal(error.code, 'CONFIG_INVALID')
    return error.message
  }
  assert.fail('expected CONFIG_INVALID')
}

describe('vault settings in secrets.yaml', () => {
  it('accepts the documented settings, nested auth and pinned kv versions', () => {
    const c = parseConfig(
      [
        'providers:',
        '  vault: {type: vault, auth: {method: approle}}',
        '  vault-ci: {type: vault, auth: {method: jwt, role: ci, tokenFile: /run/ci/id-token}}',
        '  vault-k8s: {type: vault, address: https://vault:8200, namespace: team-a, timeout: 5, retries: 1, kv: {secret: 2, legacy/kv: 1}, auth: {method: kubernetes, role: app, mount: k8s}}',
        'env:',
        '  DB: vault-ci://secret/app#db?version=3',
      ].join('\n'),
      '/p/secrets.yaml',
    )
    assert.deepEqual(c.providers.get('vault-k8s')?.settings, {
      type: 'vault',
      address: 'https://vault:8200',
      namespace: 'team-a',
      timeout: 5,
      retries: 1,
      kv: {secret: 2, 'legacy/kv': 1},
      auth: {method: 'kubernetes', role: 'app', mount: 'k8s'},
    })
    assert.deepEqual(c.env.get('DB')?.ref, {
      alias: 'vault-ci',
      path: 'secret/app',
      field: 'db',
      params: {version: '3'},
      raw: 'vault-ci://secret/app#db?version=3',
    })
  })

  it('rejects credentials nested under auth, naming the line and field', () => {
    assert.equal(
      configError('providers:\n  vault:\n    type: vault\n    auth:\n      method: approle\n      secretId: abc\n'),
      '/p/secrets.yaml:6: `providers.vault.auth.secretId` looks like a credential; secrets.yaml never holds secrets or credentials. Provide it through the environment (VAULT_TOKEN, VAULT_ROLE_ID/VAULT_SECRET_ID or a token file).',
    )
    assert.match(
      configError('providers:\n  vault: {type: vault, auth: {method: token, token: hvs.x}}\n'),
      /`providers\.vault\.auth\.token` looks like a credential/,
    )
  })

  it('rejects unknown methods, fields and kv versions', () => {
    assert.equal(
      configError('providers:\n  vault: {type: vault, auth: {method: ldap}}\n'),
      '/p/secrets.yaml:2: `providers.vault.auth.method` must be one of token, approle, jwt, kubernetes.',
    )
    assert.equal(
      configError('providers:\n  vault: {type: vault, auth: {method: jwt, rol: x}}\n'),
      '/p/secrets.yaml:2: `providers.vault.auth.rol` unknown setting for `auth`; known settings: method, mount, role, tokenFile, roleIdFile, secretIdFile.',
    )
    assert.equal(
      configError('providers:\n  vault: {type: vault, kv: {secret: 3}}\n'),
      '/p/secrets.yaml:2: `providers.vault.kv.secret` must be one of 1, 2.',
    )
    assert.equal(
      configError('providers:\n  vault: {type: vault, auth: approle}\n'),
      '/p/secrets.yaml:2: `providers.vault.auth` must be a mapping (settings: method, mount, role, tokenFile, roleIdFile, secretIdFile).',
    )
    assert.match(
      configError('providers:\n  vault: {type: vault, adress: https://x}\n'),
      /`providers\.vault\.adress` unknown setting for a vault provider; known settings: address, namespace, timeout, retries, caCert, caPath, clientCert, clientKeyFile, tlsServerName, kv, auth\./,
    )
  })
})

describe('vault settings resolution', () => {
  it('VAULT_* variables win over secrets.yaml; defaults are 10 s and 3 retries', () => {
    const s = resolveSettings(
      'vault',
      {address: 'https://file:8200', namespace: 'from-file', auth: {method: 'jwt', role: 'ci', tokenFile: 'ci/token'}},
      {VAULT_ADDR: 'https://env:8200/', VAULT_NAMESPACE: 'from-env'},
      '/proj',
    )
    assert.equal(s.address, 'https://env:8200')
    assert.equal(s.namespace, 'from-env')
    assert.equal(s.timeoutMs, 10_000)
    assert.equal(s.retries, 3)
    assert.deepEqual(s.auth, {
      method: 'jwt',
      mount: 'jwt',
      role: 'ci',
      tokenFile: '/proj/ci/token',
      roleIdFile: undefined,
      secretIdFile: undefined,
    })
    const t = resolveSettings(
      'vault',
      {address: 'https://file:8200', timeout: 2.5, retries: 0, auth: {method: 'approle', mount: '/auth/ci-approle/'}},
      {},
      '/proj',
    )
    assert.deepEqual([t.address, t.timeoutMs, t.retries, t.auth.mount], ['https://file:8200', 2500, 0, 'ci-approle'])
  })

  it('refuses plain http:// except to loopback', () => {
    assert.throws(
      () => resolveSettings('vault', {}, {VAULT_ADDR: 'http://10.0.0.5:8200'}, '/p'),
      (e: SecretsError) =>
        e.code === 'CONFIG_INVALID' && /Refusing plain http:\/\/ for Vault at 10\.0\.0\.5:8200/.test(e.message),
    )
    for (const a of ['http://127.0.0.1:8200', 'http://localhost:8200', 'http://[::1]:8200'])
      assert.equal(resolveSettings('vault', {}, {VAULT_ADDR: a}, '/p').address, a)
    assert.deepEqual(['127.1.2.3', 'localhost', '[::1]', '128.0.0.1', 'vault', '127.0.0.1.nip.io'].map(isLoopback), [
      true,
      true,
      true,
      false,
      false,
      false,
    ])
  })

  it('jwt and kubernetes need a role; VAULT_SKIP_VERIFY=0 or false does not skip', () => {
    assert.throws(
      () => resolveSettings('v', {auth: {method: 'kubernetes'}}, {}, '/p'),
      /Provider v uses kubernetes auth but names no role\./,
    )
    assert.equal(resolveSettings('v', {}, {VAULT_SKIP_VERIFY: 'false'}, '/p').tls.skipVerify, false)
    assert.equal(resolveSettings('v', {}, {VAULT_SKIP_VERIFY: '0'}, '/p').tls.skipVerify, false)
    assert.equal(resolveSettings('v', {}, {VAULT_SKIP_VERIFY: '1'}, '/p').tls.skipVerify, true)
    assert.throws(
      () => resolveSettings('v', {}, {VAULT_CLIENT_CERT: '/x.pem'}, '/p'),
      /needs both a client certificate and its key/,
    )
  })

  it('?version must be a positive whole number', () => {
    const ref = parseReference('vault://secret/app#k?version=2')
    assert.equal(parseVersionParam(ref.params.version, ref.raw), 2)
    assert.equal(parseVersionParam(undefined, ref.raw), undefined)
    for (const bad of ['0', '-1', 'latest', '1.5'])
      assert.throws(
        () => parseVersionParam(bad, 'vault://x/y'),
        (e: SecretsError) => e.code === 'REFERENCE_INVALID',
      )
  })
})

describe('vault error translation', () => {
  const ctx = {op: 'read', path: 'secret/data/app', ref: 'vault://secret/app#k', address: 'https://v:8200'}
  const api = (statusCode: number, errors: string[]) =>
    Object.assign(new Error(errors[0] ?? `Status ${statusCode}`), {response: {statusCode, body: {errors}}})

  it('maps statuses to the error tree, never echoing a credential', () => {
    const denied = toSecretsError(api(403, ['1 error occurred:\n\t* permission denied\n\n']), ctx)
    assert.deepEqual(
      [denied.code, denied.exitCode, denied.message],
      ['PERMISSION_DENIED', 6, 'Vault denied read on secret/data/app (vault://secret/app#k): permission denied.'],
    )
    assert.deepEqual(
      [toSecretsError(api(404, []), ctx).code, toSecretsError(api(404, []), ctx).exitCode],
      ['NOT_FOUND', 5],
    )
    const cas = toSecretsError(api(400, ['check-and-set parameter did not match the current version']), ctx)
    assert.deepEqual([cas.code, cas.exitCode], ['CONFLICT', 11])
    for (const status of [429, 500, 502, 503]) {
      const e = toSecretsError(api(status, []), ctx)
      assert.deepEqual([e.code, e.exitCode, e.retryable], ['UNAVAILABLE', 9, true])
    }
    const leaky = toSecretsError(api(400, ['invalid token hvs.SECRETTOKEN123']), ctx, ['hvs.SECRETTOKEN123'])
    assert.equal(leaky.message, 'Vault rejected read on secret/data/app (400): invalid token <redacted>.')
    assert.deepEqual(leaky.cause, {status: 400, code: undefined})
  })

  it('names TLS problems', () => {
    const e = toSecretsError(
      Object.assign(new Error('self-signed certificate in certificate chain'), {code: 'SELF_SIGNED_CERT_IN_CHAIN'}),
      ctx,
    )
    assert.deepEqual([e.code, e.retryable], ['UNAVAILABLE', false])
    assert.equal(
      e.message,
      'TLS error talking to Vault at https://v:8200: the server certificate chains to a CA that is not trusted (SELF_SIGNED_CERT_IN_CHAIN).',
    )
    const timeout = toSecretsError(Object.assign(new Error('timeout of 10000ms exceeded'), {code: 'ECONNABORTED'}), ctx)
    assert.equal(timeout.message, 'Vault at https://v:8200 did not answer read secret/data/app in time.')
  })
})
