import assert from 'node:assert/strict'
import {chmodSync, existsSync, readFileSync, statSync, unlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {Sandbox, type RunResult} from '../helpers/cli.js'

const CONFIG = `providers:
  local: {type: local, path: .secrets/store.json, inject: false}
env:
  GOOD: {ref: local://GOOD, rotate: {every: 1d, verify: 'test -n "$GOOD"', generate: {type: hex, length: 16}}}
  BAD: {ref: local://BAD, rotate: {every: 1d, verify: 'exit 7'}}
  JSON_PW: {ref: 'local://JSONCFG#password', rotate: {generate: uuid}}
  PLAIN: local://PLAIN
`

describe('rotate (local store): generators, partial runs, finishing a verified rotation, the journal', () => {
  const sb = new Sandbox()
  const get = async (ref: string) => {
    const r = await sb.run(['get', ref])
    assert.equal(r.code, 0, r.stderr)
    return r.stdout
  }
  before(async () => {
    await sb.init()
    writeFileSync(join(sb.project, 'secrets.yaml'), CONFIG)
    for (const [name, value] of [
      ['GOOD', 'CANARY-good-0001'],
      ['BAD', 'CANARY-bad-0002'],
      ['JSONCFG', '{"user":"app","password":"CANARY-json-0003"}'],
      ['PLAIN', 'CANARY-plain-0004'],
    ]) {
      assert.equal((await sb.run(['set', name], {input: value})).code, 0)
    }
  })
  after(() => sb.cleanup())

  it('--all: GOOD rotated with its policy generator and verify, BAD rolled back: exit 15, one line each', async () => {
    const r = await sb.run(['rotate', '--all', '--yes'])
    assert.equal(r.code, 15, r.stderr)
    const lines = r.stderr.trim().split('\n')
    assert.equal(lines.length, 3, r.stderr)
    assert.match(lines[0], /^✓ GOOD \(local:\/\/GOOD\) rotated: 1 -> 2, verified$/)
    assert.equal(lines[1], '✗ BAD (local://BAD): verification failed; rolled back, version 1 is still current')
    assert.match(lines[2], /^✓ JSON_PW \(local:\/\/JSONCFG#password\) rotated: 1 -> 2$/)
    assert.match(await get('GOOD'), /^[0-9a-f]{32}$/)
    assert.equal(await get('BAD'), 'CANARY-bad-0002')
    // A field is replaced inside its JSON object; the other fields stay.
    const json = JSON.parse(await get('JSONCFG'))
    assert.equal(json.user, 'app')
    assert.match(json.password, /^[0-9a-f-]{36}$/)
    assert.equal(await get('PLAIN'), 'CANARY-plain-0004')
  })

  it('a variable without rotate.generate is not guessed at: USAGE (exit 2) naming the options, nothing written', async () => {
    for (const args of [
      ['rotate', 'PLAIN'],
      ['rotate', 'PLAIN', '--yes'],
      ['rotate', 'BAD', '--yes'],
    ]) {
      const r = await sb.run(args)
      assert.equal(r.code, 2, r.stderr)
      const name = args[1]
      assert.match(
        r.stderr,
        new RegExp(`^Error \\[USAGE\\]: Not rotating ${name}: it has no \`rotate.generate\` in secrets.yaml`),
      )
      assert.match(r.stderr, /→ Give the new value with --value-stdin .*or choose a generator with --generate/)
    }
    const json = await sb.run(['rotate', 'local://PLAIN', '--yes', '--json'])
    assert.equal(json.code, 2)
    assert.equal(JSON.parse(json.stdout).error.code, 'USAGE')
    assert.equal(await get('PLAIN'), 'CANARY-plain-0004')
    const versions = JSON.parse((await sb.run(['versions', 'PLAIN', '--json'])).stdout).versions
    assert.equal(versions.length, 1)
  })

  it('without a terminal rotate and rollback need --yes; --dry-run needs none and says how', async () => {
    const r = await sb.run(['rotate', 'GOOD'])
    assert.equal(r.code, 2)
    assert.equal(
      r.stderr,
      'Error [USAGE]: Refusing to rotate GOOD without confirmation: there is no terminal to ask on (or CI is set).\n  → Pass --yes to confirm.\n',
    )
    const back = await sb.run(['rollback', 'GOOD'])
    assert.equal(back.code, 2)
    assert.equal(
      back.stderr,
      'Error [USAGE]: Refusing to roll GOOD -> local://GOOD back without confirmation: there is no terminal to ask on (or CI is set).\n  → Pass --yes to confirm.\n',
    )
    const dry = await sb.run(['rotate', 'GOOD', '--dry-run'])
    assert.equal(dry.code, 0, dry.stderr)
    assert.match(
      dry.stderr,
      /GOOD \(local:\/\/GOOD\) would be rotated .*\n {4}new value: 16 random bytes as hex \(rotate\.generate\); verified by `test -n "\$GOOD"`\n/,
    )
    const json = JSON.parse((await sb.run(['rotate', 'GOOD', '--dry-run', '--json'])).stdout)
    assert.equal(json.rotations[0].newValue, '16 random bytes as hex (rotate.generate)')
    assert.equal(json.rotations[0].verify, 'test -n "$GOOD"')
  })

  it('a single failed verification exits 14 with its message; a missing secret exits 5', async () => {
    const bad = await sb.run(['rotate', 'BAD', '--generate', 'password', '--yes'])
    assert.equal(bad.code, 14)
    assert.equal(bad.stderr, '✗ BAD (local://BAD): verification failed; rolled back, version 1 is still current\n')
    const missing = await sb.run(['rotate', 'NOPE', '--generate', 'password', '--yes'])
    assert.equal(missing.code, 5)
    assert.match(
      missing.stderr,
      /^Error \[NOT_FOUND\]: NOPE is neither a variable of this environment nor a secret in the local store local\.\n {2}→ Create it with `secrets set NOPE`/,
    )
    const json = await sb.run(['rotate', 'NOPE', '--generate', 'password', '--yes', '--json'])
    assert.equal(json.code, 5)
    assert.equal(JSON.parse(json.stdout).error.code, 'NOT_FOUND')
  })

  it('--value-stdin takes the value exactly (one secret only); --generate and --length override the policy', async () => {
    const vendor = 'CANARY-vendor-issued-key-5555'
    const r = await sb.run(['rotate', 'PLAIN', '--value-stdin', '--yes', '--json'], {input: `${vendor}\n`})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(await get('PLAIN'), vendor)
    assert.ok(!r.stdout.includes(vendor) && !r.stderr.includes(vendor))
    const two = await sb.run(['rotate', 'PLAIN', 'GOOD', '--value-stdin', '--yes'], {input: 'x-value-1234'})
    assert.equal(two.code, 2)
    assert.match(two.stderr, /--value-stdin gives one value, but 2 secrets were selected/)
    assert.equal((await sb.run(['rotate', 'GOOD', '--generate', 'base64url', '--length', '12', '--yes'])).code, 0)
    assert.match(await get('GOOD'), /^[\w-]{16}$/)
    const bad = await sb.run(['rotate', 'GOOD', '--generate', 'hex', '--length', '3'])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /--length 3 is out of range/)
    const flagNoValue = await sb.run(['rotate', 'GOOD', '--verify-cmd'])
    assert.equal(flagNoValue.code, 2)
  })

  it('killed after verification: --status says verified; the next run finishes it with the verified value', async () => {
    const pause = join(sb.root, 'pause-verified')
    const seen = join(sb.root, 'seen-verified')
    const {child, done: ended} = sb.start(
      ['rotate', 'PLAIN', '--generate', 'password', '--yes', '--verify-cmd', `printf %s "$PLAIN" > ${seen}`],
      {
        env: {SECRETS_TEST_PAUSE_AFTER_VERIFIED: pause},
      },
    )
    const done = ended.then((r) => r.signal)
    for (let i = 0; i < 1500 && !existsSync(pause); i++) {
      await new Promise((r) => setTimeout(r, 20))
    }
    const before = await get('PLAIN')
    child.kill('SIGKILL')
    assert.equal(await done, 'SIGKILL')
    unlinkSync(pause)
    assert.equal(await get('PLAIN'), before)
    const journal = join(sb.home, '.local', 'state', 'secrets', 'rotations.json')
    assert.equal(statSync(journal).mode & 0o777, 0o600)
    const text = readFileSync(journal, 'utf8')
    assert.ok(!text.includes(readFileSync(seen, 'utf8')) && !text.includes(before), 'a value in the journal')
    const status = JSON.parse((await sb.run(['rotate', '--status', '--json'])).stdout).unfinished
    assert.deepEqual(
      status.map((e: {ref: string; step: string; running: boolean}) => [e.ref, e.step, e.running]),
      [['local://PLAIN', 'verified', false]],
    )
    const r: RunResult = await sb.run(['rotate', 'PLAIN', '--generate', 'password', '--yes', '--json'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(JSON.parse(r.stdout).rotations[0].status, 'finished')
    assert.equal(await get('PLAIN'), readFileSync(seen, 'utf8'))
    assert.deepEqual(JSON.parse((await sb.run(['rotate', '--status', '--json'])).stdout).unfinished, [])
    assert.equal((await sb.run(['rotate', '--status'])).stderr, 'No unfinished rotations.\n')
  })

  it('refuses a journal others can read, and bad flag combinations', async () => {
    const journal = join(sb.home, '.local', 'state', 'secrets', 'rotations.json')
    writeFileSync(journal, '{"rotations": []}\n')
    chmodSync(journal, 0o644)
    const r = await sb.run(['rotate', '--status'])
    assert.equal(r.code, 6)
    assert.match(r.stderr, /rotation journal .* can be read by group or others/)
    // Not JSON, or JSON without a rotations list: INTEGRITY (8), and nothing is rotated.
    for (const text of ['{"rotations": [', '{"rotations": {}}\n', 'null\n']) {
      writeFileSync(journal, text)
      chmodSync(journal, 0o600)

      const bad = await sb.run(['rotate', 'PLAIN', '--generate', 'password', '--yes', '--json'])
      assert.equal(bad.code, 8, bad.stderr)
      assert.equal(
        JSON.parse(bad.stdout).rotations[0].error.message,
        `The rotation journal ${journal} is not valid JSON.`,
      )
    }
    unlinkSync(journal)
    assert.equal((await sb.run(['rotate'])).code, 2)
    assert.equal((await sb.run(['rotate', 'GOOD', '--due'])).code, 2)
    assert.equal((await sb.run(['rotate', '--due', '--all'])).code, 2)
    const now = await sb.run(['rotate', '--due'], {env: {SECRETS_NOW: 'yesterday'}})
    assert.equal(now.code, 2)
    assert.match(
      now.stderr,
      /SECRETS_NOW must be an ISO 8601 time such as 2026-11-30T12:00:00Z or epoch milliseconds, not "yesterday"\./,
    )
  })

  it('status shows ages against policies; versions lists the history without values', async () => {
    const s = await sb.run(['status'], {env: {SECRETS_NOW: new Date(Date.now() + 3 * 86_400_000).toISOString()}})
    assert.equal(s.code, 0, s.stderr)
    assert.match(s.stdout, /^GOOD +local:\/\/GOOD +\S+ +[23]d +1d +due$/m)
    assert.match(s.stdout, /^JSON_PW +local:\/\/JSONCFG#password +\S+ +[23]d +ok$/m)
    assert.doesNotMatch(s.stdout, /PLAIN/)
    const v = await sb.run(['versions', 'GOOD'])
    assert.equal(v.code, 0, v.stderr)
    assert.match(v.stdout, /^VERSION +CREATED +CURRENT +LABELS\n3 +\S+ +yes *\n2 +\S+ *\n1 +\S+ *$/m)
  })

  it('a field the JSON secret does not have yet is added, verified with the new value (it was an internal error)', async () => {
    const seen = join(sb.root, 'seen-new-field')
    const before = JSON.parse(await get('JSONCFG'))
    assert.equal(before.token, undefined)
    const r = await sb.run([
      'rotate',
      'local://JSONCFG#token',
      '--generate',
      'password',
      '--yes',
      '--verify-cmd',
      `printf %s "$TOKEN" > ${seen}; echo "token=$TOKEN"`,
    ])
    assert.equal(r.code, 0, r.stderr)
    const token = readFileSync(seen, 'utf8')
    assert.match(token, /^[A-Za-z0-9]{32}$/)
    assert.deepEqual(JSON.parse(await get('JSONCFG')), {...before, token})
    // The verify command's output is masked like exec's.
    assert.ok(r.stderr.includes('token=<secret:TOKEN>\n') && !r.stderr.includes(token), r.stderr)
    assert.match(r.stderr, /^✓ TOKEN \(local:\/\/JSONCFG#token\) rotated: \d+ -> \d+, verified$/m)
  })
})
