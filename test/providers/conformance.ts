import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {randomBytes, randomUUID} from 'node:crypto'
import {dirname, join} from 'node:path'
import {it} from 'node:test'
import {fileURLToPath} from 'node:url'

import {nonInteractive} from '../../src/core/interaction.js'
import {parseReference} from '../../src/core/reference.js'
import {SecretValue} from '../../src/core/secret-value.js'
import {wholeSecret} from '../../src/core/rotation/targets.js'
import {selectField, Session} from '../../src/core/session.js'
import {auditTrail} from '../../src/core/audit/trail.js'
import {SecretsError} from '../../src/errors.js'

/** How to reach one provider for the conformance suite. */
export interface ConformanceTarget {
  /** The provider's alias in the project's secrets.yaml. */
  alias: string
  /** The project directory (holds secrets.yaml) and the environment a command would run with. */
  project: () => {cwd: string; env: NodeJS.ProcessEnv}
  /** A reference, in this provider's syntax, to a fresh secret called `name`. */
  refFor: (name: string) => string
}

function session(t: ConformanceTarget, command: string): Session {
  const {cwd, env} = t.project()
  return new Session({cwd, env, ui: nonInteractive(), command})
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

/**
 * One suite for every provider: each declared capability does what it says through the real Session
 * (so core's capability checks and the provider's wire calls are both exercised), and each capability a
 * provider does not declare is refused with UNSUPPORTED before any I/O.
 */
export function conformance(t: ConformanceTarget): void {
  const unique = () => `conf-${randomBytes(4).toString('hex')}`

  it('write then read returns the bytes written, and a second write wins', async () => {
    const s = session(t, 'conformance')
    const provider = await s.provider(t.alias)
    const ref = t.refFor(unique())
    if (!provider.capabilities.write) {
      assert.equal(await codeOf(s.set(ref, new SecretValue('x'))), 'UNSUPPORTED')
      return
    }
    await s.set(ref, new SecretValue('first value ✓'))
    assert.equal((await s.get(ref)).value.text(), 'first value ✓')
    await s.set(ref, new SecretValue('second value'))
    assert.equal((await s.get(ref)).value.text(), 'second value')
    await s.close()
  })

  it('reads a batch in order, one missing secret failing alone as NOT_FOUND', async () => {
    const s = session(t, 'conformance')
    const provider = await s.provider(t.alias)
    if (!provider.capabilities.write) return
    const names = [unique(), unique(), unique()]
    await s.set(t.refFor(names[0]), new SecretValue('value-a'))
    await s.set(t.refFor(names[2]), new SecretValue('value-c'))
    const refs = names.map((n) => parseReference(t.refFor(n)))
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

  it('lists what it holds (names and metadata, never values), or refuses to list', async () => {
    const s = session(t, 'conformance')
    const provider = await s.provider(t.alias)
    if (!provider.capabilities.list) {
      assert.equal(await codeOf(s.list(t.alias)), 'UNSUPPORTED')
      return
    }
    const name = unique()
    if (provider.capabilities.write) await s.set(t.refFor(name), new SecretValue('listed-value-123'))
    const listed = await s.list(t.alias)
    if (provider.capabilities.write)
      assert.ok(
        listed.some((m) => m.ref === t.refFor(name) || m.name === name || m.ref.includes(name)),
        `${name} not listed`,
      )
    assert.ok(!JSON.stringify(listed).includes('listed-value-123'))
    await s.close()
  })

  it('delete makes the secret NOT_FOUND, or is refused', async () => {
    const s = session(t, 'conformance')
    const provider = await s.provider(t.alias)
    const ref = t.refFor(unique())
    if (!provider.capabilities.delete) {
      assert.equal(await codeOf(s.delete(ref)), 'UNSUPPORTED')
      return
    }
    await s.set(ref, new SecretValue('to be deleted'))
    await s.delete(ref)
    assert.equal(await codeOf(s.get(ref)), 'NOT_FOUND')
    await s.close()
  })

  it('auditTrail tells the truth: a trail() method, or UNSUPPORTED from `audit trail` before any request', async () => {
    const s = session(t, 'conformance')
    const provider = await s.provider(t.alias)
    assert.equal(typeof provider.trail === 'function', provider.capabilities.auditTrail)
    if (!provider.capabilities.auditTrail) assert.equal(await codeOf(auditTrail(s, {alias: t.alias})), 'UNSUPPORTED')
  })

  it('staged rotation: pending is invisible until promoted, one pending at a time, discard and rollback restore; or UNSUPPORTED', async () => {
    const s = session(t, 'conformance')
    const provider = await s.provider(t.alias)
    if (!provider.capabilities.write) return
    const raw = t.refFor(unique())
    await s.set(raw, new SecretValue('before-rotation'))
    const ref = parseReference(raw)
    const whole = wholeSecret(ref)
    const staged = [provider.writePending, provider.promote, provider.discardPending, provider.readPending]
    if (!provider.capabilities.stagedRotation) {
      assert.ok(
        staged.every((m) => m === undefined),
        'stagedRotation is false but staged methods exist',
      )
      return
    }
    assert.ok(
      staged.every((m) => m !== undefined),
      'stagedRotation is true but a staged method is missing',
    )
    const valueOf = async () => {
      const [o] = await provider.read([ref])
      assert.ok(o.ok)
      return {text: selectField(o.value, ref).text(), version: o.version as string, whole: o.value}
    }
    const before = await valueOf()
    if (before.version === undefined) {
      // A store without versions behind a provider that has them elsewhere (Vault KV v1 mounts).
      assert.equal(
        await codeOf(provider.writePending!(whole, new SecretValue('{}'), {base: '0', token: randomUUID()})),
        'UNSUPPORTED',
      )
      return
    }
    const withValue = (text: string) =>
      new SecretValue(
        ref.field === undefined ? text : JSON.stringify({...JSON.parse(before.whole.text()), [ref.field]: text}),
      )
    const {pending} = await provider.writePending!(whole, withValue('after-rotation'), {
      base: before.version,
      token: randomUUID(),
    })
    assert.deepEqual(await valueOf(), before)
    assert.equal(selectField(await provider.readPending!(whole, pending), ref).text(), 'after-rotation')
    assert.equal(
      await codeOf(provider.writePending!(whole, withValue('second'), {base: before.version, token: randomUUID()})),
      'CONFLICT',
    )
    const {version} = await provider.promote!(whole, {base: before.version, pending})
    const after = await valueOf()
    assert.deepEqual([after.text, after.version], ['after-rotation', version])
    assert.equal(await codeOf(provider.promote!(whole, {base: before.version, pending})), 'CONFLICT')
    if (provider.capabilities.versions) {
      const versions = await provider.versions!(whole)
      assert.equal(versions.find((v) => v.current)?.version, version)
      assert.ok(versions.some((v) => v.version === before.version && !v.current))
      await provider.restoreVersion!(whole, {version: before.version, expected: version})
      assert.equal((await valueOf()).text, 'before-rotation')
    }
    const base = (await valueOf()).version
    const second = await provider.writePending!(whole, withValue('discarded'), {base, token: randomUUID()})
    await provider.discardPending!(whole, {pending: second.pending})
    assert.equal((await valueOf()).version, base)
    // Nothing is left pending: the next rotation may start.
    const third = await provider.writePending!(whole, withValue('third'), {base, token: randomUUID()})
    await provider.discardPending!(whole, {pending: third.pending})
    await s.close()
  })

  it('check() for doctor answers with one line', async () => {
    const s = session(t, 'conformance')
    const line = await (await s.provider(t.alias)).check()
    assert.equal(typeof line, 'string')
    assert.ok(line.length > 0 && !line.includes('\n'), line)
    await s.close()
  })
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
