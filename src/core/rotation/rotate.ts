import {randomUUID} from 'node:crypto'
import {existsSync, writeFileSync} from 'node:fs'

import {SecretsError, type ErrorCode} from '../../errors.js'
import type {SecretProvider, VersionInfo} from '../../providers/types.js'
import type {AuditEvent} from '../audit/log.js'
import {currentTime} from '../audit/query.js'
import {formatDuration, selectEnvironment, type GeneratorSpec, type RotationPolicy} from '../config/config.js'
import {DEFAULT_GENERATOR, generateValue} from './generate.js'
import {formatReference, type Reference} from '../reference.js'
import {journalEntries, journalHost, ownerAlive, updateJournal, type JournalEntry} from './journal.js'
import {SecretValue} from '../secret-value.js'
import type {Session} from '../session.js'
import {requireCapability, supports, type ProviderWith} from '../../providers/capabilities.js'

/** One secret to rotate: the variable (or reference) asked for, its reference and its policy. */
export interface RotationTarget {
  name: string
  ref: Reference
  policy?: RotationPolicy
}

/** What happened to one secret; never a value. */
export interface RotationResult {
  name: string
  ref: string
  provider: string
  status: 'rotated' | 'would-rotate' | 'rolled-back' | 'failed' | 'finished'
  oldVersion?: string
  newVersion?: string
  verified?: boolean
  /** Age of the current version and the policy, for --due and --dry-run. */
  lastRotated?: string
  every?: string
  /** An unfinished rotation of this secret that was abandoned (its pending version dropped) first. */
  abandoned?: string
  error?: {code: ErrorCode; message: string}
  /** What to do about the error (not part of the --json report). */
  suggestions?: string[]
}

export interface RotateOptions {
  /** Variables or references; empty with `due` or `all`. */
  inputs: string[]
  due?: boolean
  all?: boolean
  environment?: string
  dryRun?: boolean
  /** From --generate/--length; wins over the policy's generator. */
  generator?: GeneratorSpec
  /** From --value-stdin (one target only). */
  value?: SecretValue
  /** From --verify-cmd; wins over the policy's verify. */
  verifyCmd?: string
  /** Drop any pending version of the selected secrets first, whoever left it (e.g. a killed CI job whose journal is gone). */
  abandonPending?: boolean
  /** Start the provider's own rotation (AWS RotateSecret) and wait up to `timeoutMs` for it. */
  native?: boolean
  timeoutMs?: number
  /** Now, in ms (SECRETS_NOW in tests). */
  now: number
  parentEnv: NodeJS.ProcessEnv
  /** Where the verify command's output goes (stderr: stdout is for the report). */
  output: NodeJS.WritableStream
  onProgress?: (message: string) => void
}

/** Now in milliseconds: SECRETS_NOW for tests and reproducible CI dry runs (see currentTime), else the clock. */
export function nowFrom(env: NodeJS.ProcessEnv): number {
  return currentTime(undefined, env).getTime()
}

/** The whole secret a reference points into: no #field, no ?version. */
export function wholeSecret(ref: Reference): Reference {
  const base = {alias: ref.alias, path: ref.path, params: {}}
  return {...base, raw: formatReference(base)}
}

function sameSecret(a: Reference, b: Reference): boolean {
  return a.alias === b.alias && a.path === b.path && a.field === b.field
}

/** A variable name for a reference that is not a variable: its field or last path segment, upper-cased. */
function variableNameFor(ref: Reference): string {
  const last = ref.field ?? ref.path.split('/').at(-1) ?? 'SECRET'
  const name = last.toUpperCase().replaceAll(/[^A-Z0-9_]/g, '_')
  return /^[A-Z_]/.test(name) ? name : `_${name}`
}

/** Pick the targets: named variables or references, every variable with a policy (--all), or the due ones. */
export function selectTargets(
  session: Session,
  o: Pick<RotateOptions, 'inputs' | 'all' | 'due' | 'environment'>,
): RotationTarget[] {
  const entries = selectEnvironment(session.config, o.environment)
  const policyOf = (name: string) => entries.get(name)?.rotate ?? session.config.rotation.get(name)
  if (o.inputs.length > 0) {
    return o.inputs.map((input) => {
      const entry = entries.get(input)
      if (entry !== undefined) return {name: input, ref: entry.ref, policy: policyOf(input)}
      const ref = session.toReference(input)
      const match = [...entries.values()].find((e) => sameSecret(e.ref, ref))
      if (match !== undefined) return {name: match.name, ref, policy: policyOf(match.name)}
      return {name: input.includes('://') ? variableNameFor(ref) : input, ref}
    })
  }
  return [...entries.values()]
    .filter((e) => policyOf(e.name) !== undefined)
    .map((e) => ({name: e.name, ref: e.ref, policy: policyOf(e.name)}))
}

/** The current version (its id and when it was written) from the provider's version history; metadata only, no value. */
async function currentVersion(provider: SecretProvider, ref: Reference): Promise<VersionInfo | undefined> {
  if (!supports(provider, 'versions')) return undefined
  const versions = await provider.versions(wholeSecret(ref))
  return versions.find((v) => v.current)
}

function requireStaged(provider: SecretProvider, ref: Reference): asserts provider is ProviderWith<'stagedRotation'> {
  requireCapability(
    provider,
    'stagedRotation',
    `Provider ${provider.alias} (${provider.type}) cannot rotate secrets in stages, so ${ref.raw} was not rotated.`,
    {ref: ref.raw},
  )
}

/**
 * Replace `field` in a JSON object value, keeping the other fields; also the field's old value (to
 * mask in the verify command's output), undefined when the rotation adds the field.
 */
function withField(
  current: SecretValue,
  field: string,
  value: SecretValue,
  ref: Reference,
): {whole: SecretValue; old?: SecretValue} {
  let obj: unknown
  try {
    obj = JSON.parse(current.text())
  } catch {
    obj = undefined
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    throw new SecretsError(
      'USAGE',
      `Cannot rotate ${ref.raw}: the secret is not a JSON object, so the field "${field}" cannot be replaced on its own.`,
      {
        ref: ref.raw,
        suggestions: [`Rotate the whole secret (${wholeSecret(ref).raw}) with --value-stdin.`],
      },
    )
  }
  const fields = obj as Record<string, unknown>
  const old = fields[field]
  return {
    whole: new SecretValue(JSON.stringify({...fields, [field]: value.text()})),
    ...(old === undefined ? {} : {old: new SecretValue(typeof old === 'string' ? old : JSON.stringify(old))}),
  }
}

/**
 * `secrets rotate`: for each target, (1) write the new value as a pending version, (2) verify it with
 * the verify command (the new value in its environment, like `exec`), (3) promote it, or (4) drop the
 * pending version when verification fails, so current is exactly what it was. A journal entry exists
 * from before the first write until the end, so a rotation killed at any step is found again.
 */
export class Rotator {
  constructor(
    private readonly session: Session,
    private readonly o: RotateOptions,
  ) {}

  private audit(action: AuditEvent['action'], ref: Reference, extra: Partial<AuditEvent> = {}): Promise<void> {
    return this.session.audit([
      {command: this.session.command, action, provider: ref.alias, ref: ref.raw, outcome: 'ok', ...extra},
    ])
  }

  /** Select, check due-ness, and rotate each target in turn. */
  async run(): Promise<RotationResult[]> {
    const targets = selectTargets(this.session, this.o)
    if (this.o.value !== undefined && targets.length !== 1) {
      throw new SecretsError('USAGE', `--value-stdin gives one value, but ${targets.length} secrets were selected.`, {
        suggestions: ['Name exactly one variable or reference with --value-stdin.'],
      })
    }
    const results: RotationResult[] = []
    for (const [i, t] of targets.entries()) {
      this.o.onProgress?.(`[${i + 1}/${targets.length}] ${t.name}`)

      const r = await this.one(t)
      if (r !== undefined) results.push(r)
    }
    return results
  }

  /** One target; undefined when --due and it is not due. */
  private async one(t: RotationTarget): Promise<RotationResult | undefined> {
    const whole = wholeSecret(t.ref)
    const base: RotationResult = {name: t.name, ref: t.ref.raw, provider: t.ref.alias, status: 'failed'}
    try {
      if (Object.keys(t.ref.params).length > 0) {
        throw new SecretsError(
          'USAGE',
          `Cannot rotate ${t.ref.raw}: a rotation writes a new current version; drop the ?${Object.keys(t.ref.params)[0]}= part.`,
          {ref: t.ref.raw},
        )
      }
      const provider = await this.session.provider(t.ref.alias)
      if (!this.o.native) requireStaged(provider, t.ref)
      // One listing of the versions serves both --due (the current version's age) and --dry-run (its id).
      let current: VersionInfo | undefined
      if (this.o.due) {
        const every = t.policy?.every
        if (every === undefined) return undefined
        current = await currentVersion(provider, t.ref)
        const last = current?.created
        base.lastRotated = last
        base.every = formatDuration(every)
        if (last !== undefined && this.o.now - Date.parse(last) < every) return undefined
      }
      if (this.o.dryRun) {
        if (!this.o.due) current = await currentVersion(provider, t.ref)
        return {...base, status: 'would-rotate', ...(current === undefined ? {} : {oldVersion: current.version})}
      }
      if (this.o.native) return await this.rotateNative(provider, t, whole, base)
      return await this.rotate(provider, t, whole, base)
    } catch (error) {
      const e =
        error instanceof SecretsError
          ? error
          : new SecretsError('INTERNAL', error instanceof Error ? error.message : String(error), {cause: error})
      if (e.code === 'INTERNAL') throw error
      const failed: RotationResult = {...base, status: 'failed', error: {code: e.code, message: e.message}}
      // Kept off the JSON report (enumerable: false) but available to the command's error rendering.
      return Object.defineProperty(failed, 'suggestions', {value: e.suggestions, enumerable: false})
    }
  }

  /** AWS native rotation: RotateSecret, then wait until the new version is AWSCURRENT (or time out). */
  private async rotateNative(
    provider: SecretProvider,
    t: RotationTarget,
    whole: Reference,
    result: RotationResult,
  ): Promise<RotationResult> {
    requireCapability(
      provider,
      'nativeRotation',
      `Provider ${provider.alias} (${provider.type}) has no rotation of its own; --native works with AWS Secrets Manager.`,
      {ref: t.ref.raw},
    )
    if (t.ref.field !== undefined)
      throw new SecretsError(
        'USAGE',
        `--native rotates whole secrets (its rotation function decides the fields); give ${whole.raw}.`,
        {ref: t.ref.raw},
      )
    const before = (await provider.versions(whole)).find((v) => v.current)?.version
    const {version} = await provider.startNativeRotation(whole, {token: randomUUID()})
    await this.audit('rotate-pending', whole, {version})
    const deadline = Date.now() + (this.o.timeoutMs ?? 300_000)
    for (let delay = 200; ; delay = Math.min(delay * 2, 5000)) {
      const versions = await provider.versions(whole)
      if (versions.find((v) => v.current)?.version === version) break
      if (Date.now() + delay > deadline) {
        await this.audit('rotate-promoted', whole, {version, outcome: 'error', code: 'UNAVAILABLE'})
        throw new SecretsError(
          'UNAVAILABLE',
          `The rotation function of ${whole.raw} did not make version ${version} current within ${Math.round((this.o.timeoutMs ?? 300_000) / 1000)}s; ${before ?? 'the previous version'} is still current.`,
          {
            ref: whole.raw,
            suggestions: [
              "Look at the rotation function's logs (CloudWatch). If it is still running, wait and check `secrets versions " +
                whole.raw +
                '`; if it failed, fix it, remove the AWSPENDING label (aws secretsmanager update-secret-version-stage) and run again, or raise --timeout.',
            ],
          },
        )
      }

      await new Promise((r) => setTimeout(r, delay))
    }
    await this.audit('rotate-promoted', whole, {version})
    return {...result, status: 'rotated', ...(before === undefined ? {} : {oldVersion: before}), newVersion: version}
  }

  private async rotate(
    provider: SecretProvider,
    t: RotationTarget,
    whole: Reference,
    result: RotationResult,
  ): Promise<RotationResult> {
    requireStaged(provider, t.ref)
    const config = this.session.config.file
    // An unfinished rotation of this secret: finish it (verified) or drop its pending version first.
    const unfinished = journalEntries(this.session.env).find((e) => e.config === config && e.ref === whole.raw)
    if (unfinished !== undefined) {
      if (ownerAlive(unfinished)) {
        throw new SecretsError(
          'CONFLICT',
          `${whole.raw} is being rotated by another process (pid ${unfinished.pid} on ${unfinished.host}, since ${unfinished.started}); nothing was changed.`,
          {
            ref: whole.raw,
            suggestions: ['Wait for it to finish, or see `secrets rotate --status`.'],
          },
        )
      }
      if (unfinished.step === 'verified' && unfinished.pending !== undefined) {
        try {
          const {version} = await provider.promote(whole, {base: unfinished.base, pending: unfinished.pending})
          await this.audit('rotate-promoted', whole, {version})
          await this.forget(unfinished.id)
          return {...result, status: 'finished', oldVersion: unfinished.base, newVersion: version, verified: true}
        } catch (error) {
          // The secret changed since (someone wrote it): the verified value is stale; abandon it below.
          if (!(error instanceof SecretsError && error.code === 'CONFLICT')) throw error
        }
      }
      await provider.discardPending(whole, {pending: unfinished.pending, token: unfinished.id})
      await this.audit('rotate-rolled-back', whole, {
        ...(unfinished.pending === undefined ? {} : {version: unfinished.pending}),
      })
      await this.forget(unfinished.id)
      result.abandoned = unfinished.id
    }

    if (this.o.abandonPending) {
      await provider.discardPending(whole, {})
      await this.audit('rotate-rolled-back', whole)
      result.abandoned = 'pending version left by another run'
    }
    const [current] = await provider.read([whole])
    await this.audit(
      'read',
      whole,
      current.ok
        ? {version: current.version}
        : {outcome: current.error.code === 'NOT_FOUND' ? 'not_found' : 'error', code: current.error.code},
    )
    if (!current.ok) throw current.error
    if (current.version === undefined) {
      throw new SecretsError(
        'UNSUPPORTED',
        `${whole.raw} keeps no versions (a Vault KV v1 mount?), so it cannot be rotated in stages.`,
        {ref: whole.raw},
      )
    }
    const baseVersion = current.version
    const fresh = this.o.value ?? generateValue(this.o.generator ?? t.policy?.generate ?? DEFAULT_GENERATOR)
    const {whole: newWhole, old} =
      t.ref.field === undefined
        ? {whole: fresh, old: current.value}
        : withField(current.value, t.ref.field, fresh, t.ref)
    const verify = this.o.verifyCmd ?? t.policy?.verify
    // Resolve the verify command's environment before writing anything (fail closed, like exec).
    const verifier = verify === undefined ? undefined : await import('./verify-command.js')
    const prepared = verifier === undefined ? undefined : await verifier.prepareVerify(this.session, this.o.environment)

    const token = randomUUID()
    const now = new Date().toISOString()
    const entry: JournalEntry = {
      id: token,
      ref: whole.raw,
      ...(t.ref.field === undefined ? {} : {field: t.ref.field}),
      name: t.name,
      provider: t.ref.alias,
      config,
      step: 'started',
      base: baseVersion,
      started: now,
      updated: now,
      pid: process.pid,
      host: journalHost(),
    }
    await updateJournal(this.session.env, (entries) => [...entries, entry])
    let pending: string | undefined
    try {
      try {
        pending = (await provider.writePending(whole, newWhole, {base: baseVersion, token})).pending
      } catch (error) {
        await this.audit('rotate-pending', whole, {
          outcome: 'error',
          code: error instanceof SecretsError ? error.code : 'INTERNAL',
        }).catch(() => undefined)
        throw error
      }
      await this.step(token, 'pending', pending)
      await this.audit('rotate-pending', whole, {version: pending})
      await testPause(this.session.env.SECRETS_TEST_PAUSE_AFTER_PENDING)
      if (verify !== undefined) {
        this.o.onProgress?.(`verifying ${t.name}: ${verify}`)
        const ok = await verifier!.runVerify({
          command: verify,
          prepared: prepared!,
          name: t.name,
          ref: t.ref,
          value: fresh,
          old,
          parentEnv: this.o.parentEnv,
          output: this.o.output,
        })
        if (!ok) {
          await provider.discardPending(whole, {pending, token})
          await this.audit('rotate-rolled-back', whole, {version: pending, outcome: 'error', code: 'VERIFY_FAILED'})
          await this.forget(token)
          return {
            ...result,
            status: 'rolled-back',
            oldVersion: baseVersion,
            verified: false,
            error: {
              code: 'VERIFY_FAILED',
              message: `The verify command failed for ${t.name}; the pending version was dropped and ${baseVersion} is still current.`,
            },
          }
        }
        await this.step(token, 'verified', pending)
        await this.audit('rotate-verified', whole, {version: pending})
        await testPause(this.session.env.SECRETS_TEST_PAUSE_AFTER_VERIFIED)
      }
      const {version} = await provider.promote(whole, {base: baseVersion, pending})
      await this.audit('rotate-promoted', whole, {version})
      await this.forget(token)
      return {
        ...result,
        status: 'rotated',
        oldVersion: baseVersion,
        newVersion: version,
        ...(verify === undefined ? {} : {verified: true}),
      }
    } catch (error) {
      // Nothing was promoted: drop what this run wrote (best effort) so current stays as it was. A
      // pending write that failed for sure (CONFLICT, denied ...) wrote nothing; one whose outcome is
      // unknown (connection lost) stays in the journal, for --status and the next run to clean up.
      const code = error instanceof SecretsError ? error.code : 'INTERNAL'
      try {
        if (pending !== undefined) {
          await provider.discardPending(whole, {pending, token})
          await this.audit('rotate-rolled-back', whole, {version: pending, outcome: 'error', code})
          await this.forget(token)
        } else if (
          [
            'CONFLICT',
            'LOCKED',
            'PERMISSION_DENIED',
            'NOT_FOUND',
            'USAGE',
            'UNSUPPORTED',
            'REFERENCE_INVALID',
          ].includes(code)
        ) {
          await this.forget(token)
        }
      } catch {
        // The journal still names the rotation; `rotate --status` shows it and the next run cleans up.
      }
      throw error
    }
  }

  private async step(id: string, step: JournalEntry['step'], pending: string): Promise<void> {
    await updateJournal(this.session.env, (entries) =>
      entries.map((e) => (e.id === id ? {...e, step, pending, updated: new Date().toISOString()} : e)),
    )
  }

  private async forget(id: string): Promise<void> {
    await updateJournal(this.session.env, (entries) => entries.filter((e) => e.id !== id))
  }
}

/**
 * Test-only pause points: with SECRETS_TEST_PAUSE_AFTER_PENDING=FILE (or ..._AFTER_VERIFIED), rotate
 * creates FILE right after that step (journal updated) and waits until FILE is removed, so a test can
 * SIGKILL it there or run a concurrent rotation deterministically. Not for production use.
 */
async function testPause(file: string | undefined): Promise<void> {
  if (!file) return
  writeFileSync(file, String(process.pid))
  while (existsSync(file)) {
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** One line of `secrets status`: a variable's age against its policy; never a value. */
export interface StatusRow {
  name: string
  ref: string
  provider: string
  every?: string
  lastRotated?: string
  ageDays?: number
  due: boolean
  error?: {code: ErrorCode; message: string}
}

/** `secrets status`: every variable with a rotation policy, its last rotation and whether it is due. */
export async function rotationAges(
  session: Session,
  environment: string | undefined,
  now: number,
): Promise<StatusRow[]> {
  const targets = selectTargets(session, {inputs: [], environment})
  return Promise.all(
    targets.map(async (t): Promise<StatusRow> => {
      const row: StatusRow = {
        name: t.name,
        ref: t.ref.raw,
        provider: t.ref.alias,
        due: false,
        ...(t.policy?.every === undefined ? {} : {every: formatDuration(t.policy.every)}),
      }
      try {
        const provider = await session.provider(t.ref.alias)
        const last = (await currentVersion(provider, t.ref))?.created
        if (last !== undefined) {
          row.lastRotated = last
          row.ageDays = Math.floor((now - Date.parse(last)) / 86_400_000)
        }
        row.due = t.policy?.every !== undefined && (last === undefined || now - Date.parse(last) >= t.policy.every)
      } catch (error) {
        if (!(error instanceof SecretsError)) throw error
        row.error = {code: error.code, message: error.message}
      }
      return row
    }),
  )
}

/** Unfinished rotations for `rotate --status`, with whether their process still runs. */
export function rotationStatus(env: NodeJS.ProcessEnv): Array<JournalEntry & {running: boolean}> {
  return journalEntries(env).map((e) => ({...e, running: ownerAlive(e)}))
}

/** `secrets versions`: the history of one secret, newest first, never values. */
export async function listVersions(
  session: Session,
  input: string,
): Promise<{ref: Reference; versions: VersionInfo[]}> {
  const ref = session.toReference(input)
  const provider = await session.provider(ref.alias)
  requireCapability(provider, 'versions', `Provider ${provider.alias} (${provider.type}) keeps no versions.`, {
    ref: ref.raw,
  })
  return {ref, versions: await provider.versions(wholeSecret(ref))}
}

/** `secrets rollback`: make an earlier version current again (default: the one before current). */
export async function rollback(
  session: Session,
  input: string,
  to?: string,
): Promise<{ref: string; from: string; to: string; version: string}> {
  const ref = session.toReference(input)
  const whole = wholeSecret(ref)
  const provider = await session.provider(ref.alias)
  requireCapability(
    provider,
    'rollback',
    `Provider ${provider.alias} (${provider.type}) keeps no versions, so there is nothing to roll back to.`,
    {ref: ref.raw},
  )
  if (ref.field !== undefined || Object.keys(ref.params).length > 0) {
    throw new SecretsError(
      'USAGE',
      `Cannot roll back ${ref.raw}: a rollback restores a whole secret; give ${whole.raw} and --to VERSION.`,
      {ref: ref.raw},
    )
  }
  const versions = await provider.versions(whole)
  const current = versions.find((v) => v.current)
  if (current === undefined) throw new SecretsError('NOT_FOUND', `${ref.raw} has no current version.`, {ref: ref.raw})
  const usable = versions.filter(
    (v) =>
      !v.current &&
      !v.pending &&
      !(v.labels ?? []).some((l) => l === 'deleted' || l === 'destroyed' || l === 'disabled'),
  )
  const target =
    to === undefined
      ? (usable.find((v) => v.created === undefined || current.created === undefined || v.created <= current.created) ??
        usable[0])
      : versions.find((v) => v.version === to)
  if (target === undefined) {
    throw new SecretsError(
      'NOT_FOUND',
      to === undefined
        ? `${ref.raw} has no earlier version to roll back to.`
        : `${ref.raw} has no version ${to} (versions: ${versions.map((v) => v.version).join(', ')}).`,
      {
        ref: ref.raw,
        suggestions: [`See \`secrets versions ${ref.raw}\`.`],
      },
    )
  }
  if (target.version === current.version)
    throw new SecretsError('USAGE', `Version ${to} of ${ref.raw} is already current; nothing was changed.`, {
      ref: ref.raw,
    })
  try {
    const {version} = await provider.restoreVersion(whole, {version: target.version, expected: current.version})
    await session.audit([
      {command: session.command, action: 'rollback', provider: ref.alias, ref: whole.raw, version, outcome: 'ok'},
    ])
    return {ref: whole.raw, from: current.version, to: target.version, version}
  } catch (error) {
    await session
      .audit([
        {
          command: session.command,
          action: 'rollback',
          provider: ref.alias,
          ref: whole.raw,
          outcome: 'error',
          code: error instanceof SecretsError ? error.code : 'INTERNAL',
        },
      ])
      .catch(() => undefined)
    throw error
  }
}
