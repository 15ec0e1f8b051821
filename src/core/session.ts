import {SecretsError} from '../errors.js'
import {openProvider} from '../providers/loader.js'
import {requireCapability, supports, type ProviderWith} from '../providers/capabilities.js'
import type {DeleteOptions, LeaseGrant, ReadOutcome, SecretMeta, SecretProvider} from '../providers/types.js'
import {currentActor, type Actor} from './actor.js'
import {locate} from './audit/context.js'
import {appendAudit, isAuditFailure, recordChange, type AuditEvent} from './audit/log.js'
import type {FallbackSettings} from './sync/fallback.js'
import {loadConfig} from './config/load.js'
import {selectEnvironment, selectFiles} from './config/select.js'
import type {FileEntry, ProjectConfig} from './config/types.js'
import type {Interaction} from './interaction.js'
import {looksLikeReference, parseReference, type Reference} from './reference.js'
import {outcomeOf, readEvents} from './audit/read-events.js'
import type {Resolved, Unresolved} from './resolved.js'
import {SecretValue} from './secret-value.js'
import {isCodeLoadingName} from './store/reserved-names.js'

export interface SessionOptions {
  cwd: string
  env: NodeJS.ProcessEnv
  ui: Interaction
  /** The secrets command being run, recorded in the audit log. */
  command: string
  configFlag?: string
  /** The environment selected with --env / SECRETS_ENV: what a bare NAME means (see core/names.ts). */
  environment?: string
}

/**
 * Pick `#field` out of a JSON object or `key=value` lines. A field that is missing is NOT_FOUND; the
 * message lists the field names (names only, never values).
 */
export function selectField(value: SecretValue, ref: Reference): SecretValue {
  if (ref.field === undefined) return value
  const text = value.text()
  let fields: Record<string, unknown> | undefined
  try {
    const parsed: unknown = JSON.parse(text)
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed))
      fields = parsed as Record<string, unknown>
  } catch {
    // Not JSON: try key=value lines below.
  }
  if (fields === undefined) {
    const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'))
    if (lines.length > 0 && lines.every((l) => /^\s*[\w.-]+\s*=/.test(l))) {
      fields = Object.fromEntries(
        lines.map((l) => {
          const eq = l.indexOf('=')
          return [l.slice(0, eq).trim(), l.slice(eq + 1)]
        }),
      )
    }
  }
  if (fields === undefined) {
    throw new SecretsError(
      'NOT_FOUND',
      `${ref.raw} asks for field "${ref.field}", but the secret is neither a JSON object nor key=value lines.`,
      {
        ref: ref.raw,
        suggestions: ['Drop the #field part to get the whole value.'],
      },
    )
  }
  if (!Object.hasOwn(fields, ref.field)) {
    throw new SecretsError(
      'NOT_FOUND',
      `Field "${ref.field}" is not in ${ref.raw.split('#')[0]} (fields: ${Object.keys(fields).join(', ') || 'none'}).`,
      {ref: ref.raw},
    )
  }
  const v = fields[ref.field]
  return new SecretValue(typeof v === 'string' ? v : JSON.stringify(v))
}

/**
 * One command's view of the project: config, the providers it has opened (each loaded only when a
 * reference needs it), the actor and the audit log.
 */
export class Session {
  readonly actor: Actor
  readonly env: NodeJS.ProcessEnv
  readonly ui: Interaction
  readonly command: string
  /** The selected environment (--env / SECRETS_ENV); undefined is the base `env:`. */
  readonly environment?: string
  /** The child command (argv[0]) that `exec` runs, recorded with every access it causes. */
  child?: string
  /** The offline fallback cache (--fallback, --offline, `cache:`); its code loads only when this is set. */
  fallback?: FallbackSettings
  /** Every lease a read of this session obtained (dynamic credentials), by lease id. */
  readonly leases = new Map<string, {provider: string; grant: LeaseGrant; names: Set<string>}>()
  private configCache?: ProjectConfig
  /** Read records held back until the command they are for starts (see holdReads). */
  private heldReads?: AuditEvent[]
  private readonly providers = new Map<string, Promise<SecretProvider>>()

  constructor(private readonly options: SessionOptions) {
    this.env = options.env
    this.ui = options.ui
    this.command = options.command
    this.environment = options.environment
    this.actor = currentActor(options.env)
  }

  get config(): ProjectConfig {
    this.configCache ??= loadConfig({cwd: this.options.cwd, env: this.env, flag: this.options.configFlag})
    return this.configCache
  }

  /** The alias bare names refer to: the provider called `local`, else the first local provider. */
  defaultLocalAlias(): string {
    const locals = [...this.config.providers.values()].filter((p) => p.type === 'local')
    const chosen = locals.find((p) => p.alias === 'local') ?? locals[0]
    if (chosen === undefined) {
      throw new SecretsError(
        'CONFIG_INVALID',
        `${this.config.file} declares no local provider, so a bare name cannot be resolved.`,
        {
          suggestions: [
            'Use a full reference such as vault://secret/app#key, or add `local: {type: local, path: .secrets/store.json}` under providers.',
          ],
        },
      )
    }
    return chosen.alias
  }

  /** A bare NAME means the default local store; anything with `://` is parsed as a reference. */
  toReference(input: string): Reference {
    if (looksLikeReference(input)) {
      const ref = parseReference(input)
      this.providerConfig(ref.alias)
      return ref
    }
    const bad = [...input].findIndex((ch, i) => !(i === 0 ? /[A-Za-z0-9_]/ : /[A-Za-z0-9_.-]/).test(ch))
    if (bad !== -1 || input.length === 0 || input.length > 255) {
      const at = Math.max(0, bad)
      throw new SecretsError(
        'REFERENCE_INVALID',
        `${JSON.stringify(input)} is neither a local secret name nor a reference: unexpected ${JSON.stringify(input[at] ?? '')} at character ${at + 1}:\n  ${JSON.stringify(input)}\n${' '.repeat(at + 3)}^`,
        {
          suggestions: [
            'Local names are letters, digits, "_", "." and "-" (e.g. DB_PASSWORD); references look like alias://path[#field][?version=N].',
          ],
        },
      )
    }
    const alias = this.defaultLocalAlias()
    return parseReference(`${alias}://${input}`)
  }

  providerConfig(alias: string) {
    const p = this.config.providers.get(alias)
    if (p === undefined) {
      throw new SecretsError(
        'REFERENCE_INVALID',
        `No provider with alias "${alias}" is declared in ${this.config.file}.`,
        {
          suggestions: [
            `Declared aliases: ${[...this.config.providers.keys()].join(', ') || 'none'}. Add "${alias}" under providers: or fix the reference.`,
          ],
        },
      )
    }
    return p
  }

  provider(alias: string): Promise<SecretProvider> {
    let p = this.providers.get(alias)
    if (p === undefined) {
      p = openProvider({
        project: this.config,
        config: this.providerConfig(alias),
        env: this.env,
        ui: this.ui,
        actor: this.actor,
      })
      this.providers.set(alias, p)
    }
    return p
  }

  async audit(events: AuditEvent[]): Promise<void> {
    await appendAudit(locate(this.configCache, events), this.actor, this.env)
  }

  /**
   * Hold read records back until `releaseReads`: `exec` reads before it knows whether the program can
   * start, and a program that never ran (exit 127 or 126) must not leave reads recorded as `ok`.
   * The records are still written before the program gets any value.
   */
  holdReads(): void {
    this.heldReads ??= []
  }

  /** Write the held read records; with `notStarted` (why the command never ran) `ok` reads become `not_started`. */
  async releaseReads(notStarted?: unknown): Promise<void> {
    const held = this.heldReads ?? []
    this.heldReads = undefined
    const code = notStarted instanceof SecretsError ? notStarted.code : 'INTERNAL'
    const notRun = (e: AuditEvent): AuditEvent => (e.outcome === 'ok' ? {...e, outcome: 'not_started', code} : e)
    await this.audit(notStarted === undefined ? held : held.map(notRun))
  }

  /**
   * Make a change and record it together (see recordChange): a log that cannot take the record stops
   * the change before it is made. A failed change is recorded with its outcome; a failure of the log
   * itself is not recorded again (it could not be, and its message already says what happened).
   */
  async recordChange<T>(
    failure: {action: AuditEvent['action']; ref: Reference} | {events: (error: unknown) => AuditEvent[]},
    change: () => Promise<T>,
    events: (result: T) => AuditEvent[],
  ): Promise<T> {
    try {
      return await recordChange(change, (r) => locate(this.configCache, events(r)), this.actor, this.env)
    } catch (error) {
      if (!isAuditFailure(error)) {
        if ('ref' in failure) await this.auditFailure(failure.action, failure.ref, error)
        else await this.audit(failure.events(error)).catch(() => undefined)
      }
      throw error
    }
  }

  /** Read one secret (with its #field applied), recording the access. */
  async get(input: string): Promise<Resolved> {
    const ref = this.toReference(input)
    const [result] = await this.readMany([{name: ref.path, ref}])
    if ('error' in result) throw result.error
    return result
  }

  async set(input: string, value: SecretValue): Promise<{ref: Reference; version: string}> {
    const ref = this.toReference(input)
    const provider = await this.provider(ref.alias)
    this.require(provider, 'write', ref)
    const {version} = await this.recordChange(
      {action: 'write', ref},
      () => provider.write(ref, value),
      (r) => [
        {
          command: this.command,
          action: 'write',
          provider: ref.alias,
          ref: ref.raw,
          version: r.version,
          outcome: 'ok',
          value,
        },
      ],
    )
    return {ref, version}
  }

  async delete(
    input: string,
    options: DeleteOptions = {},
  ): Promise<{ref: Reference; versions: number; recoverableUntil?: string}> {
    const ref = this.toReference(input)
    const provider = await this.provider(ref.alias)
    this.require(provider, 'delete', ref)
    const {versions, recoverableUntil} = await this.recordChange(
      {action: 'delete', ref},
      () => provider.delete(ref, options),
      () => [{command: this.command, action: 'delete', provider: ref.alias, ref: ref.raw, outcome: 'ok'}],
    )
    return {ref, versions, ...(recoverableUntil === undefined ? {} : {recoverableUntil})}
  }

  async restore(input: string): Promise<{ref: Reference}> {
    const ref = this.toReference(input)
    const provider = await this.provider(ref.alias)
    requireCapability(
      provider,
      'restore',
      `Provider ${provider.alias} (${provider.type}) has no recovery window, so there is nothing to restore.`,
      {ref: ref.raw},
    )
    await this.recordChange(
      {action: 'restore', ref},
      () => provider.restore(ref),
      () => [{command: this.command, action: 'restore', provider: ref.alias, ref: ref.raw, outcome: 'ok'}],
    )
    return {ref}
  }

  /**
   * Permanently erase a soft-deleted secret. The provider is checked before `confirm` runs, so a
   * provider that cannot purge is refused without a question; `confirm` throws to stop.
   */
  async purge(input: string, confirm: (ref: Reference) => Promise<void>): Promise<{ref: Reference}> {
    const ref = this.toReference(input)
    const provider = await this.provider(ref.alias)
    requireCapability(
      provider,
      'purge',
      `Provider ${provider.alias} (${provider.type}) cannot purge deleted secrets.`,
      {
        ref: ref.raw,
        suggestions: [
          '`secrets delete --force` deletes without a recovery window where a provider has one (AWS Secrets Manager: also a secret already scheduled for deletion); elsewhere `secrets delete` is final.',
        ],
      },
    )
    await confirm(ref)
    await this.recordChange(
      {action: 'purge', ref},
      () => provider.purge(ref),
      () => [{command: this.command, action: 'purge', provider: ref.alias, ref: ref.raw, outcome: 'ok'}],
    )
    return {ref}
  }

  /** List secrets of one provider, or of every provider that can list. */
  async list(alias?: string): Promise<Array<SecretMeta & {provider: string}>> {
    const aliases = alias === undefined ? [...this.config.providers.keys()] : [this.providerConfig(alias).alias]
    const out: Array<SecretMeta & {provider: string}> = []
    for (const a of aliases) {
      const provider = await this.provider(a)
      if (!supports(provider, 'list')) {
        if (alias !== undefined) this.require(provider, 'list', undefined)
        continue
      }

      for (const m of await provider.list()) out.push({...m, provider: a})
    }
    return out
  }

  /**
   * The variables of an environment: every injectable secret of the local stores under its own name,
   * then the `env:` mapping (which wins on a clash), then `--env` overrides. `warn`: say which code-loading
   * variables are left out or injected (for the commands that inject them; a name lookup stays quiet).
   */
  async variables(environment?: string, o: {warn?: boolean} = {}): Promise<Map<string, Reference>> {
    const vars = new Map<string, Reference>()
    const files = selectFiles(this.config, environment)
    // A local secret that `files:` turns into a file is not also injected as a value under its own name.
    const asFiles = new Set(
      [...files.values()].flatMap((f) => (f.ref === undefined ? [] : [`${f.ref.alias}://${f.ref.path}`])),
    )
    for (const p of this.config.providers.values()) {
      if (p.type !== 'local') continue

      const provider = await this.provider(p.alias)

      const implicit = (await provider.implicitEnv?.({warn: o.warn === true})) ?? new Map()
      for (const [name, ref] of implicit)
        if (!vars.has(name) && !asFiles.has(`${ref.alias}://${ref.path}`)) vars.set(name, ref)
    }
    for (const [name, entry] of selectEnvironment(this.config, environment)) {
      if (o.warn === true && isCodeLoadingName(name))
        this.ui.warn(
          `${name} (${entry.ref.raw}) changes how programs load or run code; injected because secrets.yaml names it under env:.`,
        )
      vars.set(name, entry.ref)
    }
    // A variable declared under `files:` holds a path, never the value itself.
    for (const name of files.keys()) vars.delete(name)
    return vars
  }

  /** Every secret an environment reads: its variables and the references of its `files:` entries (a template has none). */
  async references(environment?: string): Promise<Map<string, Reference>> {
    const refs = await this.variables(environment)
    for (const [name, entry] of this.files(environment)) if (entry.ref !== undefined) refs.set(name, entry.ref)
    return refs
  }

  /** The `files:` entries of an environment (see selectFiles). */
  files(environment?: string): Map<string, FileEntry> {
    return selectFiles(this.config, environment)
  }

  /**
   * Resolve variables to values: providers in parallel, each reading its references in one batch.
   * Fails closed: if any variable cannot be resolved, throws one error naming every failure (variable,
   * reference, provider and reason, never a value) and returns nothing.
   */
  async resolve(
    vars: Map<string, Reference>,
    options: {allowMissing?: boolean} = {},
  ): Promise<{resolved: Resolved[]; missing: Unresolved[]}> {
    const {resolved, failed} = await this.tryResolve(vars)
    const missing = options.allowMissing ? failed.filter((f) => f.error.code === 'NOT_FOUND') : []
    const fatal = failed.filter((f) => !missing.includes(f))
    if (fatal.length > 0) throw resolutionError(fatal, vars.size)
    return {resolved, missing}
  }

  /**
   * Resolve variables without failing closed: every variable comes back either resolved or with its
   * error (for `scan`, where a secret that cannot be read must not stop the rest of the work).
   */
  async tryResolve(vars: Map<string, Reference>): Promise<{resolved: Resolved[]; failed: Unresolved[]}> {
    const results = await this.readMany([...vars].map(([name, ref]) => ({name, ref})))
    return {
      resolved: results.filter((r): r is Resolved => !('error' in r)),
      failed: results.filter((r): r is Unresolved => 'error' in r),
    }
  }

  private async readMany(items: Array<{name: string; ref: Reference}>): Promise<Array<Resolved | Unresolved>> {
    const byAlias = new Map<string, Array<{name: string; ref: Reference; index: number}>>()
    for (const [index, item] of items.entries()) {
      const list = byAlias.get(item.ref.alias) ?? []
      list.push({...item, index})
      byAlias.set(item.ref.alias, list)
    }
    const out: Array<Resolved | Unresolved> = Array.from({length: items.length})
    await Promise.all(
      [...byAlias].map(async ([alias, group]) => {
        let outcomes: ReadOutcome[]
        try {
          // --offline: no connection at all; the fallback cache answers below.
          if (this.fallback?.offline && this.providerConfig(alias).type !== 'local')
            throw (await import('./on-demand.js')).offlineError(alias)
          const provider = await this.provider(alias)
          outcomes = []
          const size = Math.max(1, provider.capabilities.batchSize)
          for (let i = 0; i < group.length; i += size) {
            outcomes.push(...(await provider.read(group.slice(i, i + size).map((g) => g.ref))))
          }
        } catch (error) {
          // A provider-level failure (unreachable, no key) fails every reference of that provider.
          const err =
            error instanceof SecretsError
              ? error
              : new SecretsError('INTERNAL', error instanceof Error ? error.message : String(error), {cause: error})
          outcomes = group.map((g) => ({ok: false, ref: g.ref, error: err}))
        }
        for (const [i, g] of group.entries()) {
          const o = outcomes[i]
          if (o.ok && o.lease) this.noteLease(alias, g.name, o.lease)
          if (o.ok) {
            try {
              out[g.index] = {
                name: g.name,
                ref: g.ref,
                provider: alias,
                value: selectField(o.value, g.ref),
                version: o.version,
                ...(o.metadata === undefined ? {} : {metadata: o.metadata}),
                ...(o.lease === undefined ? {} : {lease: o.lease}),
              }
            } catch (error) {
              out[g.index] = {name: g.name, ref: g.ref, provider: alias, error: error as SecretsError}
            }
          } else {
            out[g.index] = {name: g.name, ref: g.ref, provider: alias, error: o.error}
          }
        }
      }),
    )
    if (this.fallback !== undefined) await (await import('./on-demand.js')).applyFallback(this, out, this.fallback)
    await this.auditReads(out)
    const internal = out.find((r): r is Unresolved => 'error' in r && r.error.code === 'INTERNAL')
    if (internal) throw internal.error.cause ?? internal.error
    return out
  }

  private async auditReads(out: Array<Resolved | Unresolved>): Promise<void> {
    const events = readEvents(out, this.command, this.child)
    if (this.heldReads === undefined) await this.audit(events)
    else this.heldReads.push(...events)
  }

  private noteLease(provider: string, name: string, grant: LeaseGrant): void {
    const held = this.leases.get(grant.id) ?? {provider, grant, names: new Set<string>()}
    held.names.add(name)
    this.leases.set(grant.id, held)
  }

  private require<C extends 'write' | 'delete' | 'list'>(
    provider: SecretProvider,
    capability: C,
    ref: Reference | undefined,
  ): asserts provider is ProviderWith<C> {
    requireCapability(
      provider,
      capability,
      `Provider ${provider.alias} (${provider.type}) cannot ${capability} secrets.`,
      {
        ref: ref?.raw,
      },
    )
  }

  private async auditFailure(action: AuditEvent['action'], ref: Reference, error: unknown): Promise<void> {
    try {
      await this.audit([
        {
          command: this.command,
          action,
          provider: ref.alias,
          ref: ref.raw,
          outcome: outcomeOf(error),
          code: error instanceof SecretsError ? error.code : 'INTERNAL',
        },
      ])
    } catch {
      // The original error matters more than a failure to record it.
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.providers.values()].map(async (p) => (await p.catch(() => undefined))?.close?.()))
  }
}

/** The one error `exec` (and `doctor`) reports for variables that could not be resolved: each named, then the fixes. */
export function resolutionError(failed: Unresolved[], total: number): SecretsError {
  const lines = failed.map(
    (f) => `  ${f.name} = ${f.ref.raw} (provider ${f.provider}): [${f.error.code}] ${f.error.message.split('\n')[0]}`,
  )
  const suggestions = [...new Set(failed.flatMap((f) => f.error.suggestions))]
  return new SecretsError(
    failed[0].error.code,
    `Could not resolve ${failed.length} of ${total} variable(s); nothing was used:\n${lines.join('\n')}`,
    {
      ref: failed[0].ref.raw,
      suggestions,
      retryable: failed.every((f) => f.error.retryable),
    },
  )
}
