import {randomUUID} from 'node:crypto'
import {existsSync, writeFileSync} from 'node:fs'

import {errorBrief, SecretsError} from '../../errors.js'
import {requireCapability, supports, type ProviderWith} from '../../providers/capabilities.js'
import type {LeaseGrant, SecretProvider} from '../../providers/types.js'
import type {AuditEvent} from '../audit/log.js'
import type {Reference} from '../reference.js'
import {SecretValue} from '../secret-value.js'
import type {Session} from '../session.js'
import {DEFAULT_GENERATOR, generateValue} from './generate.js'
import {forgetJournal, journalEntries, journalHost, journalStep, ownerAlive, updateJournal} from './journal.js'
import type {JournalEntry} from './journal.js'
import type * as VerifyCommand from './verify-command.js'
import type {RotateOptions, RotationResult} from './types.js'
import {auditRotation, wholeSecret, type RotationTarget} from './targets.js'

type VerifyCommandModule = typeof VerifyCommand

/** A provider that can write, read, promote and drop a pending version. */
export type StagedProvider = ProviderWith<'stagedRotation'>

export function requireStaged(provider: SecretProvider, ref: Reference): asserts provider is StagedProvider {
  requireCapability(
    provider,
    'stagedRotation',
    `Provider ${provider.alias} (${provider.type}) cannot rotate secrets in stages, so ${ref.raw} was not rotated.`,
    {ref: ref.raw},
  )
}

/** Errors after which a pending write certainly wrote nothing, so its journal entry can go. */
const WROTE_NOTHING = new Set([
  'CONFLICT',
  'LOCKED',
  'PERMISSION_DENIED',
  'NOT_FOUND',
  'USAGE',
  'UNSUPPORTED',
  'REFERENCE_INVALID',
])

/** Everything decided before the first write: the base version, the new value, the verify command. */
interface Plan {
  baseVersion: string
  fresh: SecretValue
  newWhole: SecretValue
  old?: SecretValue
  verifyCommand?: {
    command: string
    module: VerifyCommandModule
    prepared: Awaited<ReturnType<VerifyCommandModule['prepareVerifyCommand']>>
  }
}

/**
 * One staged rotation: (1) write the new value as a pending version, (2) run the verify command with
 * it (the new value in its environment, like `exec`), (3) promote it, or drop the pending version when
 * the verify command fails, so current is exactly what it was. A journal entry exists from before the
 * first write until the end, so a rotation killed at any step is found again.
 */
export class StagedRotation {
  private readonly whole: Reference

  constructor(
    private readonly session: Session,
    private readonly o: RotateOptions,
    private readonly provider: StagedProvider,
    private readonly t: RotationTarget,
    private readonly result: RotationResult,
  ) {
    this.whole = wholeSecret(t.ref)
  }

  async run(): Promise<RotationResult> {
    const finished = await this.settleUnfinished()
    if (finished !== undefined) return finished
    if (this.o.abandonPending) {
      await this.provider.discardPending(this.whole, {})
      await this.audit('rotate-rolled-back')
      this.result.abandoned = 'pending version left by another run'
    }
    const plan = await this.plan()
    const token = randomUUID()
    await updateJournal(this.session.env, (entries) => [...entries, this.journalEntry(token, plan.baseVersion)])
    let pending: string | undefined
    try {
      pending = await this.writePending(plan, token)
      if (plan.verifyCommand !== undefined && !(await this.runVerifyCommand(plan, pending, token))) {
        return await this.dropAfterFailedVerifyCommand(plan, pending, token)
      }
      const {version} = await this.provider.promote(this.whole, {base: plan.baseVersion, pending})
      await this.audit('rotate-promoted', {version})
      await this.forget(token)
      return {
        ...this.result,
        status: 'rotated',
        oldVersion: plan.baseVersion,
        newVersion: version,
        ...(plan.verifyCommand === undefined ? {} : {verified: true}),
      }
    } catch (error) {
      await this.cleanUp(error, pending, token)
      throw error
    }
  }

  private audit(action: AuditEvent['action'], extra: Partial<AuditEvent> = {}): Promise<void> {
    return auditRotation(this.session, action, this.whole, extra)
  }

  private forget(id: string): Promise<void> {
    return forgetJournal(this.session.env, id)
  }

  /** An unfinished rotation of this secret: finish it (when verified) or drop its pending version first. */
  private async settleUnfinished(): Promise<RotationResult | undefined> {
    const config = this.session.config.file
    const whole = this.whole
    const unfinished = journalEntries(this.session.env).find((e) => e.config === config && e.ref === whole.raw)
    if (unfinished === undefined) return undefined
    if (ownerAlive(unfinished)) {
      throw new SecretsError(
        'CONFLICT',
        `${whole.raw} is being rotated by another process (pid ${unfinished.pid} on ${unfinished.host}, since ${unfinished.started}); nothing was changed.`,
        {ref: whole.raw, suggestions: ['Wait for it to finish, or see `secrets rotate --status`.']},
      )
    }
    if (unfinished.step === 'verified' && unfinished.pending !== undefined) {
      try {
        const {version} = await this.provider.promote(whole, {base: unfinished.base, pending: unfinished.pending})
        await this.audit('rotate-promoted', {version})
        await this.forget(unfinished.id)
        return {...this.result, status: 'finished', oldVersion: unfinished.base, newVersion: version, verified: true}
      } catch (error) {
        // The secret changed since (someone wrote it): the verified value is stale; abandon it below.
        if (!(error instanceof SecretsError && error.code === 'CONFLICT')) throw error
      }
    }
    await this.provider.discardPending(whole, {pending: unfinished.pending, token: unfinished.id})
    await this.audit('rotate-rolled-back', unfinished.pending === undefined ? {} : {version: unfinished.pending})
    await this.forget(unfinished.id)
    this.result.abandoned = unfinished.id
    return undefined
  }

  /** Read the current value and decide the new one; the verify command's environment is resolved here, before anything is written (fail closed, like exec). */
  private async plan(): Promise<Plan> {
    const {t, whole} = this
    const [current] = await this.provider.read([whole])
    await this.audit(
      'read',
      current.ok
        ? {version: current.version}
        : {outcome: current.error.code === 'NOT_FOUND' ? 'not_found' : 'error', code: current.error.code},
    )
    if (!current.ok) throw current.error
    if (current.lease !== undefined) throw await dynamicRefusal(this.provider, whole, current.lease)
    if (current.version === undefined) {
      throw new SecretsError(
        'UNSUPPORTED',
        `${whole.raw} keeps no versions (a Vault KV v1 mount?), so it cannot be rotated in stages.`,
        {ref: whole.raw},
      )
    }
    const fresh = this.o.value ?? generateValue(this.o.generator ?? t.policy?.generate ?? DEFAULT_GENERATOR)
    const {whole: newWhole, old} =
      t.ref.field === undefined
        ? {whole: fresh, old: current.value}
        : withField(current.value, t.ref.field, fresh, t.ref)
    const command = this.o.verifyCmd ?? t.policy?.verify
    if (command === undefined) return {baseVersion: current.version, fresh, newWhole, old}
    const module = await import('./verify-command.js')
    const prepared = await module.prepareVerifyCommand(this.session, this.o.environment)
    return {baseVersion: current.version, fresh, newWhole, old, verifyCommand: {command, module, prepared}}
  }

  private journalEntry(token: string, base: string): JournalEntry {
    const now = new Date().toISOString()
    return {
      id: token,
      ref: this.whole.raw,
      ...(this.t.ref.field === undefined ? {} : {field: this.t.ref.field}),
      name: this.t.name,
      provider: this.t.ref.alias,
      config: this.session.config.file,
      step: 'started',
      base,
      started: now,
      updated: now,
      pid: process.pid,
      host: journalHost(),
    }
  }

  private async writePending(plan: Plan, token: string): Promise<string> {
    let pending: string
    try {
      pending = (await this.provider.writePending(this.whole, plan.newWhole, {base: plan.baseVersion, token})).pending
    } catch (error) {
      await this.audit('rotate-pending', {
        outcome: 'error',
        code: error instanceof SecretsError ? error.code : 'INTERNAL',
      }).catch(() => undefined)
      throw error
    }
    await journalStep(this.session.env, token, 'pending', pending)
    await this.audit('rotate-pending', {version: pending})
    await testPause(this.session.env.SECRETS_TEST_PAUSE_AFTER_PENDING)
    return pending
  }

  /** Run the verify command against the pending value; true (and the journal at `verified`) when it passed. */
  private async runVerifyCommand(plan: Plan, pending: string, token: string): Promise<boolean> {
    const {command, module, prepared} = plan.verifyCommand!
    this.o.onProgress?.(`verifying ${this.t.name}: ${command}`)
    const ok = await module.runVerifyCommand({
      command,
      prepared,
      name: this.t.name,
      ref: this.t.ref,
      value: plan.fresh,
      old: plan.old,
      parentEnv: this.o.parentEnv,
      output: this.o.output,
    })
    if (!ok) return false
    await journalStep(this.session.env, token, 'verified', pending)
    await this.audit('rotate-verified', {version: pending})
    await testPause(this.session.env.SECRETS_TEST_PAUSE_AFTER_VERIFIED)
    return true
  }

  private async dropAfterFailedVerifyCommand(plan: Plan, pending: string, token: string): Promise<RotationResult> {
    await this.provider.discardPending(this.whole, {pending, token})
    await this.audit('rotate-rolled-back', {version: pending, outcome: 'error', code: 'VERIFY_FAILED'})
    await this.forget(token)
    return {
      ...this.result,
      status: 'rolled-back',
      oldVersion: plan.baseVersion,
      verified: false,
      error: {
        code: 'VERIFY_FAILED',
        message: `The verify command failed for ${this.t.name}; the pending version was dropped and ${plan.baseVersion} is still current.`,
      },
    }
  }

  /**
   * Nothing was promoted: drop what this run wrote (best effort) so current stays as it was. A pending
   * write that failed for sure (CONFLICT, denied ...) wrote nothing; one whose outcome is unknown
   * (connection lost) stays in the journal, for --status and the next run to clean up.
   */
  private async cleanUp(error: unknown, pending: string | undefined, token: string): Promise<void> {
    const code = error instanceof SecretsError ? error.code : 'INTERNAL'
    try {
      if (pending !== undefined) {
        await this.provider.discardPending(this.whole, {pending, token})
        await this.audit('rotate-rolled-back', {version: pending, outcome: 'error', code})
        await this.forget(token)
      } else if (WROTE_NOTHING.has(code)) {
        await this.forget(token)
      }
    } catch {
      // The journal still names the rotation; `rotate --status` shows it and the next run cleans up.
    }
  }
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

/**
 * UNSUPPORTED for a dynamic credential (Vault made it for this read, under a lease): there is no stored
 * value to stage, promote or roll back. The lease just obtained is revoked at once.
 */
async function dynamicRefusal(provider: SecretProvider, ref: Reference, lease: LeaseGrant): Promise<SecretsError> {
  let revoked = 'The credential just read was revoked.'
  try {
    if (supports(provider, 'leases')) await provider.revokeLease(lease.id)
  } catch (error) {
    const why = errorBrief(error)
    revoked = `The credential just read could not be revoked (${why}); it ends with its TTL.`
  }
  return new SecretsError(
    'UNSUPPORTED',
    `${ref.raw} is a dynamic credential: Vault makes it anew on each read, under a lease, so there is no stored value to rotate. ${revoked}`,
    {
      ref: ref.raw,
      suggestions: [
        'Vault rotates it: each read is a new credential. Read it through `secrets exec`, which renews its lease while the command runs and revokes it at the end.',
      ],
    },
  )
}
