import {EXIT_CODES, SecretsError} from '../../errors.js'
import type {VersionInfo} from '../../providers/types.js'
import {formatDuration} from '../lib/time.js'
import {explainMissing} from '../names.js'
import type {Session} from '../session.js'
import {rotateNative} from './native.js'
import {requireStaged, StagedRotation} from './staged.js'
import {currentVersion, selectTargets, type RotationTarget} from './targets.js'
import type {RotateOptions, RotationResult} from './types.js'

export type {RotateOptions, RotationResult} from './types.js'

/**
 * `secrets rotate`: select the targets, keep the due ones (--due), and rotate each in turn, staged
 * (see StagedRotation) or by the provider's own rotation (--native).
 */
export class Rotator {
  constructor(
    private readonly session: Session,
    private readonly o: RotateOptions,
  ) {}

  /** Select, check due-ness, and rotate each target in turn. */
  async run(): Promise<RotationResult[]> {
    const targets = await selectTargets(this.session, this.o)
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
      if (this.o.native) return await rotateNative(this.session, provider, t, base, this.o.timeoutMs)
      requireStaged(provider, t.ref)
      return await new StagedRotation(this.session, this.o, provider, t, base).run()
    } catch (error) {
      // A bare name that is neither a variable nor a local secret: say what it is closest to.
      const named = {input: t.name, ref: t.ref, source: t.source ?? 'reference', environment: this.o.environment}
      return failedResult(base, await explainMissing(this.session, named, error))
    }
  }
}

/** A failure as a result line; anything that is not a SecretsError is a bug and is thrown on. */
function failedResult(base: RotationResult, error: unknown): RotationResult {
  const e =
    error instanceof SecretsError
      ? error
      : new SecretsError('INTERNAL', error instanceof Error ? error.message : String(error), {cause: error})
  if (e.code === 'INTERNAL') throw error
  const failed: RotationResult = {...base, status: 'failed', error: {code: e.code, message: e.message}}
  // Kept off the JSON report (enumerable: false) but available to the command's error rendering.
  return Object.defineProperty(failed, 'suggestions', {value: e.suggestions, enumerable: false})
}

/** 0 all rotated (or a dry run), 13 nothing due, 14 every attempt failed its verify command, 15 partial; one failure kind: its code. */
export function rotationExitCode(rotations: RotationResult[], due: boolean): number {
  if (rotations.length === 0) return due ? EXIT_CODES.NOTHING_DUE : 0
  const failed = rotations.filter((r) => r.status === 'failed' || r.status === 'rolled-back')
  if (failed.length === 0) return 0
  if (failed.length < rotations.length) return EXIT_CODES.ROTATION_PARTIAL
  if (failed.every((r) => r.status === 'rolled-back')) return EXIT_CODES.VERIFY_FAILED
  const codes = new Set(failed.map((r) => r.error?.code))
  const [code] = codes
  if (codes.size === 1) return code === undefined ? 1 : EXIT_CODES[code]
  return EXIT_CODES.ROTATION_PARTIAL
}
