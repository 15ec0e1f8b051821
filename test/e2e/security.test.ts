import assert from 'node:assert/strict'
import {chmodSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import * as age from 'age-encryption'

import {Sandbox, type RunResult} from '../helpers/cli.js'

const CANARY = 'CANARY-7f3a9c-do-not-print-e41b'

describe('keys, identities and tampering', () => {
  const sb = new Sandbox()
  before(async () => {
    await sb.init()
    assert.equal((await sb.run(['set', 'DB_PASSWORD'], {input: CANARY})).code, 0)
  })
  after(() => sb.cleanup())

  it('a wrong identity cannot read, and the error names both keys and the fix', async () => {
    const other = await age.generateIdentity()
    const otherRecipient = await age.identityToRecipient(other)
    const r = await sb.run(['get', 'DB_PASSWORD'], {env: {SECRETS_AGE_KEY: other}})
    assert.equal(r.code, 7)
    assert.equal(r.stdout, '')
    const mine = /# public key: (age1\w+)/.exec(readFileSync(sb.identityFile, 'utf8'))![1]
    assert.equal(
      r.stderr,
      `Error [DECRYPT_FAILED]: Your identity cannot open the store ${sb.storeFile}: you have ${otherRecipient} (from SECRETS_AGE_KEY), but the store is encrypted to: ${mine}.\n` +
        `  → Ask someone who can open it to run \`secrets key add ${otherRecipient}\`, or use the right identity (SECRETS_IDENTITY / SECRETS_AGE_KEY).\n`,
    )
  })

  it('an identity file readable by group or others is refused', async () => {
    chmodSync(sb.identityFile, 0o644)
    try {
      const r = await sb.run(['get', 'DB_PASSWORD'])
      assert.equal(r.code, 6)
      assert.equal(r.stdout, '')
      assert.equal(
        r.stderr,
        `Error [INSECURE_PERMISSIONS]: Identity file ${sb.identityFile} is accessible by group or others (mode 0644); refusing to use it.\n` +
          `  → Run \`chmod 600 ${sb.identityFile}\`, and consider the key compromised if others could read it.\n`,
      )
    } finally {
      chmodSync(sb.identityFile, 0o600)
    }
  })

  it('SECRETS_IDENTITY pointing at a world-readable copy is refused too', async () => {
    const copy = join(sb.root, 'id-copy.txt')
    writeFileSync(copy, readFileSync(sb.identityFile), {mode: 0o640})
    chmodSync(copy, 0o640)
    const r = await sb.run(['get', 'DB_PASSWORD'], {env: {SECRETS_IDENTITY: copy}})
    assert.equal(r.code, 6)
    assert.match(
      r.stderr,
      /^Error \[INSECURE_PERMISSIONS\]: Identity file .*id-copy\.txt is accessible by group or others \(mode 0640\)/,
    )
  })

  it('a tampered store gives an integrity error and no plaintext, for every flipped byte we try', async () => {
    const original = readFileSync(sb.storeFile)
    const positions = [
      0,
      25,
      Math.floor(original.length / 3),
      Math.floor(original.length / 2),
      original.length - 80,
      original.length - 2,
    ]
    try {
      for (const pos of positions) {
        const copy = Buffer.from(original)
        copy[pos] ^= 0x04
        writeFileSync(sb.storeFile, copy)

        const r = await sb.run(['get', 'DB_PASSWORD'])
        assert.ok(r.code === 8 || r.code === 7, `byte ${pos}: exit ${r.code} ${r.stderr}`)
        assert.equal(r.stdout, '')
        assert.ok(!r.stderr.includes(CANARY))
        if (r.code === 8)
          assert.match(r.stderr, /^Error \[INTEGRITY\]: The store .* is corrupt or has been tampered with: /)
      }
      writeFileSync(sb.storeFile, original.subarray(0, original.length - 40))
      const truncated = await sb.run(['export', '--format', 'json'])
      assert.equal(truncated.code, 8)
      assert.equal(truncated.stdout, '')
      assert.match(truncated.stderr, /it is not valid JSON \(truncated or edited\)/)
    } finally {
      writeFileSync(sb.storeFile, original)
    }
    assert.equal((await sb.run(['get', 'DB_PASSWORD'])).stdout, CANARY)
  })

  it('key add / list / remove: a second person gets access, removal rotates the data key', async () => {
    const bob = await age.generateIdentity()
    const bobRecipient = await age.identityToRecipient(bob)
    const add = await sb.run(['key', 'add', bobRecipient, '--label', 'bob'])
    assert.equal(add.code, 0, add.stderr)
    assert.equal((await sb.run(['get', 'DB_PASSWORD'], {env: {SECRETS_AGE_KEY: bob}})).stdout, CANARY)
    const list = JSON.parse((await sb.run(['key', 'list', '--json'])).stdout)
    assert.deepEqual(
      list.recipients.map((r: {type: string; recipient: string; label?: string}) => [
        r.type,
        r.recipient === bobRecipient,
        r.label,
      ]),
      [
        ['age', false, undefined],
        ['age', true, 'bob'],
      ],
    )
    const keyIdBefore = JSON.parse(readFileSync(sb.storeFile, 'utf8')).keyId
    const noConfirm = await sb.run(['key', 'remove', bobRecipient])
    assert.equal(noConfirm.code, 2)
    const rm = await sb.run(['key', 'remove', bobRecipient, '--yes'])
    assert.equal(rm.code, 0, rm.stderr)
    assert.notEqual(JSON.parse(readFileSync(sb.storeFile, 'utf8')).keyId, keyIdBefore)
    assert.equal((await sb.run(['get', 'DB_PASSWORD'], {env: {SECRETS_AGE_KEY: bob}})).code, 7)
    assert.equal((await sb.run(['get', 'DB_PASSWORD'])).stdout, CANARY)
  })

  it('key add refuses a private key without echoing it', async () => {
    const priv = await age.generateIdentity()
    const r = await sb.run(['key', 'add', priv])
    assert.equal(r.code, 2)
    assert.ok(!r.stderr.includes(priv))
    assert.match(r.stderr, /^Error \[USAGE\]: That is an age private key, not a recipient/)
  })

  it('a passphrase recipient opens the store with SECRETS_PASSPHRASE alone', async () => {
    const add = await sb.run(['key', 'add', '--passphrase', '--label', 'break-glass'], {
      env: {SECRETS_NEW_PASSPHRASE: 'long enough passphrase 42'},
    })
    assert.equal(add.code, 0, add.stderr)
    const viaPass = await sb.run(['get', 'DB_PASSWORD'], {
      env: {SECRETS_PASSPHRASE: 'long enough passphrase 42', XDG_CONFIG_HOME: join(sb.root, 'nowhere')},
    })
    assert.equal(viaPass.stdout, CANARY, viaPass.stderr)
    const wrong = await sb.run(['get', 'DB_PASSWORD'], {
      env: {SECRETS_PASSPHRASE: 'wrong', XDG_CONFIG_HOME: join(sb.root, 'nowhere')},
    })
    assert.equal(wrong.code, 7)
    assert.equal(
      wrong.stderr.split('\n')[0],
      `Error [DECRYPT_FAILED]: The passphrase does not open the store ${sb.storeFile}.`,
    )
  })
})

describe('a secret value never leaks', () => {
  const sb = new Sandbox()
  const outputs: Array<[string, RunResult]> = []
  before(async () => {
    await sb.init()
    writeFileSync(
      join(sb.project, 'secrets.yaml'),
      'providers:\n  local: {type: local, path: .secrets/store.json}\nenv:\n  ALIAS_OF_CANARY: local://CANARY_SECRET\n  MISSING_ONE: local://NOT_THERE\n',
    )
    const run = async (label: string, args: string[], o: Parameters<Sandbox['run']>[1] = {}) => {
      const r = await sb.run(args, o)
      outputs.push([label, r])
      return r
    }
    assert.equal((await run('set', ['set', 'CANARY_SECRET'], {input: CANARY})).code, 0)
    await run('set again', ['set', 'CANARY_SECRET'], {input: `${CANARY}-2`})
    await run('list', ['list'])
    await run('list json', ['list', '--json'])
    await run('doctor', ['doctor'])
    await run('doctor json', ['doctor', '--json'])
    await run('key list', ['key', 'list'])
    await run('exec failing', ['exec', '--', 'sh', '-c', 'exit 0'])
    await run('bad field', ['get', 'local://CANARY_SECRET#nofield'])
    await run('bad version', ['get', 'local://CANARY_SECRET?version=9'])
    await run('help', ['set', '--help'])
    // The commands that came with rotation, the access log and scanning see values too.
    await run('versions', ['versions', 'CANARY_SECRET', '--json'])
    await run('rotate dry run', ['rotate', 'CANARY_SECRET', '--dry-run', '--json', '--generate', 'hex'])
    // Verification resolves the whole environment as exec does, so MISSING_ONE stops it before any write.
    await run('rotate verified', [
      'rotate',
      'CANARY_SECRET',
      '--yes',
      '--json',
      '--generate',
      'hex',
      '--verify-cmd',
      'test -n "$ALIAS_OF_CANARY"',
    ])
    await run('rotate', ['rotate', 'CANARY_SECRET', '--yes', '--json', '--generate', 'hex'])
    await run('rollback', ['rollback', 'CANARY_SECRET', '--yes', '--json'])
    await run('status', ['status', '--json'])
    await run('key rotate', ['key', 'rotate', '--yes', '--json'])
    await run('audit log', ['audit', 'log', '--json'])
    await run('audit report', ['audit', 'report', '--json'])
    await run('audit verify', ['audit', 'verify'])
    // After the rollback the current value is the second one written.
    writeFileSync(join(sb.project, 'config.js'), `export const key = '${CANARY}-2'\n`)
    await run('scan', ['scan', '--format', 'sarif'])
    await run('delete', ['delete', 'CANARY_SECRET', '--yes'])
  })
  after(() => sb.cleanup())

  it('in the stdout and stderr of every command but get/export', () => {
    assert.ok(outputs.length >= 12)
    for (const [label, r] of outputs) {
      assert.ok(
        !r.stdout.includes('CANARY-7f3a9c') && !r.stderr.includes('CANARY-7f3a9c'),
        `${label} printed the value:\n${r.stdout}\n${r.stderr}`,
      )
    }
  })

  it('the rotation commands ran as expected (so their output above was worth checking)', () => {
    const code = (label: string) => outputs.find(([l]) => l === label)![1].code
    assert.deepEqual(
      [
        'versions',
        'rotate dry run',
        'rotate verified',
        'rotate',
        'rollback',
        'status',
        'key rotate',
        'audit log',
        'audit report',
        'audit verify',
        'scan',
      ].map((l) => [l, code(l)]),
      [
        ['versions', 0],
        ['rotate dry run', 0],
        ['rotate verified', 5],
        ['rotate', 0],
        ['rollback', 0],
        ['status', 0],
        ['key rotate', 0],
        ['audit log', 0],
        ['audit report', 0],
        ['audit verify', 0],
        ['scan', 16],
      ],
    )
    assert.match(outputs.find(([l]) => l === 'rotate verified')![1].stdout, /MISSING_ONE = local:\/\/NOT_THERE/)
  })

  it('in the audit log, which still records every access', () => {
    const text = sb.auditText()
    assert.ok(!text.includes('CANARY-7f3a9c'))
    const records = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    assert.deepEqual(
      records.filter((r) => r.ref === 'local://CANARY_SECRET').map((r) => [r.command, r.action, r.outcome]),
      [
        ['set', 'write', 'ok'],
        ['set', 'write', 'ok'],
        // doctor (twice: text and --json) resolves ALIAS_OF_CANARY and the store's own CANARY_SECRET.
        ['doctor', 'read', 'ok'],
        ['doctor', 'read', 'ok'],
        ['doctor', 'read', 'ok'],
        ['doctor', 'read', 'ok'],
        ['exec', 'read', 'ok'],
        ['exec', 'read', 'ok'],
        // rotate: four reads across the dry run, the refused verified run and the real run, which then
        // stages and promotes (no verify step without --verify-cmd); the refused run wrote nothing.
        ['rotate', 'read', 'ok'],
        ['rotate', 'read', 'ok'],
        ['rotate', 'read', 'ok'],
        ['rotate', 'read', 'ok'],
        ['rotate', 'rotate-pending', 'ok'],
        ['rotate', 'rotate-promoted', 'ok'],
        ['rollback', 'rollback', 'ok'],
        // scan resolves ALIAS_OF_CANARY and the store's own CANARY_SECRET, both this secret.
        ['scan', 'read', 'ok'],
        ['scan', 'read', 'ok'],
        ['delete', 'delete', 'ok'],
      ],
    )
    assert.deepEqual(
      records
        .filter((r) => r.ref.startsWith('local://CANARY_SECRET') && r.command === 'get')
        .map((r) => [r.ref, r.outcome, r.code]),
      [
        ['local://CANARY_SECRET#nofield', 'not_found', 'NOT_FOUND'],
        ['local://CANARY_SECRET?version=9', 'not_found', 'NOT_FOUND'],
      ],
    )
    assert.deepEqual(
      records.filter((r) => r.ref === 'local://NOT_THERE').map((r) => [r.command, r.outcome]),
      [
        ['doctor', 'not_found'],
        ['doctor', 'not_found'],
        ['exec', 'not_found'],
        ['rotate', 'not_found'],
        ['scan', 'not_found'],
      ],
    )
  })

  it('the failing exec named the missing variable, its reference and provider, and started nothing', () => {
    const r = outputs.find(([l]) => l === 'exec failing')![1]
    assert.equal(r.code, 5)
    assert.equal(
      r.stderr.split('\n').slice(0, 2).join('\n'),
      'Error [NOT_FOUND]: Could not resolve 1 of 3 variable(s); nothing was used:\n' +
        `  MISSING_ONE = local://NOT_THERE (provider local): [NOT_FOUND] No secret named NOT_THERE in the local store ${sb.storeFile}.`,
    )
  })
})
