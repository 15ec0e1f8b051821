import {isAbsolute, join} from 'node:path'

import {SecretsError} from '../../errors.js'
import type {ProjectConfig, ProviderConfig} from '../config/types.js'

export const DEFAULT_STORE_PATH = '.secrets/store.json'

/** The store file of a local provider: its `path:` relative to secrets.yaml, or the default. */
export function localStoreFile(project: ProjectConfig, provider: ProviderConfig): string {
  const p = typeof provider.settings.path === 'string' ? provider.settings.path : DEFAULT_STORE_PATH
  return isAbsolute(p) ? p : join(project.dir, p)
}

/** Pick a local provider by alias, or the default one (`local`, else the first of type local). */
export function pickLocalProvider(project: ProjectConfig, alias?: string): ProviderConfig {
  const locals = [...project.providers.values()].filter((p) => p.type === 'local')
  const chosen =
    alias === undefined ? (locals.find((p) => p.alias === 'local') ?? locals[0]) : project.providers.get(alias)
  if (chosen === undefined || chosen.type !== 'local') {
    throw new SecretsError(
      'CONFIG_INVALID',
      alias === undefined
        ? `${project.file} declares no local provider.`
        : `"${alias}" is not a local provider in ${project.file}.`,
      {
        suggestions: [
          `Local providers: ${locals.map((p) => p.alias).join(', ') || 'none'}. Add \`local: {type: local, path: ${DEFAULT_STORE_PATH}}\` under providers.`,
        ],
      },
    )
  }
  return chosen
}
