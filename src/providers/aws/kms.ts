import {DecryptCommand, EncryptCommand, KMSClient} from '@aws-sdk/client-kms'

import {SecretsError} from '../../errors.js'
import type {KeyWrapper} from '../types.js'
import {awsError} from './errors.js'

/**
 * Binds a wrapped data key to its purpose: KMS refuses to decrypt it under any other context, and
 * CloudTrail shows what each Decrypt was for.
 */
const ENCRYPTION_CONTEXT = {purpose: 'secrets-cli local store data key'}
const KEY_ID =
  /^(arn:aws[\w-]*:kms:[a-z0-9-]+:\d{12}:(key\/[\w-]+|alias\/[\w/-]+)|alias\/[\w/-]+|[0-9a-f-]{36}|mrk-[0-9a-f]{32})$/

/** AWS KMS as a recipient of the local store's data key: `awskms://<key-arn | alias/name | key-id>`. */
export class AwsKmsWrapper implements KeyWrapper {
  readonly keyId: string
  private readonly region?: string

  constructor(
    readonly recipient: string,
    env: NodeJS.ProcessEnv,
  ) {
    this.keyId = recipient.slice('awskms://'.length)
    if (!KEY_ID.test(this.keyId)) {
      throw new SecretsError(
        'USAGE',
        `${recipient} does not name a KMS key: use awskms://<key ARN>, awskms://alias/<name> or awskms://<key id>.`,
      )
    }
    // A key ARN names its region; otherwise the standard variables (or the profile) decide.
    this.region = this.keyId.startsWith('arn:') ? this.keyId.split(':')[3] : (env.AWS_REGION ?? env.AWS_DEFAULT_REGION)
  }

  /** A client for one call, destroyed after it so no keep-alive socket holds the process open. */
  private async call<T>(action: string, fn: (client: KMSClient) => Promise<T>): Promise<T> {
    let client: KMSClient
    const quiet = process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'
    try {
      // Credentials from the SDK's default chain; AWS_ENDPOINT_URL_KMS is read by the SDK.
      client = new KMSClient({
        ...(this.region === undefined ? {} : {region: this.region}),
        retryMode: 'adaptive',
        maxAttempts: 3,
      })
    } finally {
      if (quiet === undefined) delete process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED
      else process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = quiet
    }
    try {
      return await fn(client)
    } catch (error) {
      throw kmsError(error, action, this)
    } finally {
      client.destroy()
    }
  }

  async wrap(dataKey: Buffer): Promise<string> {
    const out = await this.call('kms:Encrypt', (c) =>
      c.send(new EncryptCommand({KeyId: this.keyId, Plaintext: dataKey, EncryptionContext: ENCRYPTION_CONTEXT})),
    )
    return Buffer.from(out.CiphertextBlob!).toString('base64')
  }

  async unwrap(wrapped: string): Promise<Buffer> {
    const out = await this.call('kms:Decrypt', (c) =>
      c.send(
        new DecryptCommand({
          CiphertextBlob: Buffer.from(wrapped, 'base64'),
          // Only an ARN or key id pins the key; KMS takes no alias here.
          ...(this.keyId.includes('alias/') ? {} : {KeyId: this.keyId}),
          EncryptionContext: ENCRYPTION_CONTEXT,
        }),
      ),
    )
    return Buffer.from(out.Plaintext!)
  }
}

/** KMS errors in the one error tree; anything not KMS-specific is mapped like a Secrets Manager error. */
export function kmsError(error: unknown, action: string, key: {recipient: string; keyId: string}): SecretsError {
  const name = (error as {name?: string})?.name
  const opts = {cause: error, ref: key.recipient}
  switch (name) {
    case 'AccessDeniedException':
      return new SecretsError(
        'PERMISSION_DENIED',
        `Access denied to the KMS key ${key.keyId}: the caller may not ${action}.`,
        {
          ...opts,
          suggestions: [`Check the key policy and your IAM policy allow ${action} on this key (grants count too).`],
        },
      )
    case 'NotFoundException':
      return new SecretsError('NOT_FOUND', `The KMS key ${key.keyId} was not found.`, {
        ...opts,
        suggestions: ['Check the key ARN or alias, the region and the account of your credentials.'],
      })
    case 'DisabledException':
    case 'KMSInvalidStateException':
      return new SecretsError('PERMISSION_DENIED', `The KMS key ${key.keyId} is disabled or pending deletion.`, {
        ...opts,
        suggestions: [
          'Enable the key (aws kms enable-key) or cancel its deletion, or open the store with another recipient.',
        ],
      })
    case 'InvalidCiphertextException':
    case 'IncorrectKeyException':
      return new SecretsError(
        'INTEGRITY',
        `The store's data key wrapped for ${key.recipient} does not decrypt with that KMS key: the recipient entry was altered or belongs to another key.`,
        {
          ...opts,
          suggestions: [
            'Open the store with another recipient and add the KMS key again (secrets key remove, then key add).',
          ],
        },
      )
    default:
      return awsError(error, {action, service: 'AWS KMS', region: undefined, ref: key.recipient})
  }
}

export async function createKeyWrapper(recipient: string, env: NodeJS.ProcessEnv): Promise<KeyWrapper> {
  return new AwsKmsWrapper(recipient, env)
}
