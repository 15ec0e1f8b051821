import {SecretsError} from '../errors.js'
import {supports} from '../providers/capabilities.js'
import {selectEnvironment} from './config/select.js'
import {looksLikeReference, type Reference} from './reference.js'
import type {Session} from './session.js'
import {closestNames, didYouMean} from './suggest.js'

/**
 * Where a name's meaning comes from: `env:` (the base mapping), `environment` (`environments.<name>`),
 * `files:`, `implicit` (a local store's secret injected under its own name), `store` (the default local
 * store's secret of that name, which need not exist yet) or `reference` (the input was one).
 */
export type NameSource = 'env' | 'environment' | 'files' | 'implicit' | 'store' | 'reference'

/** What a bare NAME or a reference means on every command: the reference it stands for, and why. */
export interface NamedSecret {
  input: string
  ref: Reference
  source: NameSource
  /** The variable of the selected environment this is, when it is one. */
  variable?: string
  /** The selected environment (--env / SECRETS_ENV); undefined is the base `env:`. */
  environment?: string
  /** A `files:` entry of the environment itself (`environments.<name>.files`), not the base one. */
  ownFile?: boolean
}

/**
 * Turn a name into what it means, exactly as `exec` builds the environment: first the selected
 * environment's variable (`files:` over `environments.<name>` over `env:` over implicit local ones),
 * else the default local store's secret of that name. An explicit reference means itself.
 */
export async function lookupName(
  session: Session,
  input: string,
  environment: string | undefined = session.environment,
): Promise<NamedSecret> {
  if (looksLikeReference(input)) return {input, ref: session.toReference(input), source: 'reference', environment}
  const explicit = mappedVariable(session, input, environment)
  if (explicit !== undefined) return explicit
  // Validates the name, and that there is a local store for it, before any store is opened.
  const fallback = session.toReference(input)
  const implicit = await implicitVariable(session, input, environment)
  if (implicit !== undefined) return {input, ref: implicit, source: 'implicit', variable: input, environment}
  return {input, ref: fallback, source: 'store', environment}
}

/**
 * A local store's secret that `exec` injects under its own name. A store that cannot be opened here
 * injects nothing we can tell of: the name then means the default store's secret, whose own
 * operation reports why the store cannot be opened.
 */
async function implicitVariable(
  session: Session,
  name: string,
  environment: string | undefined,
): Promise<Reference | undefined> {
  try {
    return (await session.variables(environment)).get(name)
  } catch (error) {
    if (error instanceof SecretsError) return undefined
    throw error
  }
}

function mappedVariable(session: Session, name: string, environment: string | undefined): NamedSecret | undefined {
  // selectEnvironment refuses an unknown environment and drops the entries it turns into files.
  const entries = selectEnvironment(session.config, environment)
  const file = session.files(environment).get(name)
  if (file !== undefined) {
    if (file.ref === undefined) {
      throw new SecretsError(
        'USAGE',
        `${name} is a \`files:\` template in ${session.config.file}: it is rendered from several secrets, so it names no one secret.`,
        {suggestions: [`Name one of the secrets its template reads (its {{ ref "..." }} placeholders).`]},
      )
    }
    const own = environment ? session.config.environmentFiles.get(environment)?.has(name) : false
    return {input: name, ref: file.ref, source: 'files', variable: name, environment, ...(own ? {ownFile: true} : {})}
  }
  const entry = entries.get(name)
  if (entry === undefined) return undefined
  const own = environment ? session.config.environments.get(environment)?.has(name) : false
  return {input: name, ref: entry.ref, source: own ? 'environment' : 'env', variable: name, environment}
}

/** How a name reads in messages: `DATABASE_URL -> local://STAGING_DB` for a mapping, else the reference. */
export function describeName(named: NamedSecret): string {
  return isMapping(named) ? `${named.variable} -> ${named.ref.raw}` : named.ref.raw
}

/** Whether secrets.yaml maps the name (so it may point anywhere, and shadow a local secret of that name). */
export function isMapping(named: NamedSecret): named is NamedSecret & {variable: string} {
  return named.source === 'env' || named.source === 'environment' || named.source === 'files'
}

/** Where a mapping is declared, for messages. */
export function mappingOrigin(named: NamedSecret, file: string): string {
  if (named.source === 'environment') return `environments.${named.environment}.env in ${file}`
  if (named.ownFile) return `environments.${named.environment}.files in ${file}`
  return `${named.source === 'files' ? 'files:' : 'env:'} in ${file}`
}

/**
 * The local secret of the same name that a mapping hides, if the default local store has one. Best
 * effort: a store that cannot be opened hides nothing worth a warning. With `onlyIfOpen`, a store the
 * command does not use anyway is not opened for it (it may ask for a passphrase or call a key service).
 */
export async function shadowedLocal(
  session: Session,
  named: NamedSecret,
  o: {onlyIfOpen?: boolean} = {},
): Promise<Reference | undefined> {
  if (!isMapping(named)) return undefined
  try {
    const local = session.toReference(named.input)
    if (local.raw === named.ref.raw) return undefined
    if (o.onlyIfOpen && local.alias !== named.ref.alias) return undefined
    const provider = await session.provider(local.alias)
    if (!supports(provider, 'list')) return undefined
    return (await provider.list()).some((s) => s.name === named.input) ? local : undefined
  } catch {
    return undefined
  }
}

/** Run `operation` on the name's reference; a bare name that is nothing at all becomes the typo error. */
export async function withNamed<T>(
  session: Session,
  named: NamedSecret,
  operation: (ref: Reference) => Promise<T>,
): Promise<T> {
  try {
    return await operation(named.ref)
  } catch (error) {
    throw await explainMissing(session, named, error)
  }
}

/**
 * The error to report for a failed operation on a name: for a bare name (source `store`) whose secret
 * does not exist, the typo error (closest names, how to create it); anything else unchanged. A missing
 * version, field or audit directory is NOT_FOUND too, and keeps its own message.
 */
export async function explainMissing(
  session: Session,
  named: Pick<NamedSecret, 'input' | 'ref' | 'source' | 'environment'>,
  error: unknown,
): Promise<unknown> {
  if (named.source !== 'store' || !(error instanceof SecretsError) || error.code !== 'NOT_FOUND') return error
  if ((await storeHas(session, named.ref)) !== false) return error
  return unknownName(session, named.input, named.environment)
}

/** Whether the local store holds the secret; undefined when that cannot be told. */
export async function storeHas(session: Session, ref: Reference): Promise<boolean | undefined> {
  try {
    const provider = await session.provider(ref.alias)
    if (!supports(provider, 'list')) return undefined
    return (await provider.list()).some((s) => s.name === ref.path)
  } catch {
    return undefined
  }
}

/** The candidates a name is compared with: the environment's variables and the default local store's secrets. */
async function candidates(session: Session, environment: string | undefined): Promise<string[]> {
  const names = new Set<string>()
  try {
    for (const name of (await session.references(environment)).keys()) names.add(name)
  } catch {
    for (const name of session.config.env.keys()) names.add(name)
  }
  try {
    const provider = await session.provider(session.defaultLocalAlias())
    if (supports(provider, 'list')) for (const s of await provider.list()) names.add(s.name)
  } catch {
    // No store (yet), or no identity to open it: suggest from secrets.yaml alone.
  }
  return [...names]
}

/** NOT_FOUND for a name that is neither a variable of the environment nor a local secret: the closest, then how to create it. */
export async function unknownName(
  session: Session,
  name: string,
  environment: string | undefined = session.environment,
): Promise<SecretsError> {
  const near = closestNames(name, await candidates(session, environment))
  const where = environment ? `environment ${environment}` : 'this environment'
  const alias = session.defaultLocalAlias()
  return new SecretsError(
    'NOT_FOUND',
    `${name} is neither a variable of ${where} nor a secret in the local store ${alias}.`,
    {
      ref: `${alias}://${name}`,
      suggestions: [
        ...(near.length > 0 ? [didYouMean(near)] : []),
        `Create it with \`secrets set ${name}\` (stored in ${alias}://${name}), or map it to a reference under env: in ${session.config.file}.`,
      ],
    },
  )
}

/**
 * The secret `audit log --secret NAME` filters on: what the name means in this project (`alias://path`,
 * every field and version). Outside a project there is no name model, and the name matches any provider's path.
 */
export async function auditSecretOf(session: Session, input: string): Promise<string> {
  if (looksLikeReference(input)) return input
  try {
    const {ref} = await lookupName(session, input)
    return `${ref.alias}://${ref.path}`
  } catch (error) {
    if (error instanceof SecretsError && error.code === 'CONFIG_NOT_FOUND') return input
    throw error
  }
}
