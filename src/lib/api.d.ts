// The public types of `secrets-cli` as a library, shipped as dist/lib/index.d.ts and index.d.cts.
// Hand-written so the package ships these declarations and nothing of its internals; src/lib/index.ts
// takes LoadOptions from here, and test/unit/lib/api.test.ts fails to type-check when the two drift.

/** The stable error codes (see the README's exit-code table). */
export type ErrorCode = keyof typeof EXIT_CODES

/** The exit code each error code maps to. */
export declare const EXIT_CODES: {
  readonly INTERNAL: 1
  readonly USAGE: 2
  readonly CONFIG_NOT_FOUND: 3
  readonly CONFIG_INVALID: 3
  readonly REFERENCE_INVALID: 4
  readonly NOT_FOUND: 5
  readonly PERMISSION_DENIED: 6
  readonly INSECURE_PERMISSIONS: 6
  readonly IDENTITY_MISSING: 7
  readonly DECRYPT_FAILED: 7
  readonly INTEGRITY: 8
  readonly KEY_CHANGED: 8
  readonly UNAVAILABLE: 9
  readonly UNSUPPORTED: 10
  readonly CONFLICT: 11
  readonly LOCKED: 11
  readonly ABORTED: 12
  readonly NOTHING_DUE: 13
  readonly VERIFY_FAILED: 14
  readonly ROTATION_PARTIAL: 15
  readonly FINDINGS: 16
  readonly DRIFT: 17
  readonly COMMAND_NOT_EXECUTABLE: 126
  readonly COMMAND_NOT_FOUND: 127
  readonly CANCELLED: 130
}

/** Options of a SecretsError. */
export interface SecretsErrorOptions {
  /** The reference or variable the error is about (never a value). */
  ref?: string
  /** What the user can do about it, one sentence each. */
  suggestions?: string[]
  cause?: unknown
  /** Whether retrying the same operation later may succeed. */
  retryable?: boolean
}

/** Every error load() and config() throw: a stable code, its exit code, never a secret value. */
export declare class SecretsError extends Error {
  constructor(code: ErrorCode, message: string, options?: SecretsErrorOptions)
  readonly code: ErrorCode
  readonly exitCode: number
  /** The reference or variable the error is about (never a value). */
  readonly ref?: string
  /** What the user can do about it, one sentence each. */
  readonly suggestions: string[]
  readonly retryable: boolean
  /** The JSON shape `--json` prints. */
  toJSON(): {code: ErrorCode; exitCode: number; message: string; ref?: string; suggestions: string[]}
}

/** How load() and config() resolve the environment; each option is exec's flag of the same meaning. */
export interface LoadOptions {
  /** Where secrets.yaml is looked for, walking up (default: process.cwd()). */
  cwd?: string
  /** The named environment from `environments:` (default: $SECRETS_ENV, else the base `env:`). */
  env?: string
  /** Path to secrets.yaml (default: $SECRETS_CONFIG, else found from cwd). */
  config?: string
  /** Only these variables (each must be one of the environment's). */
  only?: string[]
  /** Leave out variables whose secret does not exist (each is warned about) instead of failing. */
  allowMissing?: boolean
  /** Use the offline cache when a remote provider cannot be reached (exec's --fallback). */
  fallback?: boolean
  /** How old a cached value may be, e.g. '1h' or '7d'; implies fallback (exec's --max-age). */
  maxAge?: string
  /** Contact no remote provider: their values come only from the cache (exec's --offline). */
  offline?: boolean
  /** The program named in the access log (default: the script Node runs, e.g. app.js). */
  program?: string
  /** Where warnings go (default: `Warning: ...` lines on stderr, as exec prints them). Never given a value. */
  onWarning?: (message: string) => void
}

/** Resolve the environment as `secrets exec` does (fail closed) and return it as {NAME: value}. */
export declare function load(options?: LoadOptions): Promise<Record<string, string>>

/** load(), then assign each variable to process.env (a secret wins over a variable already set, with a warning). */
export declare function config(options?: LoadOptions): Promise<Record<string, string>>
