import type {SecretsError} from '../errors.js'
import type {LeaseGrant} from '../providers/types.js'
import type {AuditEvent} from './audit/record.js'
import type {FileEntry} from './config/types.js'
import type {Interaction} from './interaction.js'
import type {Reference} from './reference.js'
import type {SecretValue} from './secret-value.js'

// What resolving produces, apart from the Session that does it: the modules that the session loads on
// demand (fallback cache, templates, encrypted files) use these types without importing the session.

/** One resolved variable. */
export interface Resolved {
  name: string
  ref: Reference
  provider: string
  value: SecretValue
  version?: string
  /** Facts about the version read (dates, state, tags; never a value), where the read returned them. */
  metadata?: Record<string, unknown>
  /** Set when the value came from the offline fallback cache: when it was fetched, and its age. */
  cached?: {fetched: string; ageSeconds: number}
  /** The lease the value is under (a dynamic credential); variables read from one path share it. */
  lease?: LeaseGrant
}

/** A variable that could not be resolved, and why (never a value). */
export interface Unresolved {
  name: string
  ref: Reference
  provider: string
  error: SecretsError
}

/** A resolved `files:` entry: where it goes and what it holds. */
export interface ResolvedFile extends Resolved {
  entry: FileEntry
  /** For a rendered template: the secret values in it, masked in exec's output instead of the whole file. */
  masks?: Resolved[]
}

/**
 * What code that reads values on a session's behalf outside the providers (an encrypted env file) needs
 * from it: the environment and prompts to unlock keys with, and where to record each access.
 */
export interface AuditedReader {
  readonly env: NodeJS.ProcessEnv
  readonly ui: Interaction
  readonly command: string
  /** The child command `exec` runs, recorded with every access. */
  readonly child?: string
  audit(events: AuditEvent[]): Promise<void>
}
