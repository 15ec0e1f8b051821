import {SecretsError} from '../../errors.js'
import type {EnvEntry, FileEntry, ProjectConfig} from './types.js'

/** The variables of the selected environment: the base `env:` overridden by `environments.<name>.env`. */
export function selectEnvironment(config: ProjectConfig, name: string | undefined): Map<string, EnvEntry> {
  if (name === undefined || name === '') return new Map(config.env)
  const overrides = config.environments.get(name)
  if (overrides === undefined) {
    const known = [...config.environments.keys()]
    throw new SecretsError('CONFIG_INVALID', `Environment ${JSON.stringify(name)} is not defined in ${config.file}.`, {
      suggestions: [
        known.length > 0
          ? `Use one of: ${known.join(', ')}.`
          : 'Add it under `environments:` or drop --env / SECRETS_ENV.',
      ],
    })
  }
  const merged = new Map(config.env)
  for (const [key, entry] of overrides) merged.set(key, entry)
  for (const key of config.environmentFiles.get(name)?.keys() ?? []) merged.delete(key)
  return merged
}

/**
 * The files of the selected environment: the base `files:` overridden by `environments.<name>.files`.
 * A variable an environment maps in `env:` stops being a file there, and the other way round.
 */
export function selectFiles(config: ProjectConfig, name: string | undefined): Map<string, FileEntry> {
  const merged = new Map(config.files)
  if (name === undefined || name === '') return merged
  for (const key of config.environments.get(name)?.keys() ?? []) merged.delete(key)
  for (const [key, entry] of config.environmentFiles.get(name) ?? []) merged.set(key, entry)
  return merged
}
