import type {ProjectConfig, ProviderConfig} from '../config/types.js'
import {localStoreFile} from '../store/store-location.js'
import type {AuditEvent} from './record.js'

// Which project and which store a record concerns, so two projects' `local://DB_PASSWORD` (the same
// reference, different secrets) are told apart in one per-user log.

/** The settings that say where a remote provider's secrets live, in the order they are looked for. */
const LOCATION_SETTINGS = ['address', 'vaultUrl', 'endpoint', 'region'] as const

/**
 * The store a provider reads and writes: a local store's file (absolute), or the provider type with its
 * address (`vault:https://vault.example:8200`), or only the type when the address comes from the
 * environment or the SDK's defaults.
 */
export function storeName(project: ProjectConfig, provider: ProviderConfig): string {
  if (provider.type === 'local') return localStoreFile(project, provider)
  for (const key of LOCATION_SETTINGS) {
    const value = provider.settings[key]
    if (typeof value === 'string' && value !== '') return `${provider.type}:${value}`
  }
  return provider.type
}

/** Events with the project (the directory of its secrets.yaml) and the store of their provider alias. */
export function locate(project: ProjectConfig | undefined, events: AuditEvent[]): AuditEvent[] {
  if (project === undefined) return events
  return events.map((e) => {
    const provider = project.providers.get(e.provider)
    return {
      ...e,
      project: e.project ?? project.dir,
      ...(e.store === undefined && provider !== undefined ? {store: storeName(project, provider)} : {}),
    }
  })
}
