import {SecretsError} from '../../errors.js'
import type {GeneratorSpec} from '../config/types.js'
import type {Session} from '../session.js'
import {DEFAULT_GENERATOR} from './generate.js'
import {selectTargets, type RotationTarget, type TargetSelection} from './targets.js'

/** How one rotation will make its new value and whether a verify command runs; never a value. */
export interface RotationPlan {
  name: string
  ref: string
  /** e.g. "a generated 32-character password", "the value read from stdin". */
  newValue: string
  /** The verify command, or undefined when the new value is made current without one. */
  verify?: string
}

/** What the command line gave that decides the new value. */
export interface PlanOptions extends TargetSelection {
  generator?: GeneratorSpec
  valueStdin?: boolean
  verifyCmd?: string
  native?: boolean
}

/** A generator in words: "a generated 32-character password", "32 random bytes as hex". */
export function describeGenerator(spec: GeneratorSpec): string {
  if (spec.type === 'uuid') return 'a generated UUID'
  if (spec.type === 'password') {
    const from = spec.charset === undefined ? '' : ' from the given characters'
    return `a generated ${spec.length ?? DEFAULT_GENERATOR.length}-character password${from}`
  }
  return `${spec.length ?? 32} random bytes as ${spec.type}`
}

function newValueOf(t: RotationTarget, o: PlanOptions): string | undefined {
  if (o.native) return "the provider's own rotation function"
  if (o.valueStdin) return 'the value read from stdin'
  if (o.generator !== undefined) return `${describeGenerator(o.generator)} (--generate)`
  if (t.policy?.generate !== undefined) return `${describeGenerator(t.policy.generate)} (rotate.generate)`
  // --due and --all select only variables that declare `rotate:`; their policy chose the default generator.
  if (t.policy !== undefined && o.inputs.length === 0) return `${describeGenerator(DEFAULT_GENERATOR)} (the default)`
  return undefined
}

/**
 * The targets and how each new value will be made. A variable named on the command line with no
 * `rotate.generate`, rotated without --generate, --value-stdin or --native, is refused (USAGE) before
 * anything is asked or written: a random password would silently replace what may be a vendor's key.
 */
export async function planRotation(session: Session, o: PlanOptions): Promise<RotationPlan[]> {
  const targets = await selectTargets(session, o)
  const unknown = targets.filter((t) => newValueOf(t, o) === undefined)
  if (unknown.length > 0) {
    const names = unknown.map((t) => t.name).join(', ')
    throw new SecretsError(
      'USAGE',
      `Not rotating ${names}: ${unknown.length === 1 ? 'it has' : 'they have'} no \`rotate.generate\` in secrets.yaml, so secrets would have to guess what a new value looks like (a vendor's API key cannot be replaced by a random password).`,
      {
        ref: unknown[0].ref.raw,
        suggestions: [
          `Give the new value with --value-stdin (e.g. \`vendor-cli new-key | secrets rotate ${unknown[0].name} --value-stdin\`), or choose a generator with --generate (password, hex, base64, base64url, uuid) and --length.`,
          `Or declare \`rotate: {generate: {type: password, length: 32}}\` for ${unknown[0].name} in secrets.yaml.`,
        ],
      },
    )
  }
  return targets.map((t) => ({
    name: t.name,
    ref: t.ref.raw,
    newValue: newValueOf(t, o)!,
    ...(o.native ? {} : verifyOf(t, o)),
  }))
}

function verifyOf(t: RotationTarget, o: PlanOptions): {verify?: string} {
  const command = o.verifyCmd ?? t.policy?.verify
  return command === undefined ? {} : {verify: command}
}

/** One line per plan: `NAME: a generated 32-character password; verified by \`cmd\``. */
export function describePlan(p: RotationPlan): string {
  return `${p.name}: ${p.newValue}; ${p.verify === undefined ? 'no verify command runs' : `verified by \`${p.verify}\``}`
}
