import assert from 'node:assert/strict'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import * as age from 'age-encryption'

import {forgeStore} from '../helpers/forge-store.js'
import {Sandbox} from '../helpers/cli.js'

const PRINT_ENV = [
  'exec',
  '--',
  process.execPath,
  '-e',
  'console.log(JSON.stringify([process.env.NODE_OPTIONS ?? null, process.env.SECRETS_TOKEN ?? null, process.env.API_KEY ?? null]))',
]

describe('store authenticity: what a store may inject', () => {
  const sb = new Sandbox()
  let recipient: string
  before(async () => {
    await sb.init()
    recipient = /# public key: (age1\w+)/.exec(readFileSync(sb.identityFile, 'utf8'))![1]
    assert.equal((await sb.run(['set', 'API_KEY'], {input: 'real-api-key'})).code, 0)
    assert.equal((await sb.run(['set', 'NODE_OPTIONS'], {input: '--max-old-space-size=99'})).code, 0)
  })
  after(() => sb.cleanup())

  it('set refuses a SECRETS_* name', async () => {
    const r = await sb.run(['set', 'SECRETS_TOKEN'], {input: 'x'})
    assert.equal(r.code, 2)
    assert.match(
      r.stderr,
      /^Error \[USAGE\]: SECRETS_TOKEN is a reserved name: variables starting with SECRETS_ configure secrets itself/,
    )
  })

  it('a code-loading name in the store is not injected implicitly, and a warning says why', async () => {
    const r = await sb.run(PRINT_ENV)
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, '[null,null,"<secret:API_KEY>"]\n')
    assert.match(
      r.stderr,
      /local:\/\/NODE_OPTIONS is not injected as NODE_OPTIONS: that variable changes how programs load or run code, so it comes only from an explicit `env:` entry in secrets.yaml/,
    )
    const exported = await sb.run(['export', '--format', 'dotenv'])
    assert.equal(exported.code, 0, exported.stderr)
    assert.doesNotMatch(exported.stdout, /NODE_OPTIONS/)
    assert.match(exported.stdout, /^API_KEY=/m)
  })

  it('an explicit env: entry injects it, with a warning', async () => {
    const config = join(sb.project, 'secrets.yaml')
    const before = readFileSync(config, 'utf8')
    try {
      writeFileSync(config, before.replace('env: {}', 'env:\n  NODE_OPTIONS: local://NODE_OPTIONS'))
      const r = await sb.run([
        'exec',
        '--no-redact',
        '--',
        process.execPath,
        '-e',
        'console.log(process.env.NODE_OPTIONS)',
      ])
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stdout, '--max-old-space-size=99\n')
      assert.match(
        r.stderr,
        /NODE_OPTIONS \(local:\/\/NODE_OPTIONS\) changes how programs load or run code; injected because secrets.yaml names it under env:/,
      )
    } finally {
      writeFileSync(config, before)
    }
  })

  it('a forged store (new data key wrapped to my public key) is refused: nothing runs, nothing is injected', async () => {
    const marker = join(sb.root, 'pwned')
    writeFileSync(join(sb.root, 'evil.cjs'), `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`)
    const real = readFileSync(sb.storeFile, 'utf8')
    await forgeStore(sb.storeFile, recipient, {
      API_KEY: 'forged',
      NODE_OPTIONS: `--require ${join(sb.root, 'evil.cjs')}`,
    })
    const r = await sb.run(PRINT_ENV)
    assert.equal(r.code, 8)
    assert.equal(r.stdout, '')
    assert.match(r.stderr, /^Error \[KEY_CHANGED\]: The data key of the store .* changed since you last opened it/)
    assert.match(r.stderr, /`secrets key trust`/)
    assert.throws(() => readFileSync(marker), {code: 'ENOENT'})
    // Without a terminal, key trust needs --yes; with it the forged key becomes the trusted one.
    const refused = await sb.run(['key', 'trust'])
    assert.equal(refused.code, 2, refused.stderr)
    const trusted = await sb.run(['key', 'trust', '--yes', '--json'])
    assert.equal(trusted.code, 0, trusted.stderr)
    assert.equal(JSON.parse(trusted.stdout).changed, true)
    // Even trusted, the forged NODE_OPTIONS stays out of the child: it is not named under env:.
    const after = await sb.run(PRINT_ENV)
    assert.equal(after.code, 0, after.stderr)
    assert.equal(after.stdout, '[null,null,"<secret:API_KEY>"]\n')
    assert.throws(() => readFileSync(marker), {code: 'ENOENT'})
    writeFileSync(sb.storeFile, real)
    assert.equal((await sb.run(['key', 'trust', '--yes'])).code, 0)
  })

  it("a teammate's key rotate passes silently", async () => {
    const bobKey = await age.generateIdentity()
    assert.equal((await sb.run(['key', 'add', await age.identityToRecipient(bobKey), '--label', 'bob'])).code, 0)
    // Bob: another user with his own HOME (so his own remembered keys), who opened the store before.
    const bob = new Sandbox()
    try {
      const env = {HOME: bob.home, SECRETS_AGE_KEY: bobKey}
      assert.equal((await sb.run(['get', 'API_KEY'], {env})).stdout, 'real-api-key')
      for (let i = 0; i < 2; i++) assert.equal((await sb.run(['key', 'rotate', '--yes'])).code, 0)
      const g = await sb.run(['get', 'API_KEY'], {env})
      assert.equal(g.code, 0, g.stderr)
      assert.equal(g.stdout, 'real-api-key')
      assert.equal(g.stderr, '')
    } finally {
      bob.cleanup()
    }
  })
})
