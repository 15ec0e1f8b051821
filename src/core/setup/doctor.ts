import {accessSync, constants, existsSync} from 'node:fs'
import {dirname} from 'node:path'

import {SecretsError, fsError} from '../../errors.js'
import {supports} from '../../providers/capabilities.js'
import type {Reference} from '../reference.js'
import {auditLogFile} from '../audit/log.js'
import {auditKeyFile} from '../audit/key.js'
import {ensureDir} from '../lib/atomic-write.js'
import {assertPrivateFile, loadIdentities} from '../store/identity.js'
import {resolveEnvironment} from '../environment.js'
import {resolutionError, type Session} from '../session.js'

export interface Check {
  name: string
  status: 'ok' | 'warn' | 'fail'
  detail: string
  code?: string
  exitCode?: number
}

async function attempt(name: string, fn: () => Promise<string> | string): Promise<Check> {
  try {
    return {name, status: 'ok', detail: await fn()}
  } catch (error) {
    if (error instanceof SecretsError)
      return {name, status: 'fail', detail: error.message.split('\n')[0], code: error.code, exitCode: error.exitCode}
    return {
      name,
      status: 'fail',
      detail: error instanceof Error ? error.message : String(error),
      code: 'INTERNAL',
      exitCode: 1,
    }
  }
}

/** Check config, identity, every provider and the audit log; never stops at the first failure. */
export async function runDoctor(session: Session): Promise<Check[]> {
  const checks: Check[] = []
  const config = await attempt('config', () => {
    const c = session.config
    return `${c.file}: ${c.providers.size} provider(s), ${c.env.size} variable(s), ${c.environments.size} environment(s)`
  })
  checks.push(config)
  checks.push(
    await attempt('identity', async () => {
      const ids = await loadIdentities(session.env)
      if (ids.length === 0) {
        if (session.env.SECRETS_PASSPHRASE) return 'no age identity; SECRETS_PASSPHRASE is set'
        throw new SecretsError(
          'IDENTITY_MISSING',
          'No identity: set SECRETS_AGE_KEY or SECRETS_IDENTITY, or run `secrets init`.',
        )
      }
      return ids.map((i) => `${i.recipient} (from ${i.source})`).join(', ')
    }),
  )
  if (config.status === 'ok') {
    for (const alias of session.config.providers.keys()) {
      checks.push(await attempt(`provider ${alias}`, async () => (await session.provider(alias)).check()))
    }
  }
  checks.push(
    await attempt('audit log', () => {
      const file = auditLogFile(session.env)
      ensureDir(dirname(file))
      if (existsSync(file)) {
        try {
          accessSync(file, constants.W_OK)
        } catch (error) {
          throw fsError(error, file, 'opening the audit log for writing')
        }
      }
      // The key that chains and fingerprints the records: refused by every append if others can read it.
      const key = auditKeyFile(session.env)
      if (existsSync(key)) assertPrivateFile(key, 'The audit key')
      return file
    }),
  )
  return checks
}

/** One variable or `files:` entry of an environment as `doctor` found it; never its value. */
export interface VariableStatus {
  /** The environment (`--env`, or each one with `--all-envs`); null for the base `env:`. */
  environment: string | null
  name: string
  /** The reference it resolves; a template has none, and names its file instead. */
  ref?: string
  template?: string
  provider?: string
  /** `warn`: not read, so that doctor makes no credential it could not revoke (see checkLeases). */
  status: 'ok' | 'warn' | 'fail'
  code?: string
  exitCode?: number
  message?: string
}

/** What resolving one environment found: each variable's status, and the error `exec` would stop with. */
export interface EnvironmentReport {
  environment: string | null
  variables: VariableStatus[]
  /** The environment could not even be listed (config, a local store that does not open ...). */
  failure?: Check
  /** What `exec` would print: the resolution error of its variables, then each template's. */
  errors: SecretsError[]
}

function asSecretsError(error: unknown): SecretsError {
  return error instanceof SecretsError
    ? error
    : new SecretsError('INTERNAL', error instanceof Error ? error.message : String(error), {cause: error})
}

/**
 * Resolve every variable and `files:` entry of each environment as `exec` would, keeping every outcome
 * instead of stopping at the first; the values read are dropped unseen.
 */
export async function checkEnvironments(
  session: Session,
  environments: Array<string | undefined>,
  unread: ReadonlySet<Reference> = new Set(),
): Promise<EnvironmentReport[]> {
  const reports: EnvironmentReport[] = []
  for (const env of environments) {
    const environment = env ?? null
    const report: EnvironmentReport = {environment, variables: [], errors: []}
    reports.push(report)
    let refs
    try {
      refs = await session.references(env)
      for (const [name, ref] of refs) {
        if (!unread.has(ref)) continue
        refs.delete(name)
        const message = `not read: a read would make a credential this token could not revoke (see \`leases ${ref.alias}\`)`
        report.variables.push({environment, name, ref: ref.raw, provider: ref.alias, status: 'warn', message})
      }
      const {resolved, failed} = await session.tryResolve(refs)
      for (const r of resolved)
        report.variables.push({environment, name: r.name, ref: r.ref.raw, provider: r.provider, status: 'ok'})
      for (const f of failed) {
        report.variables.push({
          environment,
          name: f.name,
          ref: f.ref.raw,
          provider: f.provider,
          status: 'fail',
          code: f.error.code,
          exitCode: f.error.exitCode,
          message: f.error.message.split('\n')[0],
        })
      }
      if (failed.length > 0) report.errors.push(resolutionError(failed, refs.size))
    } catch (error) {
      const e = asSecretsError(error)
      const name = environment === null ? 'environment' : `environment ${environment}`
      report.failure = {name, status: 'fail', detail: e.message.split('\n')[0], code: e.code, exitCode: e.exitCode}
      report.errors.push(e)
      continue
    }
    for (const [name, entry] of session.files(env)) {
      if (entry.template === undefined) continue
      const status: VariableStatus = {environment, name, template: entry.template, status: 'ok'}
      try {
        await resolveEnvironment(session, {environment: env, files: true, only: [name]})
      } catch (error) {
        const e = asSecretsError(error)
        // A template's error names the failed reference on its second line: keep it in the one-line status.
        const message = e.message
          .split('\n')
          .slice(0, 2)
          .map((l) => l.trim())
          .join(' ')
        Object.assign(status, {status: 'fail', code: e.code, exitCode: e.exitCode, message})
        report.errors.push(e)
      }
      report.variables.push(status)
    }
    report.variables.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }
  return reports
}

/**
 * For each provider with leases whose own check passed: whether its credentials may make the dynamic
 * references of `environments` and renew and revoke their leases (asked without making a credential).
 * `unread`: the dynamic references doctor must not read, as a credential made now could not be revoked.
 */
export async function checkLeases(
  session: Session,
  environments: Array<string | undefined>,
  checks: Check[],
): Promise<{checks: Check[]; unread: Set<Reference>}> {
  const byAlias = new Map<string, Set<Reference>>()
  for (const env of environments) {
    const refs = await session.references(env).catch(() => new Map<string, Reference>())
    for (const ref of refs.values()) byAlias.set(ref.alias, (byAlias.get(ref.alias) ?? new Set()).add(ref))
  }
  const out: Check[] = []
  const unread = new Set<Reference>()
  for (const [alias, refs] of byAlias) {
    if (checks.find((c) => c.name === `provider ${alias}`)?.status !== 'ok') continue
    const provider = await session.provider(alias)
    if (!supports(provider, 'leases')) continue
    let access
    try {
      access = await provider.leaseAccess([...refs])
    } catch (error) {
      const e = asSecretsError(error)
      out.push({
        name: `leases ${alias}`,
        status: 'fail',
        detail: e.message.split('\n')[0],
        code: e.code,
        exitCode: e.exitCode,
      })
      continue
    }
    if (access.dynamic.length === 0) continue
    const problems = [access.leases, ...access.dynamic.map((d) => d.problem)].filter((p) => p !== undefined)
    if (!access.canRevoke) for (const d of access.dynamic) unread.add(d.ref)
    out.push(
      problems.length === 0
        ? {name: `leases ${alias}`, status: 'ok', detail: access.summary}
        : {
            name: `leases ${alias}`,
            status: 'fail',
            detail: [...new Set(problems.map((p) => p.message))].join(' '),
            code: problems[0].code,
            exitCode: problems[0].exitCode,
          },
    )
  }
  return {checks: out, unread}
}
