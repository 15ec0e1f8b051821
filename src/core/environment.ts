import {SecretsError} from '../errors.js'
import type {FileEntry} from './config/types.js'
import type {Reference} from './reference.js'
import type {Resolved, ResolvedFile} from './resolved.js'
import type {Session} from './session.js'

export interface ResolveOptions {
  environment?: string
  /** Restrict to these variable names; each must exist. */
  only?: string[]
  allowMissing?: boolean
  /** Also resolve the `files:` entries (for exec). */
  files?: boolean
}

/**
 * Resolve the selected environment to values, failing closed (see Session.resolve). `only` names that
 * are not variables of the environment are an error, not silently ignored.
 */
export async function resolveEnvironment(
  session: Session,
  o: ResolveOptions = {},
): Promise<{resolved: Resolved[]; files: ResolvedFile[]; missing: string[]}> {
  const vars: Map<string, Reference> = await session.variables(o.environment, {warn: true})
  const fileEntries = o.files ? session.files(o.environment) : new Map<string, FileEntry>()
  const templates = new Map<string, FileEntry>()
  for (const [name, entry] of fileEntries) {
    if (entry.ref === undefined) templates.set(name, entry)
    else vars.set(name, entry.ref)
  }
  // What a bare NAME in a template means, before --only narrows the variables.
  const names = templates.size > 0 ? new Map(vars) : vars
  if (o.only && o.only.length > 0) {
    for (const name of [...templates.keys()]) if (!o.only.includes(name)) templates.delete(name)
    const unknown = o.only.filter((n) => !vars.has(n) && !fileEntries.has(n))
    if (unknown.length > 0) {
      // The suggestion code loads only on this error, so exec's start-up pays nothing for it.
      const {unknownOnly} = await import('./on-demand.js')
      throw unknownOnly(unknown, [...vars.keys(), ...fileEntries.keys()], {
        scope: 'of this environment',
        listLabel: 'Variables',
        create: `Create it with \`secrets set ${unknown[0]}\` (a local secret), or map it under env: in ${session.config.file}.`,
      })
    }
    for (const name of [...vars.keys()]) if (!o.only.includes(name)) vars.delete(name)
  }
  // Templates (`files:` with `template:`) load their code only when a config has one.
  const rendering =
    templates.size > 0
      ? (await import('./on-demand.js')).prepareTemplates(session, [...templates.values()], vars, session.env, {names})
      : undefined
  const {resolved: all, missing} = await session.resolve(vars, {allowMissing: o.allowMissing})
  const rendered = rendering?.finish(all, missing) ?? []
  const resolved = rendering === undefined ? all : all.filter((r) => !rendering.labels.has(r.name))
  for (const m of missing) session.ui.warn(`${m.name} (${m.ref.raw}) was not found and is left out (--allow-missing).`)
  resolved.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const files: ResolvedFile[] = []
  for (const r of resolved) {
    const entry = fileEntries.get(r.name)
    if (entry !== undefined) files.push({...r, entry})
  }
  files.push(...rendered)
  return {resolved: resolved.filter((r) => !fileEntries.has(r.name)), files, missing: missing.map((m) => m.name)}
}

/** Values as text for formats that hold text; binary values are refused with a clear error. */
export function asText(resolved: Resolved[]): Array<{name: string; value: string}> {
  return resolved.map((r) => {
    if (!r.value.isEnvSafe()) {
      throw new SecretsError(
        'UNSUPPORTED',
        `The value of ${r.name} (${r.ref.raw}) is binary or holds a NUL byte and cannot be written as text.`,
        {
          ref: r.ref.raw,
          suggestions: ['Store it base64-encoded, or leave it out with --only.'],
        },
      )
    }
    return {name: r.name, value: r.value.text()}
  })
}
