import type {ErrorCode} from '../../errors.js'
import type {GeneratorSpec} from '../config/types.js'
import type {SecretValue} from '../secret-value.js'
import type {TargetSelection} from './targets.js'

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
  /** --dry-run: how the new value would be made, and the verify command that would run. */
  newValue?: string
  verify?: string
  error?: {code: ErrorCode; message: string}
  /** What to do about the error (not part of the --json report). */
  suggestions?: string[]
}

export interface RotateOptions extends TargetSelection {
  dryRun?: boolean
  /** From --generate/--length; wins over the policy's generator. */
  generator?: GeneratorSpec
  /** From --value-stdin (one target only). */
  value?: SecretValue
  /** From --verify-cmd; wins over the policy's verify command. */
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
