import {EXIT_CODES} from '../../errors.js'
import type {Reference} from '../reference.js'
import type {Resolved} from '../resolved.js'
import type {Session} from '../session.js'
import {fingerprinter, planSync, type SyncItem} from '../sync/sync.js'

/**
 * How a variable compares across two environments. `only-a`/`only-b`: declared on one side only (drift);
 * `same`: both sides hold the same value; `different`: both hold a value and they differ.
 */
export type EnvDriftStatus = 'only-a' | 'only-b' | 'same' | 'different'

/** One variable of either environment: its references, never its value. */
export interface EnvDriftItem {
  name: string
  status: EnvDriftStatus
  a?: string
  b?: string
  /** For `same`: both environments read the very same reference (shared by design, not a reused value). */
  sharedReference?: boolean
}

export interface EnvDrift {
  a: string
  b: string
  items: EnvDriftItem[]
  /** Variables whose value is the same in both environments although they read different references. */
  reused: string[]
  drift: boolean
}

/** How a mirror compares: `missing` (absent in the mirror), `different`, or `same`. */
export type MirrorStatus = 'missing' | 'different' | 'same'

export interface MirrorDriftItem {
  name: string
  from: string
  fromVersion?: string
  to: string
  toVersion?: string
  status: MirrorStatus
}

export interface MirrorDrift {
  from: string
  to: string
  items: MirrorDriftItem[]
  drift: boolean
}

/** The name the base `env:` (no `--env`) goes by in drift's output. */
export const BASE_ENVIRONMENT = '(base)'

/**
 * Read both environments' references (providers in parallel, each in one batch, as `exec` reads them); a
 * reference both sides read is read once. A side that cannot be read fails the whole comparison with
 * that error, naming its variables: an unreadable secret is not drift. Values come back by reference.
 */
async function readBoth(
  session: Session,
  a: Map<string, Reference>,
  b: Map<string, Reference>,
): Promise<Map<string, Resolved>> {
  const inA = new Set([...a.values()].map((r) => r.raw))
  const onlyB = new Map([...b].filter(([, ref]) => !inA.has(ref.raw)))
  const sides = await Promise.all([session.resolve(a), session.resolve(onlyB)])
  return new Map(sides.flatMap((s) => s.resolved.map((r): [string, Resolved] => [r.ref.raw, r])))
}

/** Compare two environments variable by variable (a `files:` entry with a reference counts as a variable; templates are left out). */
export async function compareEnvironments(session: Session, a?: string, b?: string): Promise<EnvDrift> {
  const [refsA, refsB] = [await session.references(a), await session.references(b)]
  const values = await readBoth(session, refsA, refsB)
  const fp = fingerprinter()
  const names = [...new Set([...refsA.keys(), ...refsB.keys()])].sort()
  const items = names.map((name): EnvDriftItem => {
    const ra = refsA.get(name)
    const rb = refsB.get(name)
    if (rb === undefined) return {name, status: 'only-a', a: ra!.raw}
    if (ra === undefined) return {name, status: 'only-b', b: rb.raw}
    const same = fp(values.get(ra.raw)!.value) === fp(values.get(rb.raw)!.value)
    if (!same) return {name, status: 'different', a: ra.raw, b: rb.raw}
    return {name, status: 'same', a: ra.raw, b: rb.raw, sharedReference: ra.raw === rb.raw}
  })
  return {
    a: a ?? BASE_ENVIRONMENT,
    b: b ?? BASE_ENVIRONMENT,
    items,
    reused: items.filter((i) => i.status === 'same' && !i.sharedReference).map((i) => i.name),
    drift: items.some((i) => i.status === 'only-a' || i.status === 'only-b'),
  }
}

/**
 * Compare a mirror with its source, with `sync`'s addressing: anything missing from the mirror or
 * different in it is drift. Reads only; the mirror need not be writable.
 */
export async function compareMirror(
  session: Session,
  o: {from: string; to: string; environment?: string},
): Promise<MirrorDrift> {
  const plan = await planSync(session, {...o, forWrite: false})
  const status = (s: SyncItem['status']): MirrorStatus =>
    s === 'add' ? 'missing' : s === 'change' ? 'different' : 'same'
  const items = plan.items.map((i) => ({
    name: i.name,
    from: i.from,
    fromVersion: i.fromVersion,
    to: i.to,
    toVersion: i.toVersion,
    status: status(i.status),
  }))
  return {from: plan.from, to: plan.to, items, drift: items.some((i) => i.status !== 'same')}
}

/** The exit status of a comparison: DRIFT when anything drifted, 0 otherwise. */
export function driftExitCode(result: {drift: boolean}): number {
  return result.drift ? EXIT_CODES.DRIFT : 0
}
