import assert from 'node:assert/strict'
import {existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import * as age from 'age-encryption'

import {nonInteractive} from '../../src/core/interaction.js'
import {parseStore} from '../../src/core/store/format.js'
import {Keyring} from '../../src/core/store/keyring.js'
import {OpenStore, openStore} from '../../src/core/store/open-store.js'
import {Sandbox, type RunResult} from '../helpers/cli.js'
import {SecretsManagerServer} from '../servers/aws/server.js'
import {VaultTestServer} from '../servers/vault/server.js'
import {cliOnTerminal, skipWithoutPty, type TerminalScript} from '../helpers/terminal.js'

const CANARY = 'CANARY-keyrotate-91f2-do-not-print'
const PASS = 'rotate team passphrase 77'
const KMS_USER = 'arn:aws:iam::123456789012:user/key-rotate'
const BINARY = Buffer.from([0, 255, 1, 254, 10, 13, 0])

/** Every value and version the store holds, as [name, version, bytes]. */
const EXPECTED: Array<[string, number, Buffer]> = [
  ['DB_PASSWORD', 1, Buffer.from(CANARY)],
  ['DB_PASSWORD', 2, Buffer.from(`${CANARY}-2\nline two`)],
  ['TLS_KEY', 1, BINARY],
  ['Z_TOKEN', 1, Buffer.from(`${CANARY}-z`)],
]

/** The checkpoints `key rotate` passes, in order, for this store (3 recipients, 3 secrets). */
const STEPS = [
  'opened',
  'wrapped:1',
  'wrapped:2',
  'wrapped:3',
  'locked',
  'reencrypted:DB_PASSWORD',
  'reencrypted:TLS_KEY',
  'reencrypted:Z_TOKEN',
  'checked',
  'temp-partial',
  'temp-written',
  'temp-synced',
  'renamed',
  'written',
  'unlocked',
  'audited',
]
/** From this step on, the store file on disk is the new one. */
const FIRST_NEW = STEPS.indexOf('renamed')

describe('key rotate', () => {
  const sb = new Sandbox()
  // Opens made inside the test keep their own remembered keys (see continuity.ts), apart from the CLI user's.
  const trust = {SECRETS_TRUST_FILE: join(sb.root, 'in-process-trust.json')}
  /**
   * Put the store from before the rotations back. For continuity that is a rollback to a key with no
   * link forward (KEY_CHANGED), so the remembered keys are forgotten too, as on a fresh clone.
   */
  const restoreOriginal = () => {
    writeFileSync(sb.storeFile, original)
    for (const f of [trust.SECRETS_TRUST_FILE, join(sb.home, '.local', 'state', 'secrets', 'store-keys.json')])
      rmSync(f, {force: true})
  }
  let bob: string
  let original: Buffer
  let oldKeyId: string
  const lockFile = () => `${sb.storeFile}.lock`
  const temps = () => readdirSync(join(sb.project, '.secrets')).filter((f) => f.startsWith('.store.json.tmp-'))
  const rotate = (extra: string[] = [], env: Record<string, string | undefined> = {}) =>
    sb.run(['key', 'rotate', ...extra], {env: {SECRETS_PASSPHRASE: PASS, ...env}})

  /** Open the store in-process with each recipient's own key and check every version of every value. */
  async function assertOpensWithEveryRecipient(): Promise<string> {
    const keyrings = {
      identity: new Keyring({SECRETS_IDENTITY: sb.identityFile, ...trust}, nonInteractive()),
      bob: new Keyring({SECRETS_AGE_KEY: bob, ...trust}, nonInteractive()),
      passphrase: new Keyring({SECRETS_PASSPHRASE: PASS, HOME: sb.root, ...trust}, nonInteractive()),
    }
    let keyId = ''
    for (const [who, k] of Object.entries(keyrings)) {
      const store = await openStore(sb.storeFile, k)
      for (const [name, version, value] of EXPECTED)
        assert.deepEqual(store.read(name, version).value.reveal(), value, `${who}: ${name} v${version}`)
      assert.equal(store.read('DB_PASSWORD').version, 2)
      keyId = store.keyId
    }
    return keyId
  }

  before(async () => {
    await sb.init()
    bob = await age.generateIdentity()
    const steps: Array<[string[], string | Buffer, Record<string, string>?]> = [
      [['set', 'DB_PASSWORD'], CANARY],
      [['set', 'DB_PASSWORD'], `${CANARY}-2\nline two`],
      [['set', 'Z_TOKEN'], `${CANARY}-z`],
      [['key', 'add', await age.identityToRecipient(bob), '--label', 'bob'], ''],
      [['key', 'add', '--passphrase', '--label', 'team'], '', {SECRETS_NEW_PASSPHRASE: PASS}],
    ]
    for (const [args, input, env] of steps) {
      const r = await sb.run(args, {input, env})
      assert.equal(r.code, 0, r.stderr)
    }
    writeFileSync(join(sb.root, 'tls.key'), BINARY)
    assert.equal((await sb.run(['set', 'TLS_KEY', '--from-file', join(sb.root, 'tls.key')])).code, 0)
    original = readFileSync(sb.storeFile)
    oldKeyId = parseStore(original.toString('utf8'), sb.storeFile).keyId
  })
  after(() => sb.cleanup())

  it('refuses without --yes when there is no terminal, changing nothing', async () => {
    const r = await rotate()
    assert.deepEqual([r.code, r.stdout], [2, ''])
    assert.equal(
      r.stderr,
      'Error [USAGE]: Refusing to rotate the data key without confirmation: there is no terminal to ask on (or CI is set).\n  → Pass --yes to confirm.\n',
    )
    assert.deepEqual(readFileSync(sb.storeFile), original)
  })

  it('a passphrase recipient without its passphrase is a clear USAGE error (exit 2), changing nothing', async () => {
    const r = await rotate(['--yes'], {SECRETS_PASSPHRASE: undefined})
    assert.equal(r.code, 2)
    assert.equal(
      r.stderr.split('\n')[0],
      `Error [USAGE]: The store ${sb.storeFile} has a passphrase recipient "team": wrapping the new data key for it needs its passphrase, and there is no terminal to ask on (or CI is set). Nothing was changed.`,
    )
    assert.deepEqual(readFileSync(sb.storeFile), original)
  })

  it('a wrong SECRETS_PASSPHRASE is DECRYPT_FAILED (exit 7), changing nothing, and the audit record says denied', async () => {
    const auditLines = () => sb.auditText().split('\n').filter(Boolean)
    const auditBefore = auditLines().length
    const r = await rotate(['--yes'], {SECRETS_PASSPHRASE: 'not the team passphrase'})
    assert.equal(r.code, 7, r.stderr)
    assert.equal(
      r.stderr.split('\n')[0],
      `Error [DECRYPT_FAILED]: SECRETS_PASSPHRASE does not open the passphrase recipient "team" of ${sb.storeFile}, so the new data key cannot be wrapped for it. Nothing was changed.`,
    )
    assert.deepEqual(readFileSync(sb.storeFile), original)
    const records = auditLines()
      .slice(auditBefore)
      .map((l) => JSON.parse(l))
    assert.deepEqual(
      records.map((x) => [x.command, x.action, x.ref, x.outcome, x.code]),
      [['key rotate', 'rekey', sb.storeFile, 'denied', 'DECRYPT_FAILED']],
    )
  })

  it('passes exactly the documented checkpoints (so the crash test below kills it at every one)', async () => {
    const log = join(sb.root, 'steps.log')
    const r = await rotate(['--yes'], {SECRETS_TEST_STEPS_LOG: log})
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(readFileSync(log, 'utf8').trim().split('\n'), STEPS)
    restoreOriginal()
  })

  for (const [i, step] of STEPS.entries()) {
    it(`killed with SIGKILL at "${step}": the store opens for every recipient with every value, and the next rotate succeeds`, async () => {
      restoreOriginal()
      // A reader while the rotation is stopped at this step sees a consistent store.
      const killed = await runUntil(sb, step, async () => {
        const get = await sb.run(['get', 'DB_PASSWORD'])
        assert.deepEqual([get.code, get.stdout], [0, `${CANARY}-2\nline two`], get.stderr)
      })
      assert.equal(killed.signal, 'SIGKILL')
      assert.ok(!killed.stderr.includes(CANARY))

      const keyId = await assertOpensWithEveryRecipient()
      assert.equal(
        keyId === oldKeyId,
        i < FIRST_NEW,
        `store on disk after "${step}" has ${keyId === oldKeyId ? 'the old' : 'a new'} key`,
      )
      const locked = i >= STEPS.indexOf('locked') && i <= STEPS.indexOf('written')
      assert.equal(existsSync(lockFile()), locked, 'the lock is left behind only by a process killed while holding it')
      const partial = i >= STEPS.indexOf('temp-partial') && i <= STEPS.indexOf('temp-synced')
      if (partial) assert.equal(temps().length, 1, 'a temp file is left behind')

      const exported = await sb.run(['export', '--format', 'json', '--only', 'DB_PASSWORD', '--only', 'Z_TOKEN'])
      assert.equal(exported.code, 0, exported.stderr)
      assert.deepEqual(JSON.parse(exported.stdout), {DB_PASSWORD: `${CANARY}-2\nline two`, Z_TOKEN: `${CANARY}-z`})

      // The next rotation takes over the dead process's lock and removes its temp file.
      const again = await rotate(['--yes'])
      assert.equal(again.code, 0, again.stderr)
      assert.deepEqual([existsSync(lockFile()), temps()], [false, []])
      assert.notEqual(await assertOpensWithEveryRecipient(), keyId)
    })
  }

  for (const step of ['checked', 'temp-partial', 'renamed']) {
    it(`key remove takes the same path: killed at "${step}", the store opens for the remaining recipients`, async () => {
      restoreOriginal()
      const bobRecipient = await age.identityToRecipient(bob)
      const killed = await runUntil(sb, step, async () => undefined, ['key', 'remove', bobRecipient, '--yes'])
      assert.equal(killed.signal, 'SIGKILL')
      const store = await openStore(
        sb.storeFile,
        new Keyring({SECRETS_PASSPHRASE: PASS, HOME: sb.root, ...trust}, nonInteractive()),
      )
      for (const [name, version, value] of EXPECTED) assert.deepEqual(store.read(name, version).value.reveal(), value)
      const bobStill = await openStore(
        sb.storeFile,
        new Keyring({SECRETS_AGE_KEY: bob, ...trust}, nonInteractive()),
      ).then(
        () => true,
        () => false,
      )
      assert.equal(bobStill, step !== 'renamed', 'bob opens the old store, not the new one')
      const done = await sb.run(['key', 'remove', bobRecipient, '--yes'], {env: {SECRETS_PASSPHRASE: PASS}})
      assert.equal(done.code, step === 'renamed' ? 5 : 0, done.stderr)
      // Any later writer takes over a dead process's lock and sweeps its temp file.
      const set = await sb.run(['set', 'AFTER_CRASH'], {input: 'x-after'})
      assert.equal(set.code, 0, set.stderr)
      assert.deepEqual([existsSync(lockFile()), temps()], [false, []])
    })
  }

  it('on a terminal: asks to confirm and for the passphrase (not echoed), shows progress; declining is ABORTED (exit 12)', async (t) => {
    if (skipWithoutPty(t)) return
    restoreOriginal()
    const onTerminal = (script: TerminalScript) => cliOnTerminal(sb, ['key', 'rotate'], script)
    // Prompts are matched by their start: a long one (with the store's path) wraps at the terminal's width.
    const declined = await onTerminal([['Rotate the data key of', 'n\r']])
    assert.equal(declined.code, 12, declined.output)
    assert.match(declined.output, /Error \[ABORTED\]: Nothing was changed\./)
    assert.deepEqual(readFileSync(sb.storeFile), original)

    const r = await onTerminal([
      ['Rotate the data key of', 'y\r'],
      ['Passphrase of recipient "team"', `${PASS}\r`],
    ])
    assert.equal(r.code, 0, r.output)
    assert.ok(!r.output.includes(PASS), 'the passphrase was echoed')
    assert.match(r.output, /Wrapping the new data key for age1\w+ \(1\/3\)/)
    assert.ok(
      r.output.includes(
        `✓ rotated the data key of ${sb.storeFile}: wrapped for 3 recipient(s), 4 version(s) of 3 secret(s) re-encrypted`,
      ),
      r.output,
    )
    assert.notEqual(await assertOpensWithEveryRecipient(), oldKeyId)
  })

  it('a completed rotate: --json report, one audit record, values and history intact, the old data key decrypts nothing', async () => {
    restoreOriginal()
    const listBefore = JSON.parse((await sb.run(['list', 'local', '--json'])).stdout) as unknown
    const auditBefore = sb.auditText().split('\n').length
    const r = await rotate(['--yes', '--json'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stderr, '')
    const report = JSON.parse(r.stdout)
    const after = parseStore(readFileSync(sb.storeFile, 'utf8'), sb.storeFile)
    assert.deepEqual(Object.keys(report), ['store', 'oldKeyId', 'keyId', 'recipients', 'secrets', 'versions'])
    assert.deepEqual(
      [report.store, report.oldKeyId, report.keyId, report.secrets, report.versions],
      [sb.storeFile, oldKeyId, after.keyId, 3, 4],
    )
    assert.deepEqual(
      report.recipients.map((x: {type: string; label?: string}) => [x.type, x.label]),
      [
        ['age', undefined],
        ['age', 'bob'],
        ['scrypt', 'team'],
      ],
    )
    assert.ok(!r.stdout.includes(CANARY) && !r.stdout.includes('wrapped'))

    const records = sb
      .auditText()
      .trim()
      .split('\n')
      .slice(auditBefore - 1)
      .map((l) => JSON.parse(l))
    assert.deepEqual(
      records.map((x) => [x.command, x.action, x.provider, x.ref, x.outcome]),
      [['key rotate', 'rekey', 'local', sb.storeFile, 'ok']],
    )

    await assertOpensWithEveryRecipient()
    const listAfter = JSON.parse((await sb.run(['list', 'local', '--json'])).stdout) as {
      secrets: Array<{name: string; versions: number}>
    }
    assert.deepEqual(listAfter, listBefore, 'names, versions, times and authors are unchanged')
    assert.deepEqual(
      listAfter.secrets.map((x) => [x.name, x.versions]),
      [
        ['DB_PASSWORD', 2],
        ['TLS_KEY', 1],
        ['Z_TOKEN', 1],
      ],
    )

    const before = parseStore(original.toString('utf8'), sb.storeFile)
    const oldKey = await new Keyring({SECRETS_IDENTITY: sb.identityFile}, nonInteractive()).unwrap(before, sb.storeFile)
    const withOldKey = new OpenStore(sb.storeFile, after, oldKey)
    for (const [name, version] of EXPECTED) assert.throws(() => withOldKey.read(name, version), {code: 'INTEGRITY'})
    // The new file with the old wrapped keys and key id spliced in: the old key does not verify its MAC.
    const franken = join(sb.root, 'franken.json')
    writeFileSync(franken, JSON.stringify({...after, keyId: before.keyId, recipients: before.recipients}))
    await assert.rejects(openStore(franken, new Keyring({SECRETS_IDENTITY: sb.identityFile}, nonInteractive())), {
      code: 'INTEGRITY',
      message: /integrity check \(MAC\) does not match/,
    })
  })
})

/**
 * Run `key rotate --yes` (or `args`) with SECRETS_TEST_PAUSE_AT=step, wait until it reports that it stopped there,
 * run `whilePaused`, then SIGKILL it. Fails if the command ends without reaching the step.
 */
function runUntil(
  sb: Sandbox,
  step: string,
  whilePaused: () => Promise<void>,
  args = ['key', 'rotate', '--yes'],
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    let reached = false
    const {done} = sb.start(args, {
      env: {SECRETS_PASSPHRASE: PASS, SECRETS_TEST_PAUSE_AT: step},
      onStderr(stderr, child) {
        if (reached || !stderr.includes(`secrets-test: paused at ${step}\n`)) return
        reached = true
        whilePaused().then(
          () => child.kill('SIGKILL'),
          (error) => {
            child.kill('SIGKILL')
            reject(error)
          },
        )
      },
    })
    done.then(({code, signal, stdout, stderr}) => {
      if (!reached)
        reject(new Error(`key rotate ended (code ${code}, signal ${signal}) without reaching step ${step}: ${stderr}`))
      else resolve({code, signal, stdout, stderr})
    }, reject)
  })
}

describe('key rotate with key-service recipients (AWS KMS, Vault transit)', () => {
  const sb = new Sandbox()
  let aws: SecretsManagerServer
  let vault: VaultTestServer
  let env: Record<string, string>
  const run = sb.runner(() => env)
  const hideIdentity = () => renameSync(sb.identityFile, `${sb.identityFile}.away`)
  const restoreIdentity = () => renameSync(`${sb.identityFile}.away`, sb.identityFile)

  before(async () => {
    aws = await SecretsManagerServer.start({
      credentials: [
        {
          accessKeyId: 'AKIAKEYROTATE0000001',
          secretAccessKey: 'key-rotate-secret-access-key-00000000000',
          arn: KMS_USER,
        },
      ],
    })
    aws.createKmsKey(['alias/secrets'])
    vault = await VaultTestServer.start()
    vault.mountTransit()
    vault.policy('unlock', {'transit/encrypt/store': ['update'], 'transit/decrypt/store': ['update']})
    vault.policy('decrypt-only', {'transit/decrypt/store': ['update']})
    env = {
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_KMS: aws.url,
      AWS_ACCESS_KEY_ID: 'AKIAKEYROTATE0000001',
      AWS_SECRET_ACCESS_KEY: 'key-rotate-secret-access-key-00000000000',
      AWS_EC2_METADATA_DISABLED: 'true',
      VAULT_ADDR: vault.url,
      VAULT_TOKEN: vault.createToken(['unlock']),
    }
    await sb.init()
    for (const args of [
      ['key', 'add', 'awskms://alias/secrets'],
      ['key', 'add', 'vault-transit://transit/store'],
    ]) {
      const r = await run(args)
      assert.equal(r.code, 0, r.stderr)
    }
    assert.equal((await run(['set', 'DB_PASSWORD'], {input: CANARY})).code, 0)
  })
  after(async () => {
    await aws.close()
    await vault.close()
    sb.cleanup()
  })

  it('wraps the new key with one kms:Encrypt and one transit encrypt; each service alone then opens the store', async () => {
    aws.faults.resetCounts()
    vault.resetCounters()
    const before = readFileSync(sb.storeFile, 'utf8')
    const r = await run(['key', 'rotate', '--yes'])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(aws.counts, {'kms:Encrypt': 1})
    assert.deepEqual([vault.count('POST transit/encrypt/store'), vault.count('POST transit/decrypt/store')], [1, 0])
    assert.notEqual(JSON.parse(readFileSync(sb.storeFile, 'utf8')).keyId, JSON.parse(before).keyId)
    hideIdentity()
    try {
      const viaKms = await run(['get', 'DB_PASSWORD'], {env: {VAULT_ADDR: undefined, VAULT_TOKEN: undefined}})
      assert.deepEqual([viaKms.code, viaKms.stdout], [0, CANARY], viaKms.stderr)
      const viaTransit = await run(['get', 'DB_PASSWORD'], {
        env: {AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined},
      })
      assert.deepEqual([viaTransit.code, viaTransit.stdout], [0, CANARY], viaTransit.stderr)
    } finally {
      restoreIdentity()
    }
  })

  it('a key service that refuses to encrypt stops the rotation before anything is written (PERMISSION_DENIED, exit 6)', async () => {
    const before = readFileSync(sb.storeFile)
    const r = await run(['key', 'rotate', '--yes'], {env: {VAULT_TOKEN: vault.createToken(['decrypt-only'])}})
    assert.equal(r.code, 6, r.stderr)
    assert.match(r.stderr, /^Error \[PERMISSION_DENIED\]: Vault denied encrypt on transit\/encrypt\/store/)
    assert.ok(!r.stderr.includes(CANARY))
    assert.deepEqual(readFileSync(sb.storeFile), before)
    assert.deepEqual(readdirSync(join(sb.project, '.secrets')).sort(), ['store.json'])
    const last = JSON.parse(sb.auditText().trim().split('\n').at(-1)!)
    assert.deepEqual(
      [last.command, last.action, last.outcome, last.code],
      ['key rotate', 'rekey', 'denied', 'PERMISSION_DENIED'],
    )
  })
})
