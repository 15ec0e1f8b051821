import assert from 'node:assert/strict'
import {readFileSync, renameSync, writeFileSync} from 'node:fs'
import {after, afterEach, before, describe, it} from 'node:test'

import {Sandbox, type RunResult} from '../helpers/cli.js'
import {SecretsManagerServer} from '../servers/aws/server.js'

const USER_ARN = 'arn:aws:iam::123456789012:user/kms-e2e'
const KEY_ID = 'AKIAKMSE2ETEST000001'
const SECRET_KEY = 'kms-e2e-secret-access-key-000000000000000'
const CANARY = 'CANARY-kms-5e1d-do-not-print'

describe('AWS KMS as a recipient of the local store', () => {
  const sb = new Sandbox()
  let server: SecretsManagerServer
  let run: (args: string[], o?: {input?: string; env?: Record<string, string | undefined>}) => Promise<RunResult>
  const hideIdentity = () => renameSync(sb.identityFile, `${sb.identityFile}.away`)
  const restoreIdentity = () => renameSync(`${sb.identityFile}.away`, sb.identityFile)

  before(async () => {
    server = await SecretsManagerServer.start({
      credentials: [{accessKeyId: KEY_ID, secretAccessKey: SECRET_KEY, arn: USER_ARN}],
    })
    server.createKmsKey(['alias/secrets'])
    const awsEnv = {
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_KMS: server.url,
      AWS_ACCESS_KEY_ID: KEY_ID,
      AWS_SECRET_ACCESS_KEY: SECRET_KEY,
      AWS_EC2_METADATA_DISABLED: 'true',
    }
    run = (args, o = {}) => sb.run(args, {input: o.input, env: {...awsEnv, ...o.env}})
    await sb.init()
    assert.equal((await run(['set', 'DB_PASSWORD'], {input: CANARY})).code, 0)
  })
  afterEach(() => {
    server.clearDenies()
    server.faults.clear()
    server.faults.resetCounts()
  })
  after(async () => {
    await server.close()
    sb.cleanup()
  })

  it('key add awskms://alias wraps the data key with KMS, and key list shows it', async () => {
    const r = await run(['key', 'add', 'awskms://alias/secrets', '--label', 'ci'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stderr, `✓ added awskms://alias/secrets to ${sb.storeFile}\n`)
    assert.deepEqual(server.counts, {'kms:Encrypt': 1})
    const store = JSON.parse(readFileSync(sb.storeFile, 'utf8')) as {
      recipients: Array<{type: string; recipient?: string; label?: string}>
    }
    assert.deepEqual(
      store.recipients.map((x) => [x.type, x.recipient?.slice(0, 4), x.label]),
      [
        ['age', 'age1', undefined],
        ['awskms', 'awsk', 'ci'],
      ],
    )
    const list = await run(['key', 'list'])
    assert.match(list.stdout, /\nawskms +awskms:\/\/alias\/secrets +ci +\d{4}-/)
    const again = await run(['key', 'add', 'awskms://alias/secrets'])
    assert.equal(again.code, 11)
  })

  it('unlocks the store with no age identity at all (CI), through kms:Decrypt', async () => {
    hideIdentity()
    try {
      const r = await run(['get', 'DB_PASSWORD'])
      assert.deepEqual([r.code, r.stdout, r.stderr], [0, CANARY, ''])
      assert.deepEqual(server.counts, {'kms:Decrypt': 1})
    } finally {
      restoreIdentity()
    }
  })

  it('a denied kms:Decrypt is PERMISSION_DENIED (exit 6) naming the key and the action', async () => {
    server.deny(USER_ARN, 'kms:Decrypt')
    hideIdentity()
    try {
      const r = await run(['get', 'DB_PASSWORD'])
      assert.equal(r.code, 6)
      assert.equal(r.stdout, '')
      assert.equal(
        r.stderr,
        'Error [PERMISSION_DENIED]: Access denied to the KMS key alias/secrets: the caller may not kms:Decrypt.\n' +
          '  → Check the key policy and your IAM policy allow kms:Decrypt on this key (grants count too).\n',
      )
    } finally {
      restoreIdentity()
    }
  })

  it('neither an age identity nor AWS credentials: IDENTITY_MISSING (exit 7) listing both recipients', async () => {
    hideIdentity()
    try {
      const r = await run(['get', 'DB_PASSWORD'], {
        env: {AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined},
      })
      assert.equal(r.code, 7)
      assert.match(
        r.stderr,
        /^Error \[IDENTITY_MISSING\]: No identity is available to open the store .* \(it is encrypted to: age1\w+, awskms:\/\/alias\/secrets\)\.\n/,
      )
      assert.match(r.stderr, /→ The key service recipient failed too: No AWS credentials found/)
      assert.deepEqual(server.counts, {})
    } finally {
      restoreIdentity()
    }
  })

  it('an age identity still opens the store without calling KMS', async () => {
    const r = await run(['get', 'DB_PASSWORD'], {env: {AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined}})
    assert.deepEqual([r.code, r.stdout], [0, CANARY], r.stderr)
    assert.deepEqual(server.counts, {})
  })

  it('removing the age recipient rotates the data key and re-wraps it with KMS; KMS alone still opens it', async () => {
    const mine = /# public key: (age1\w+)/.exec(readFileSync(sb.identityFile, 'utf8'))![1]
    const r = await run(['key', 'remove', mine, '--yes'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(server.counts['kms:Encrypt'], 1)
    hideIdentity()
    try {
      const get = await run(['get', 'DB_PASSWORD'])
      assert.deepEqual([get.code, get.stdout], [0, CANARY], get.stderr)
      const set = await run(['set', 'NEW_ONE'], {input: 'written-through-kms'})
      assert.equal(set.code, 0, set.stderr)
      // A wrong ciphertext (tampered recipient entry) is an integrity error, not a silent failure.
      const doc = JSON.parse(readFileSync(sb.storeFile, 'utf8')) as {recipients: Array<{wrapped: string}>}
      const wrapped = Buffer.from(doc.recipients[0].wrapped, 'base64')
      wrapped[wrapped.length - 1] ^= 1
      doc.recipients[0].wrapped = wrapped.toString('base64')
      writeFileSync(sb.storeFile, JSON.stringify(doc))
      const tampered = await run(['get', 'DB_PASSWORD'])
      assert.equal(tampered.code, 8, tampered.stderr)
      assert.match(
        tampered.stderr,
        /^Error \[INTEGRITY\]: The store's data key wrapped for awskms:\/\/alias\/secrets does not decrypt with that KMS key/,
      )
    } finally {
      restoreIdentity()
    }
  })

  it('a malformed KMS recipient is refused before any call', async () => {
    const r = await run(['key', 'add', 'awskms://not a key'])
    assert.equal(r.code, 2)
    const other = await run(['key', 'add', 'gcpkms://projects/x'])
    assert.equal(other.code, 10)
    assert.deepEqual(server.counts, {})
  })
})
