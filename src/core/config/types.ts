import type {Reference} from '../reference.js'

/** One provider declared under `providers:`. Only non-secret settings live here. */
export interface ProviderConfig {
  alias: string
  type: string
  settings: Record<string, unknown>
  line?: number
}

/** One `env:` entry: a variable name bound to a reference, with its rotation policy if it declares one. */
export interface EnvEntry {
  name: string
  ref: Reference
  rotate?: RotationPolicy
  line?: number
}

/** The `generate:` types of a rotation policy. */
export const GENERATOR_TYPES = ['password', 'hex', 'base64', 'base64url', 'uuid'] as const
/** The character classes a generated password can draw from. */
export const PASSWORD_CLASSES = ['lower', 'upper', 'digit', 'symbol'] as const

/** How `secrets rotate` makes a new value (see src/core/rotation/generate.ts). */
export interface GeneratorSpec {
  type: (typeof GENERATOR_TYPES)[number]
  /** password: characters (default 32); hex/base64/base64url: random bytes (default 32). */
  length?: number
  /** password: the character classes to draw from, each at least once (default lower, upper, digit). */
  classes?: Array<(typeof PASSWORD_CLASSES)[number]>
  /** password: the characters of the `symbol` class (default !#%+,-.:=@^_~). */
  symbols?: string
  /** password: draw from exactly these characters instead of classes. */
  charset?: string
}

/** A variable's rotation policy (`env: {VAR: {ref: ..., rotate: {every: 30d, generate: {...}, verify: '...'}}}`). */
export interface RotationPolicy {
  /** Maximum age in milliseconds before `rotate --due` picks the secret. */
  every?: number
  generate?: GeneratorSpec
  /** A shell command run with the new value in its environment, like `exec`; exit 0 means verified. */
  verify?: string
  line?: number
}

/**
 * One `files:` entry: a secret that `exec` writes to a private file; the variable holds the file's
 * path. `mode` has owner bits only (default 0600); `fileName` defaults to the variable name.
 */
export interface FileEntry {
  name: string
  /** The secret the file holds; absent for a template. */
  ref?: Reference
  /** A template to render instead (absolute path; `{{ ref "..." }}` / `{{ env "..." }}`, see template.ts). */
  template?: string
  mode: number
  fileName: string
  line?: number
}

/** A validated `secrets.yaml`. */
export interface ProjectConfig {
  file: string
  dir: string
  providers: Map<string, ProviderConfig>
  env: Map<string, EnvEntry>
  environments: Map<string, Map<string, EnvEntry>>
  files: Map<string, FileEntry>
  environmentFiles: Map<string, Map<string, FileEntry>>
  /** Rotation policies by variable name (from `env:`, then from environments for names `env:` does not declare). */
  rotation: Map<string, RotationPolicy>
  /** `cache:`: the offline fallback cache is on for every resolution (see sync/fallback.ts). */
  cache?: {maxAgeMs?: number}
}
