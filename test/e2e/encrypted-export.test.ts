import assert from 'node:assert/strict'
import {mkdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {generateIdentity, identityToRecipient} from 'age-encryption'

import {Sandbox} from '../helpers/cli.js'

const CANARY = 'CANARY-export-enc-9d41-never-print'
const PRINT = ['sh', '-c', 'printf "%s|%s" "$API_KEY" "$NOTE"']

describe('export --encrypt and exec --from-file', () => {
  const sb = new Sandbox()
  let alice: string
  let bob: {key: string; pub: string}
  let carol: string
  let deploy: string
  const file = () => join(sb.project, 'env.enc')

  before(async () => {
    await sb.init()
    alice = /# public key: (age1\w+)/.exec(readFileSync(sb.identityFile, 'utf8'))![1]
    const key = await generateIdentity()
    bob = {key, pub: await identityToRecipient(key)}
    carol = await generateIdentity()
    assert.equal((await sb.run(['set', 'API_KEY'], {input: CANARY})).code, 0)
    assert.equal((await sb.run(['set', 'NOTE'], {input: 'two\nlines'})).code, 0)
    // A deployment: no secrets.yaml, no providers, another HOME.
    deploy = join(sb.root, 'deploy')
    mkdirSync(join(deploy, 'home'), {recursive: true})
  })
  after(() => sb.cleanup())

  it('writes the environment in the local store format, 0600, encrypted to the recipients', async () => {
    const r = await sb.run(['export', '--encrypt', '--recipient', alice, '--recipient', bob.pub, '-o', 'env.enc'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stderr, '✓ 2 variable(s) encrypted to 2 recipient(s) in env.enc\n')
    assert.equal(r.stdout, '')
    assert.equal(statSync(file()).mode & 0o777, 0o600)
    const text = readFileSync(file(), 'utf8')
    const doc = JSON.parse(text)
    assert.equal(doc.format, 'secrets-store/1')
    assert.deepEqual(
      doc.recipients.map((x: {type: string; recipient: string}) => [x.type, x.recipient]),
      [
        ['age', alice],
        ['age', bob.pub],
      ],
    )
    assert.deepEqual(Object.keys(doc.secrets), ['API_KEY', 'NOTE'])
    assert.ok(!text.includes(CANARY))
  })

  it('a second recipient opens it with exec --from-file, without secrets.yaml or a provider', async () => {
    const r = await sb.run(['exec', '--from-file', file(), '--no-redact', '--', ...PRINT], {
      cwd: deploy,
      env: {HOME: join(deploy, 'home'), SECRETS_AGE_KEY: bob.key},
    })
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, `${CANARY}|two\nlines`, ''])
    const masked = await sb.run(['exec', '--from-file', file(), '--only', 'API_KEY', '--', ...PRINT], {
      cwd: deploy,
      env: {HOME: join(deploy, 'home'), SECRETS_AGE_KEY: bob.key},
    })
    assert.deepEqual([masked.code, masked.stdout], [0, '<secret:API_KEY>|'], masked.stderr)
    const log = readFileSync(join(deploy, 'home', '.local', 'state', 'secrets', 'audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    assert.deepEqual(
      log.slice(0, 2).map((e) => [e.command, e.child, e.action, e.provider, e.ref, e.outcome]),
      [
        ['exec', 'sh', 'read', 'file', `${file()}#API_KEY`, 'ok'],
        ['exec', 'sh', 'read', 'file', `${file()}#NOTE`, 'ok'],
      ],
    )
    // Each read carries the value's keyed fingerprint, as reads from a provider do: the same value, the same fp.
    assert.deepEqual(
      log.map((e) => /^[0-9a-f]{32}$/.test(e.fp)),
      [true, true, true],
    )
    assert.equal(log[2].ref, `${file()}#API_KEY`)
    assert.equal(log[2].fp, log[0].fp)
    assert.notEqual(log[1].fp, log[0].fp)
  })

  it('a third identity is refused (DECRYPT_FAILED), no identity is IDENTITY_MISSING, an edited file INTEGRITY; no child starts', async () => {
    const env = {HOME: join(deploy, 'home')}
    const third = await sb.run(['exec', '--from-file', file(), '--', 'sh', '-c', 'echo started'], {
      cwd: deploy,
      env: {...env, SECRETS_AGE_KEY: carol},
    })
    assert.equal(third.code, 7)
    assert.equal(third.stdout, '')
    assert.match(
      third.stderr,
      /^Error \[DECRYPT_FAILED\]: Your identity cannot open the store .*env\.enc: you have age1\w+ \(from SECRETS_AGE_KEY\), but the store is encrypted to: age1\w+, age1\w+\./,
    )
    const none = await sb.run(['exec', '--from-file', file(), '--', 'sh', '-c', 'echo started'], {cwd: deploy, env})
    assert.equal(none.code, 7)
    assert.equal(none.stdout, '')
    assert.match(none.stderr, /^Error \[IDENTITY_MISSING\]: No identity is available to open the store/)
    const doc = JSON.parse(readFileSync(file(), 'utf8'))
    const tampered = join(deploy, 'tampered.enc')
    writeFileSync(tampered, JSON.stringify({...doc, secrets: {API_KEY: doc.secrets.NOTE, NOTE: doc.secrets.API_KEY}}))
    const edited = await sb.run(['exec', '--from-file', tampered, '--', 'sh', '-c', 'echo started'], {
      cwd: deploy,
      env: {...env, SECRETS_AGE_KEY: bob.key},
    })
    assert.equal(edited.code, 8)
    assert.equal(edited.stdout, '')
    assert.match(edited.stderr, /^Error \[INTEGRITY\]:/)
  })

  it('refuses --encrypt without --output or --recipient, and a recipient that is not an age public key', async () => {
    const noOut = await sb.run(['export', '--encrypt', '--recipient', alice])
    assert.equal(noOut.code, 2)
    assert.match(noOut.stderr, /^Error \[USAGE\]: [^]*must be provided when using --encrypt: --output, --recipient\n/)
    const noRecipient = await sb.run(['export', '--encrypt', '-o', 'x.enc'])
    assert.equal(noRecipient.code, 2)
    assert.match(
      noRecipient.stderr,
      /^Error \[USAGE\]: [^]*must be provided when using --encrypt: --output, --recipient\n/,
    )
    const bad = await sb.run(['export', '--encrypt', '--recipient', 'age1nope', '-o', 'x.enc'])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /^Error \[USAGE\]: "age1nope" is not a valid age recipient\./)
    const secret = await sb.run(['export', '--encrypt', '--recipient', carol, '-o', 'x.enc'])
    assert.equal(secret.code, 2)
    assert.match(secret.stderr, /That is an age private key, not a recipient/)
    assert.ok(!secret.stderr.includes(carol))
    assert.throws(() => statSync(join(sb.project, 'x.enc')), /ENOENT/)
  })
})
