import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {randomBytes, randomUUID} from 'node:crypto'
import {dirname, join} from 'node:path'
import {after, before, it, type TestContext} from 'node:test'
import {fileURLToPath} from 'node:url'

import {auditTrail} from '../../src/core/audit/trail.js'
import {nonInteractive} from '../../src/core/interaction.js'
import {parseReference} from '../../src/core/reference.js'
import {listVersions, rollback} from '../../src/core/rotation/rollback.js'
import {wholeSecret} from '../../src/core/rotation/targets.js'
import {SecretValue} from '../../src/core/secret-value.js'
import {selectField, Session} from '../../src/core/session.js'
import {SecretsError} from '../../src/errors.js'
import {CAPABILITY_METHODS, supports, type Capability} from '../../src/providers/capabilities.js'
import type {SecretProvider} from '../../src/providers/types.js'
import type {ProviderFixture} from './fixture.js'

/** Store a value under `name`: through core where the provider writes, else as another client would. */
async function put(s: Session, f: ProviderFixture, name: string, value: string): Promise<void> {
  if (supports(await s.provider(f.alias), 'write')) await s.set(f.refFor(name), new SecretValue(value))
  else await f.seed(name, value)
}

function session(f: ProviderFixture, command: string): Session {
  return new Session({cwd: f.cwd, env: f.env(), ui: nonInteractive(), command})
}

async function codeOf(work: Promise<unknown>): Promise<string> {
  try {
    await work
  } catch (error) {
    assert.ok(error instanceof SecretsError, `not a SecretsError: ${String(error)}`)
    return error.code
  }
  return 'no error'
}

/** The opened provider when it has capability `c`; else undefined, with the test marked skipped and why. */
async function having(t: TestContext, f: ProviderFixture, c: Capability): Promise<SecretProvider | undefined> {
  const s = session(f, 'conformance')
  const provider = await s.provider(f.alias)
  await s.close()
  if (supports(provider, c)) return provider
  t.skip(`${f.alias} (${provider.type}) has no ${c} capability (${CAPABILITY_METHODS[c].join(', ')})`)
  return undefined
}

/**
 * Whether a test server's counter key is a request that returns a value: AWS GetSecretValue and
 * BatchGetSecretValue, Vault's data paths, Key Vault's Get Secret (metadata, versions lists, mounts,
 * sign-in and token endpoints do not).
 */
function readsValue(key: string): boolean {
  if (/^(Batch)?GetSecretValue$/.test(key)) return true
  return /^GET /.test(key) && !/\/metadata\/|\/versions$|sys\/|auth\/|token|\.well-known|oauth2|discovery/.test(key)
}

/** How core asks for each capability it refuses up front; each must answer UNSUPPORTED before any I/O. */
type Ask = (s: Session, f: ProviderFixture, ref: string) => Promise<unknown>
const REFUSALS: Partial<Record<Capability, Ask>> = {
  write: (s, _f, ref) => s.set(ref, new SecretValue('never stored')),
  delete: (s, _f, ref) => s.delete(ref),
  list: (s, f) => s.list(f.alias),
  restore: (s, _f, ref) => s.restore(ref),
  purge: (s, _f, ref) =>
    s.purge(ref, async () => {
      throw new Error('purge asked for confirmation before refusing')
    }),
  trail: (s, f) => auditTrail(s, {alias: f.alias}),
  versions: (s, _f, ref) => listVersions(s, ref),
  rollback: (s, _f, ref) => rollback(s, ref),
}

/**
 * One suite for every provider: each capability a provider has does what it says through the real
 * Session (so core's checks and the provider's wire calls are both exercised), and each one it lacks is
 * refused with UNSUPPORTED before any I/O. A test a provider's capabilities make moot is skipped with
 * the reason, so the report's pass and skip counts follow from the capabilities (`expectedCounts`).
 */
export function conformance(f: ProviderFixture): void {
  const unique = () => `conf-${randomBytes(4).toString('hex')}`
  before(() => f.start())
  after(() => f.stop())

  it('write then read returns the bytes written, and a second write wins', async (t) => {
    if (!(await having(t, f, 'write'))) return
    const s = session(f, 'conformance')
    const ref = f.refFor(unique())
    await s.set(ref, new SecretValue('first value ✓'))
    assert.equal((await s.get(ref)).value.text(), 'first value ✓')
    await s.set(ref, new SecretValue('second value'))
    assert.equal((await s.get(ref)).value.text(), 'second value')
    await s.close()
  })

  it('reads a batch in order, one missing secret failing alone as NOT_FOUND', async () => {
    const s = session(f, 'conformance')
    const provider = await s.provider(f.alias)
    const names = [unique(), unique(), unique()]
    await put(s, f, names[0], 'value-a')
    await put(s, f, names[2], 'value-c')
    const refs = names.map((n) => parseReference(f.refFor(n)))
    const out = await provider.read(refs)
    // A provider returns the value before `#field` is applied; core applies it (a Vault reference names a field of a map).
    assert.deepEqual(
      out.map((o) => (o.ok ? selectField(o.value, o.ref).text() : o.error.code)),
      ['value-a', 'NOT_FOUND', 'value-c'],
    )
    assert.deepEqual(
      out.map((o) => o.ref.raw),
      refs.map((r) => r.raw),
    )
    await s.close()
  })

  it('lists what it holds (names and metadata, never values)', async (t) => {
    if (!(await having(t, f, 'list'))) return
    const s = session(f, 'conformance')
    const name = unique()
    await put(s, f, name, 'listed-value-123')
    const listed = await s.list(f.alias)
    assert.ok(
      listed.some((m) => m.ref === f.refFor(name) || m.name === name || m.ref.includes(name)),
      `${name} not listed`,
    )
    assert.ok(!JSON.stringify(listed).includes('listed-value-123'))
    await s.close()
  })

  it('describe gives the current version and last change from metadata calls alone, never the value', async (t) => {
    if (!(await having(t, f, 'describe'))) return
    const s = session(f, 'conformance')
    const provider = await s.provider(f.alias)
    assert.ok(supports(provider, 'describe'))
    const name = unique()
    await put(s, f, name, 'described-value-4711')
    const ref = parseReference(f.refFor(name))
    const [read] = await provider.read([ref])
    assert.ok(read.ok)
    // The predicate below must recognise the read just made, or its empty answer would prove nothing.
    const counted = Object.keys(f.counts())
    if (counted.length > 0) assert.ok(counted.some(readsValue), JSON.stringify(f.counts()))
    f.reset()
    const meta = await provider.describe(ref)
    // Vault KV v1 keeps no versions: then neither the read nor the metadata has one.
    assert.equal(meta.version, read.version)
    assert.equal(meta.ref, f.refFor(name).split('#')[0])
    if (meta.updated !== undefined) assert.match(meta.updated, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/)
    assert.ok(!JSON.stringify(meta).includes('described-value-4711'))
    const valueReads = Object.keys(f.counts()).filter(readsValue)
    assert.deepEqual(valueReads, [], JSON.stringify(f.counts()))
    assert.equal(await codeOf(provider.describe(parseReference(f.refFor(unique())))), 'NOT_FOUND')
    await s.close()
  })

  it('delete makes the secret NOT_FOUND', async (t) => {
    if (!(await having(t, f, 'delete'))) return
    const s = session(f, 'conformance')
    const ref = f.refFor(unique())
    await s.set(ref, new SecretValue('to be deleted'))
    await s.delete(ref)
    assert.equal(await codeOf(s.get(ref)), 'NOT_FOUND')
    await s.close()
  })

  it('audit trail reaches the provider trail() when it has one, and is refused otherwise', async () => {
    const s = session(f, 'conformance')
    const provider = await s.provider(f.alias)
    if (supports(provider, 'trail')) {
      // No request leaves: the provider's trail() is replaced on the opened instance.
      let asked = 0
      provider.trail = async () => {
        asked++
        return []
      }
      const r = await auditTrail(s, {alias: f.alias})
      assert.ok(Array.isArray(r.entries))
      assert.ok(asked <= 1)
    } else assert.equal(await codeOf(auditTrail(s, {alias: f.alias})), 'UNSUPPORTED')
    await s.close()
  })

  it('staged rotation: pending is invisible until promoted, one pending at a time, discard and rollback restore', async (t) => {
    if (!(await having(t, f, 'stagedRotation'))) return
    await stagedRotation(t, f, unique())
  })

  it('check() for doctor answers with one line', async () => {
    const s = session(f, 'conformance')
    const line = await (await s.provider(f.alias)).check()
    assert.equal(typeof line, 'string')
    assert.ok(line.length > 0 && !line.includes('\n'), line)
    await s.close()
  })

  for (const [capability, ask] of Object.entries(REFUSALS) as Array<[Capability, Ask]>) {
    it(`without ${capability}: core refuses with UNSUPPORTED before any request`, async (t) => {
      const s = session(f, 'conformance')
      const provider = await s.provider(f.alias)
      if (supports(provider, capability)) {
        t.skip(`${f.alias} (${provider.type}) has ${capability}`)
        await s.close()
        return
      }
      const ref = f.refFor(unique())
      f.reset()
      assert.equal(await codeOf(ask(s, f, ref)), 'UNSUPPORTED')
      assert.deepEqual(f.counts(), {})
      await s.close()
    })
  }
}

async function stagedRotation(t: TestContext, f: ProviderFixture, name: string): Promise<void> {
  const s = session(f, 'conformance')
  const provider = await s.provider(f.alias)
  assert.ok(supports(provider, 'stagedRotation'))
  const raw = f.refFor(name)
  await s.set(raw, new SecretValue('before-rotation'))
  const ref = parseReference(raw)
  const whole = wholeSecret(ref)
  const valueOf = async () => {
    const [o] = await provider.read([ref])
    assert.ok(o.ok)
    return {text: selectField(o.value, ref).text(), version: o.version as string, whole: o.value}
  }
  const before = await valueOf()
  if (before.version === undefined) {
    // A store without versions behind a provider that has them elsewhere (Vault KV v1 mounts).
    assert.equal(
      await codeOf(provider.writePending(whole, new SecretValue('{}'), {base: '0', token: randomUUID()})),
      'UNSUPPORTED',
    )
    await s.close()
    return
  }
  const withValue = (text: string) =>
    new SecretValue(
      ref.field === undefined ? text : JSON.stringify({...JSON.parse(before.whole.text()), [ref.field]: text}),
    )
  const {pending} = await provider.writePending(whole, withValue('after-rotation'), {
    base: before.version,
    token: randomUUID(),
  })
  assert.deepEqual(await valueOf(), before)
  assert.equal(selectField(await provider.readPending(whole, pending), ref).text(), 'after-rotation')
  assert.equal(
    await codeOf(provider.writePending(whole, withValue('second'), {base: before.version, token: randomUUID()})),
    'CONFLICT',
  )
  const {version} = await provider.promote(whole, {base: before.version, pending})
  const after = await valueOf()
  assert.deepEqual([after.text, after.version], ['after-rotation', version])
  assert.equal(await codeOf(provider.promote(whole, {base: before.version, pending})), 'CONFLICT')
  if (supports(provider, 'rollback')) {
    const versions = await provider.versions(whole)
    assert.equal(versions.find((v) => v.current)?.version, version)
    assert.ok(versions.some((v) => v.version === before.version && !v.current))
    await provider.restoreVersion(whole, {version: before.version, expected: version})
    assert.equal((await valueOf()).text, 'before-rotation')
  } else t.diagnostic(`${f.alias} has no rollback: the rollback step was not run`)
  const base = (await valueOf()).version
  const second = await provider.writePending(whole, withValue('discarded'), {base, token: randomUUID()})
  await provider.discardPending(whole, {pending: second.pending})
  assert.equal((await valueOf()).version, base)
  // Nothing is left pending: the next rotation may start.
  const third = await provider.writePending(whole, withValue('third'), {base, token: randomUUID()})
  await provider.discardPending(whole, {pending: third.pending})
  await s.close()
}

/** The tests `conformance(f)` passes and skips for a provider with `capabilities` (see capabilitiesOf). */
export function expectedCounts(capabilities: readonly Capability[]): {pass: number; skipped: number} {
  const has = (c: Capability) => capabilities.includes(c)
  const gated: Capability[] = ['write', 'list', 'describe', 'delete', 'stagedRotation']
  const refusals = Object.keys(REFUSALS) as Capability[]
  const skipped = gated.filter((c) => !has(c)).length + refusals.filter(has).length
  return {pass: 8 + refusals.length - skipped, skipped}
}

/**
 * Run the suite in a child process with `env` (e.g. NODE_EXTRA_CA_CERTS for a test server's CA) and
 * return its report; the caller asserts it passed. The child talks to the caller's test server on loopback.
 */
export function conformanceInChild(target: {
  alias: string
  cwd: string
  env: NodeJS.ProcessEnv
  refPrefix: string
}): Promise<{status: number | null; output: string}> {
  // NODE_TEST_CONTEXT would make the child believe it runs inside this test runner, and skip its tests.
  const {NODE_TEST_CONTEXT: _context, ...parentEnv} = process.env
  // Asynchronous: the test server answering the child lives in this process's event loop.
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test',
      '--test-reporter=tap',
      join(dirname(fileURLToPath(import.meta.url)), 'conformance-child.ts'),
    ],
    {
      env: {...parentEnv, ...target.env, CONFORMANCE_TARGET: JSON.stringify(target)},
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let output = ''
  child.stdout.on('data', (d) => (output += d))
  child.stderr.on('data', (d) => (output += d))
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000)
  return new Promise((resolve) => {
    child.on('close', (status) => {
      clearTimeout(timer)
      resolve({status, output})
    })
  })
}
