import {SecretsError} from '../../errors.js'
import type {Reference} from '../reference.js'
import type {Session} from '../session.js'
import {ValueIndex} from './value-index.js'

/** A configured variable whose value could not be read, so the scan could not look for it. */
export interface UnresolvedVariable {
  variable: string
  ref: string
  code: string
  exitCode: number
  message: string
}

export interface ConfiguredValues {
  index: ValueIndex
  /** Variables (and `files:` entries) of the environment. */
  variables: number
  unresolved: UnresolvedVariable[]
  /** Why no configured value was looked for at all (no secrets.yaml), if so. */
  note?: string
}

function asUnresolved(variable: string, ref: string, error: SecretsError): UnresolvedVariable {
  return {variable, ref, code: error.code, exitCode: error.exitCode, message: error.message.split('\n')[0]}
}

/**
 * Resolve the selected environment (its variables and `files:` entries) and index the values by keyed
 * hash. Never throws for a secret that cannot be read: it is reported in `unresolved`, and the pattern
 * scan goes on. A missing secrets.yaml (when none was named) just means there are no values to look for.
 */
export async function indexConfiguredValues(
  session: Session,
  environment: string | undefined,
  configNamed: boolean,
): Promise<ConfiguredValues> {
  const index = new ValueIndex()
  let vars: Map<string, Reference>
  try {
    vars = await session.references(environment)
  } catch (error) {
    if (!(error instanceof SecretsError)) throw error
    if (error.code === 'CONFIG_NOT_FOUND' && !configNamed)
      return {index, variables: 0, unresolved: [], note: 'no secrets.yaml found: scanning for credential patterns only'}
    if (error.code === 'CONFIG_NOT_FOUND' || error.code === 'CONFIG_INVALID' || error.code === 'REFERENCE_INVALID')
      throw error
    // The environment itself could not be listed (e.g. a local store without an identity to open it).
    return {index, variables: 0, unresolved: [asUnresolved('*', 'secrets.yaml', error)]}
  }
  const {resolved, failed} = await session.tryResolve(vars)
  for (const r of resolved) index.add(r.name, r.value)
  return {
    index,
    variables: vars.size,
    unresolved: failed.map((f) => asUnresolved(f.name, f.ref.raw, f.error)),
  }
}
