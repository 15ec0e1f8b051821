import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {azureError, logsError, type AzureErrorContext} from '../../../src/providers/azure/errors.js'

const ctx: AzureErrorContext = {
  vault: 'https://kv.vault.azure.net',
  secret: 'db-password',
  ref: 'azure://db-password',
  op: 'read',
  login: 'client-secret for client app-1',
}

/** The shape of a RestError from @azure/core-rest-pipeline with a Key Vault error body. */
function restError(statusCode: number, code: string, message: string, inner?: string): Error {
  return Object.assign(new Error(message), {
    name: 'RestError',
    statusCode,
    code,
    details: {error: {code, message, ...(inner ? {innererror: {code: inner}} : {})}},
  })
}

describe('azure error mapping', () => {
  it('maps Key Vault statuses to codes and exit codes', () => {
    const cases: Array<[Error, string, number, RegExp]> = [
      [
        restError(404, 'SecretNotFound', 'A secret with (name/id) db-password was not found'),
        'NOT_FOUND',
        5,
        /^The secret "db-password" in vault https:\/\/kv\.vault\.azure\.net does not exist \(SecretNotFound\)\.$/,
      ],
      [
        restError(403, 'Forbidden', 'Caller is not authorized', 'ForbiddenByRbac'),
        'PERMISSION_DENIED',
        6,
        /^Access denied to the secret "db-password" in vault https:\/\/kv\.vault\.azure\.net \(client-secret for client app-1\): the identity lacks permission to read \(ForbiddenByRbac\)\.$/,
      ],
      [
        restError(403, 'Forbidden', 'Operation get is not allowed on a disabled secret.', 'SecretDisabled'),
        'PERMISSION_DENIED',
        6,
        /is disabled, so it cannot be read/,
      ],
      [
        restError(401, 'Unauthorized', 'AKV10022: Invalid audience.'),
        'PERMISSION_DENIED',
        6,
        /rejected the sign-in token .*AKV10022/,
      ],
      [restError(429, 'Throttled', 'Too many requests'), 'UNAVAILABLE', 9, /is throttling requests/],
      [restError(503, 'ServiceUnavailable', 'down'), 'UNAVAILABLE', 9, /answered 503/],
      [
        restError(409, 'Conflict', 'deleted but recoverable', 'ObjectIsDeletedButRecoverable'),
        'CONFLICT',
        11,
        /deleted but recoverable/,
      ],
    ]
    for (const [err, code, exit, message] of cases) {
      const mapped = azureError(err, ctx)
      assert.equal(mapped.code, code, err.message)
      assert.equal(mapped.exitCode, exit)
      assert.match(mapped.message, message)
    }
    assert.match(azureError(restError(403, 'Forbidden', 'x'), ctx).suggestions[0], /Key Vault Secrets User/)
    assert.match(
      azureError(restError(403, 'Forbidden', 'x'), {...ctx, op: 'write'}).suggestions[0],
      /Key Vault Secrets Officer/,
    )
  })

  it('maps sign-in failures, missing credentials, network and TLS errors', () => {
    const auth = Object.assign(new Error('x'), {
      name: 'AuthenticationError',
      statusCode: 401,
      errorResponse: {
        error: 'invalid_client',
        errorDescription:
          'Error(s): 7000215 - Timestamp: t - Description: AADSTS7000215: Invalid client secret provided. Ensure ...\r\nTrace ID: 1',
      },
    })
    const a = azureError(auth, ctx)
    assert.equal(a.code, 'PERMISSION_DENIED')
    assert.equal(
      a.message,
      'Azure sign-in for https://kv.vault.azure.net failed (client-secret for client app-1): invalid_client: AADSTS7000215: Invalid client secret provided.',
    )

    const none = Object.assign(new Error('none'), {
      name: 'AggregateAuthenticationError',
      errors: [Object.assign(new Error('a'), {name: 'CredentialUnavailableError'})],
    })
    assert.equal(azureError(none, ctx).code, 'IDENTITY_MISSING')
    assert.equal(azureError(none, ctx).exitCode, 7)

    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
      name: 'RestError',
      code: 'ECONNREFUSED',
    })
    assert.match(
      azureError(refused, ctx).message,
      /^Cannot reach vault https:\/\/kv\.vault\.azure\.net \(ECONNREFUSED\)\.$/,
    )
    const tls = Object.assign(new Error('self-signed certificate in certificate chain'), {
      name: 'RestError',
      code: 'SELF_SIGNED_CERT_IN_CHAIN',
    })
    const t = azureError(tls, ctx)
    assert.equal(t.code, 'UNAVAILABLE')
    assert.match(t.message, /TLS to vault .* self-signed CA this machine does not trust \(SELF_SIGNED_CERT_IN_CHAIN\)/)
    assert.match(t.suggestions[0], /NODE_EXTRA_CA_CERTS/)
  })

  it('Log Analytics: the same network and TLS mapping as the vault, naming the endpoint and its setting', () => {
    const lctx = {workspace: 'ws-1', endpoint: 'https://api.loganalytics.io', table: 'AZKVAuditLogs', alias: 'azure'}
    const refused = logsError(
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {name: 'RestError', code: 'ECONNREFUSED'}),
      lctx,
    )
    assert.equal(refused.code, 'UNAVAILABLE')
    assert.equal(refused.message, 'Cannot reach the Log Analytics endpoint https://api.loganalytics.io (ECONNREFUSED).')
    assert.deepEqual(refused.suggestions, [
      'Check providers.azure.logAnalyticsEndpoint (default https://api.loganalytics.io), the network and any proxy, then try again.',
    ])
    // A network code found only by its code (was INTERNAL, exit 1, for the Log Analytics query).
    const unreachable = logsError(
      Object.assign(new Error('connect failed'), {name: 'RestError', code: 'ENETUNREACH'}),
      lctx,
    )
    assert.equal(unreachable.code, 'UNAVAILABLE')
    assert.equal(
      unreachable.message,
      'Cannot reach the Log Analytics endpoint https://api.loganalytics.io (ENETUNREACH).',
    )
    const tls = logsError(
      Object.assign(new Error('certificate has expired'), {name: 'RestError', code: 'CERT_HAS_EXPIRED'}),
      lctx,
    )
    assert.equal(tls.code, 'UNAVAILABLE')
    assert.equal(tls.retryable, false)
    assert.equal(
      tls.message,
      'TLS to the Log Analytics endpoint https://api.loganalytics.io failed: its certificate has expired (CERT_HAS_EXPIRED).',
    )
    assert.equal(logsError(new Error('odd'), lctx).code, 'INTERNAL')
  })
})
