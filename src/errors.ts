/**
 * One error tree and one exit-code table for the whole CLI.
 *
 * Every user-fixable failure is a SecretsError with a stable SCREAMING_SNAKE code. The exit code is a
 * function of the code alone, so scripts can rely on it. Messages never contain secret values: callers
 * pass names and references, never value bytes.
 */

/** The stable error codes and the exit code each one maps to. */
export const EXIT_CODES = {
  INTERNAL: 1,
  USAGE: 2,
  CONFIG_NOT_FOUND: 3,
  CONFIG_INVALID: 3,
  REFERENCE_INVALID: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 6,
  INSECURE_PERMISSIONS: 6,
  IDENTITY_MISSING: 7,
  DECRYPT_FAILED: 7,
  INTEGRITY: 8,
  KEY_CHANGED: 8,
  UNAVAILABLE: 9,
  UNSUPPORTED: 10,
  CONFLICT: 11,
  LOCKED: 11,
  ABORTED: 12,
  NOTHING_DUE: 13,
  VERIFY_FAILED: 14,
  ROTATION_PARTIAL: 15,
  FINDINGS: 16,
  DRIFT: 17,
  COMMAND_NOT_EXECUTABLE: 126,
  COMMAND_NOT_FOUND: 127,
  CANCELLED: 130,
} as const

export type ErrorCode = keyof typeof EXIT_CODES

/** One line per exit code, for the README and `--help`. */
export const EXIT_CODE_TABLE: ReadonlyArray<{exit: number | string; codes: string; meaning: string}> = [
  {exit: 0, codes: '', meaning: 'success'},
  {exit: 1, codes: 'INTERNAL', meaning: 'a bug in secrets (set DEBUG=1 for the stack trace)'},
  {
    exit: 2,
    codes: 'USAGE',
    meaning:
      'bad command line (unknown flag, flag without value, missing argument), a prompt needed without a TTY, or a new passphrase that is too weak',
  },
  {
    exit: 3,
    codes: 'CONFIG_NOT_FOUND, CONFIG_INVALID',
    meaning: 'secrets.yaml missing or invalid (the message names file, line and field)',
  },
  {exit: 4, codes: 'REFERENCE_INVALID', meaning: 'a malformed reference (the message points at the character)'},
  {exit: 5, codes: 'NOT_FOUND', meaning: 'secret, version or field does not exist'},
  {
    exit: 6,
    codes: 'PERMISSION_DENIED, INSECURE_PERMISSIONS',
    meaning: 'access denied, or a key file readable by others',
  },
  {
    exit: 7,
    codes: 'IDENTITY_MISSING, DECRYPT_FAILED',
    meaning: 'no identity that can open the store, or the wrong key/passphrase',
  },
  {
    exit: 8,
    codes: 'INTEGRITY, KEY_CHANGED',
    meaning:
      'a store or file that is corrupt, truncated or tampered with, or a store whose data key changed without a link from the key you last opened (`secrets key trust` after review)',
  },
  {exit: 9, codes: 'UNAVAILABLE', meaning: 'a provider or server that cannot be reached (retryable)'},
  {exit: 10, codes: 'UNSUPPORTED', meaning: 'the provider cannot do this (see its capabilities)'},
  {
    exit: 11,
    codes: 'CONFLICT, LOCKED',
    meaning: 'a concurrent change won, or the store lock could not be taken in time',
  },
  {exit: 12, codes: 'ABORTED', meaning: 'you declined a confirmation'},
  {exit: 13, codes: 'NOTHING_DUE', meaning: '`rotate --due`: no secret is due, nothing was changed'},
  {
    exit: 14,
    codes: 'VERIFY_FAILED',
    meaning: '`rotate`: verification failed and every attempted rotation was rolled back (current values unchanged)',
  },
  {
    exit: 15,
    codes: 'ROTATION_PARTIAL',
    meaning: '`rotate`: some secrets were rotated and others were not (see the report)',
  },
  {exit: 16, codes: 'FINDINGS', meaning: '`scan`: it completed and found hardcoded secrets (not an error)'},
  {
    exit: 17,
    codes: 'DRIFT',
    meaning: '`drift`: it completed and the environments or the mirror differ (not an error)',
  },
  {exit: 126, codes: 'COMMAND_NOT_EXECUTABLE', meaning: '`exec`: the command exists but cannot be run'},
  {exit: 127, codes: 'COMMAND_NOT_FOUND', meaning: '`exec`: the command was not found on PATH'},
  {
    exit: '128+N',
    codes: 'exec',
    meaning: "the child died from signal N; otherwise `exec` exits with exactly the child's own status",
  },
  {
    exit: 130,
    codes: 'CANCELLED',
    meaning: 'Ctrl-C or end of input at a prompt, while waiting for a lock or during an operation; nothing was written',
  },
]

export interface SecretsErrorOptions {
  /** The reference or variable the error is about (never a value). */
  ref?: string
  /** What the user can do about it, one sentence each. */
  suggestions?: string[]
  cause?: unknown
  /** Whether retrying the same operation later may succeed. */
  retryable?: boolean
}

/**
 * Marks a SecretsError whichever copy of this module made it: the library's CommonJS entry carries its
 * own copy, and `instanceof` there must still hold for an error thrown by the ES module.
 */
const BRAND = Symbol.for('secrets-cli.SecretsError')

/** The one error type the CLI renders as a user-facing message. */
export class SecretsError extends Error {
  static override [Symbol.hasInstance](value: unknown): value is SecretsError {
    return typeof value === 'object' && value !== null && (value as {[BRAND]?: unknown})[BRAND] === true
  }

  readonly code: ErrorCode
  readonly exitCode: number
  readonly ref?: string
  readonly suggestions: string[]
  readonly retryable: boolean

  constructor(code: ErrorCode, message: string, options: SecretsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = 'SecretsError'
    this.code = code
    this.exitCode = EXIT_CODES[code]
    this.ref = options.ref
    this.suggestions = options.suggestions ?? []
    this.retryable = options.retryable ?? code === 'UNAVAILABLE'
    Object.defineProperty(this, BRAND, {value: true})
  }

  /** The JSON shape printed with `--json`. */
  toJSON(): {code: ErrorCode; exitCode: number; message: string; ref?: string; suggestions: string[]} {
    return {
      code: this.code,
      exitCode: this.exitCode,
      message: this.message,
      ...(this.ref === undefined ? {} : {ref: this.ref}),
      suggestions: this.suggestions,
    }
  }
}

export function isSecretsError(err: unknown): err is SecretsError {
  return err instanceof SecretsError
}

/** Map a filesystem error on `file` to the error tree; anything unexpected is rethrown as is. */
export function fsError(err: unknown, file: string, doing: string): Error {
  const code = (err as NodeJS.ErrnoException)?.code
  if (code === 'EACCES' || code === 'EPERM') {
    return new SecretsError('PERMISSION_DENIED', `Permission denied while ${doing} ${file}.`, {
      cause: err,
      suggestions: [`Check the owner and mode of ${file} and of the directory that holds it.`],
    })
  }
  if (code === 'ENOENT') {
    return new SecretsError('NOT_FOUND', `${file} does not exist (while ${doing} it).`, {cause: err})
  }
  if (code === 'ENOTDIR') {
    return new SecretsError(
      'NOT_FOUND',
      `${file} cannot exist: a part of its path is a file, not a directory (while ${doing} it).`,
      {
        cause: err,
        suggestions: [`Check the directories leading to ${file}.`],
      },
    )
  }
  if (code === 'EISDIR') {
    return new SecretsError('USAGE', `${file} is a directory, where a file was expected (while ${doing} it).`, {
      cause: err,
      suggestions: [`Give the path of a file, not of a directory.`],
    })
  }
  if (code === 'ENOSPC' || code === 'EROFS' || code === 'EDQUOT') {
    return new SecretsError('UNAVAILABLE', `Could not finish ${doing} ${file}: ${code}. Nothing was changed.`, {
      cause: err,
      suggestions: ['Free disk space or make the file system writable, then run the command again.'],
    })
  }
  return err instanceof Error ? err : new Error(String(err))
}

/** `[CODE] first line of the message` (any other error as text): a failure as a clause of a longer line. */
export function errorBrief(error: unknown): string {
  return error instanceof SecretsError ? `[${error.code}] ${error.message.split('\n')[0]}` : String(error)
}
