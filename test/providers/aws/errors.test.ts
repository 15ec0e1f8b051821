import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {ResourceNotFoundException, SecretsManagerServiceException} from '@aws-sdk/client-secrets-manager'

import {awsError} from '../../../src/providers/aws/errors.js'
import {SecretsError} from '../../../src/errors.js'

const ctx = {
  action: 'secretsmanager:GetSecretValue',
  secretId: 'prod/db',
  ref: 'aws://prod/db#password',
  region: 'eu-west-1',
  endpoint: 'https://sm.example',
}

function sdkError(
  name: string,
  message: string,
  status: number,
  fault: 'client' | 'server' = 'client',
  attempts = 1,
): SecretsManagerServiceException {
  return new SecretsManagerServiceException({
    name,
    message,
    $fault: fault,
    $metadata: {httpStatusCode: status, attempts},
  })
}

describe('aws error mapping', () => {
  const cases: Array<[string, unknown, string, number, RegExp]> = [
    [
      'access denied',
      sdkError('AccessDeniedException', 'User: arn:aws:iam::1:user/x is not authorized', 400),
      'PERMISSION_DENIED',
      6,
      /^Access denied to AWS secret "prod\/db" in eu-west-1: the caller may not secretsmanager:GetSecretValue\.$/,
    ],
    [
      'not found (modeled class)',
      new ResourceNotFoundException({message: "Secrets Manager can't find the specified secret.", $metadata: {}}),
      'NOT_FOUND',
      5,
      /^AWS secret "prod\/db" was not found in eu-west-1\.$/,
    ],
    ['decryption failure', sdkError('DecryptionFailure', 'KMS', 400), 'PERMISSION_DENIED', 6, /KMS key/],
    ['encryption failure', sdkError('EncryptionFailure', 'KMS', 400), 'PERMISSION_DENIED', 6, /encrypt the new value/],
    [
      'invalid parameter',
      sdkError('InvalidParameterException', 'Invalid name.', 400),
      'USAGE',
      2,
      /^AWS rejected a parameter for AWS secret "prod\/db": Invalid name\.$/,
    ],
    [
      'invalid request',
      sdkError(
        'InvalidRequestException',
        'You provided a parameter value that is not valid for the current state of the resource.',
        400,
      ),
      'USAGE',
      2,
      /^AWS rejected the request/,
    ],
    [
      'scheduled for deletion',
      sdkError(
        'InvalidRequestException',
        "You can't perform this operation on the secret because it was marked for deletion.",
        400,
      ),
      'NOT_FOUND',
      5,
      /scheduled for deletion/,
    ],
    ['exists', sdkError('ResourceExistsException', 'exists', 400), 'CONFLICT', 11, /already exists/],
    [
      'throttled',
      sdkError('ThrottlingException', 'Rate exceeded', 400, 'client', 3),
      'UNAVAILABLE',
      9,
      /kept throttling requests \(ThrottlingException\) after 3 attempt\(s\)/,
    ],
    ['429 of another name', sdkError('TooManyRequests', 'slow down', 429), 'UNAVAILABLE', 9, /kept throttling/],
    [
      'server error',
      sdkError('InternalServiceError', 'oops', 500, 'server'),
      'UNAVAILABLE',
      9,
      /failed \(InternalServiceError\)/,
    ],
    [
      'unknown access key',
      sdkError('UnrecognizedClientException', 'The security token included in the request is invalid.', 400),
      'PERMISSION_DENIED',
      6,
      /does not recognise the access key/,
    ],
    [
      'wrong secret key',
      sdkError('InvalidSignatureException', 'The request signature we calculated does not match', 400),
      'PERMISSION_DENIED',
      6,
      /secret access key does not match/,
    ],
    [
      'clock',
      sdkError('InvalidSignatureException', 'Signature expired: 20260101T000000Z is now earlier than ...', 400),
      'PERMISSION_DENIED',
      6,
      /too far from AWS time/,
    ],
    [
      'expired session',
      sdkError('ExpiredTokenException', 'The security token included in the request is expired', 400),
      'PERMISSION_DENIED',
      6,
      /expired/,
    ],
    [
      'no credentials',
      Object.assign(new Error('Could not load credentials from any providers'), {name: 'CredentialsProviderError'}),
      'IDENTITY_MISSING',
      7,
      /^No AWS credentials found/,
    ],
    ['no region', new Error('Region is missing'), 'CONFIG_INVALID', 3, /No AWS region/],
    [
      'connection refused',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {code: 'ECONNREFUSED'}),
      'UNAVAILABLE',
      9,
      /^Could not reach AWS Secrets Manager at https:\/\/sm\.example \(ECONNREFUSED\)\.$/,
    ],
    ['timeout', Object.assign(new Error('timed out'), {name: 'TimeoutError'}), 'UNAVAILABLE', 9, /Could not reach/],
    ['unknown client fault', sdkError('SomethingNewException', 'new', 400), 'USAGE', 2, /SomethingNewException/],
    ['unknown 403', sdkError('ForbiddenException', 'no', 403), 'PERMISSION_DENIED', 6, /refused/],
    ['a plain bug', new TypeError('x is not a function'), 'INTERNAL', 1, /TypeError: x is not a function/],
  ]
  for (const [what, err, code, exit, message] of cases) {
    it(`${what} → ${code}`, () => {
      const e = awsError(err, ctx)
      assert.ok(e instanceof SecretsError)
      assert.equal(e.code, code)
      assert.equal(e.exitCode, exit)
      assert.match(e.message, message)
      assert.equal(e.ref, ctx.ref)
      if (code !== 'INTERNAL') assert.ok(e.suggestions.length > 0, 'says what to check')
      assert.equal(e.cause, err)
    })
  }

  it('an access-denied suggestion names the IAM action and kms:Decrypt', () => {
    const e = awsError(sdkError('AccessDeniedException', 'denied', 400), ctx)
    assert.match(e.suggestions.join(' '), /secretsmanager:GetSecretValue/)
    assert.match(e.suggestions.join(' '), /kms:Decrypt/)
  })

  it('throttling and network errors are retryable, denials are not', () => {
    assert.equal(awsError(sdkError('ThrottlingException', 'Rate exceeded', 400), ctx).retryable, true)
    assert.equal(awsError(Object.assign(new Error('reset'), {code: 'ECONNRESET'}), ctx).retryable, true)
    assert.equal(awsError(sdkError('AccessDeniedException', 'denied', 400), ctx).retryable, false)
  })

  it('a SecretsError passes through unchanged', () => {
    const original = new SecretsError('NOT_FOUND', 'x')
    assert.equal(awsError(original, ctx), original)
  })

  it('long or multi-line service messages are cut to one bounded line', () => {
    const e = awsError(sdkError('InvalidParameterException', `${'a'.repeat(500)}\nsecond line`, 400), ctx)
    assert.ok(!e.message.includes('second line'))
    assert.ok(e.message.length < 400)
  })
})
