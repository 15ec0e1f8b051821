import type {SecretProvider, VersionInfo} from '../../providers/types.js'
import {supports} from '../../providers/capabilities.js'
import type {AuditEvent} from '../audit/log.js'
import {currentTime} from '../lib/time.js'
import {selectEnvironment} from '../config/select.js'
import type {RotationPolicy} from '../config/types.js'
import {lookupName, storeHas, unknownName, type NameSource} from '../names.js'
import {formatReference, type Reference} from '../reference.js'
import type {Session} from '../session.js'

/** One secret to rotate: the variable (or reference) asked for, its reference and its policy. */
export interface RotationTarget {
  name: string
  ref: Reference
  policy?: RotationPolicy
  /** What the name meant (see core/names.ts); `store` is a bare name that is no variable. */
  source?: NameSource
}

/** What picks the targets: named variables or references, or (with none named) --due / --all. */
export interface TargetSelection {
  /** Variables or references; empty with `due` or `all`. */
  inputs: string[]
  due?: boolean
  all?: boolean
  environment?: string
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
export async function selectTargets(session: Session, o: TargetSelection): Promise<RotationTarget[]> {
  const entries = selectEnvironment(session.config, o.environment)
  const policyOf = (name: string) => entries.get(name)?.rotate ?? session.config.rotation.get(name)
  if (o.inputs.length > 0) {
    const targets: RotationTarget[] = []
    for (const input of o.inputs) {
      const named = await lookupName(session, input, o.environment)
      const {ref, source} = named
      // A bare name that is neither a variable nor a local secret is a typo: say so before planning anything.
      if (source === 'store' && (await storeHas(session, ref)) === false)
        throw await unknownName(session, input, o.environment)
      if (named.variable !== undefined) {
        targets.push({name: named.variable, ref, policy: policyOf(named.variable), source})
        continue
      }
      const match = [...entries.values()].find((e) => sameSecret(e.ref, ref))
      if (match !== undefined) targets.push({name: match.name, ref, policy: policyOf(match.name), source})
      else targets.push({name: source === 'reference' ? variableNameFor(ref) : input, ref, source})
    }
    return targets
  }
  return [...entries.values()]
    .filter((e) => policyOf(e.name) !== undefined)
    .map((e) => ({name: e.name, ref: e.ref, policy: policyOf(e.name)}))
}

/** The current version (its id and when it was written) from the provider's version history; metadata only, no value. */
export async function currentVersion(provider: SecretProvider, ref: Reference): Promise<VersionInfo | undefined> {
  if (!supports(provider, 'versions')) return undefined
  const versions = await provider.versions(wholeSecret(ref))
  return versions.find((v) => v.current)
}

/** Record one rotation step in the access log, as the running command. */
export function auditRotation(
  session: Session,
  action: AuditEvent['action'],
  ref: Reference,
  extra: Partial<AuditEvent> = {},
): Promise<void> {
  return session.audit([{command: session.command, action, provider: ref.alias, ref: ref.raw, outcome: 'ok', ...extra}])
}
