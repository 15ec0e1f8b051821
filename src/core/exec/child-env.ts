import {SecretsError} from '../../errors.js'
import type {Resolved} from '../resolved.js'

/** Variables that configure secrets itself: never passed to a child. */
export function isOwnVariable(name: string): boolean {
  return name.startsWith('SECRETS_')
}

/** The minimal environment `--pristine` starts from. */
export const PRISTINE_ALLOWLIST = ['PATH', 'HOME', 'USER', 'LANG', 'TERM', 'TZ'] as const

export interface ChildEnvOptions {
  pristine?: boolean
  only?: string[]
}

/**
 * The child's environment: the parent's (or the pristine allowlist), minus secrets' own variables,
 * plus the secrets. A secret wins over a parent variable of the same name; the clashes are returned
 * so the caller can warn.
 */
export function childEnvironment(
  parent: NodeJS.ProcessEnv,
  secrets: Resolved[],
  o: ChildEnvOptions = {},
): {env: Record<string, string>; clashes: string[]} {
  // Keyed by user names (a secret may be called `__proto__`): no prototype to collide with.
  const env: Record<string, string> = Object.create(null)
  for (const [k, v] of Object.entries(parent)) {
    if (v === undefined || isOwnVariable(k)) continue
    if (o.pristine && !(PRISTINE_ALLOWLIST as readonly string[]).includes(k)) continue
    env[k] = v
  }
  const clashes: string[] = []
  for (const s of secrets) {
    if (o.only && !o.only.includes(s.name)) continue
    if (!s.value.isEnvSafe()) {
      throw new SecretsError(
        'USAGE',
        `The value of ${s.name} (${s.ref.raw}) is binary or holds a NUL byte, so it cannot be an environment variable.`,
        {
          ref: s.ref.raw,
          suggestions: [
            'Declare it under `files:` in secrets.yaml (the variable then holds a file path), store it base64-encoded, or leave it out with --only.',
          ],
        },
      )
    }
    if (Object.hasOwn(env, s.name) && env[s.name] !== s.value.text()) clashes.push(s.name)
    env[s.name] = s.value.text()
  }
  return {env, clashes}
}

/** The warning for a secret that replaces a variable the parent already had (exec, and the library's config()). */
export function clashWarning(name: string): string {
  return `${name} is set in your environment too; the secret's value is used.`
}
