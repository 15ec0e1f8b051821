/**
 * A provider declared as data: what core reads about a provider kind without loading its code. Each
 * `src/providers/<kind>/spec.ts` exports one; `registry.ts` lists them. This module, like the specs,
 * imports nothing but the settings-schema language, so core/config can validate against the specs
 * without depending on any provider code.
 */
import type {SettingKind, SettingsSchema} from '../core/config/settings-schema.js'

/**
 * A key service that can hold the local store's data key, e.g. `awskms://alias/secrets`. Its code is
 * the provider folder's `key-service.ts` (exporting `createKeyWrapper`), loaded only when a recipient
 * of that scheme is used.
 */
export interface KeyServiceSpec {
  /** The recipient's scheme, without `://`. */
  readonly scheme: string
  /** The recipient's form for help texts, e.g. `awskms://<key ARN or alias>`. */
  readonly form: string
  /** What the recipient is and how it signs in, for help texts. */
  readonly description: string
}

/** The provider's own record of access (`secrets audit trail`). */
export interface TrailSpec {
  /** Where the trail comes from, for messages: e.g. `CloudTrail`. */
  readonly source: string
}

/** Everything core and the build know about one provider kind. */
export interface ProviderSpec<S extends SettingsSchema = SettingsSchema> {
  /** The `type:` in secrets.yaml and the folder name under src/providers/. */
  readonly kind: string
  /** A human name for help texts, e.g. `AWS Secrets Manager`. */
  readonly title: string
  /** Allowed settings in secrets.yaml and their types (nested mappings allowed). */
  readonly settings: S
  /** Accept settings not listed (for a kind whose schema is not pinned down yet). */
  readonly openSettings?: boolean
  /** Where credentials come from instead of the file (named in error messages). */
  readonly credentialHint: string
  readonly keyServices: readonly KeyServiceSpec[]
  readonly trail?: TrailSpec
  /**
   * What a secrets.yaml entry's `params:` means for this kind, when it takes them (Vault: the parameters
   * of a write that issues a credential, e.g. `pki/issue/<role>`); kinds without it refuse `params:`.
   */
  readonly entryParams?: string
  /** The npm packages (or `@scope/*` patterns) its code loads at run time; the build keeps them external. */
  readonly sdkPackages: readonly string[]
  /** The provider's documentation page. */
  readonly docs: string
}

type Mutable<T> = {-readonly [K in keyof T]: T[K]}

/** The TypeScript type of one setting kind. */
export type SettingOf<K> = K extends 'string'
  ? string
  : K extends 'boolean'
    ? boolean
    : K extends 'number'
      ? number
      : K extends 'string[]'
        ? string[]
        : K extends {oneOf: ReadonlyArray<infer V>}
          ? V
          : K extends {entries: infer E}
            ? Record<string, SettingOf<E>>
            : K extends SettingsSchema
              ? SettingsOf<K>
              : never

/**
 * The settings a schema allows, as secrets.yaml gives them: every setting optional. A provider casts
 * `ctx.config.settings` to it: core/config validated them against the same spec (kinds, nesting,
 * `oneOf` values) before any provider is opened.
 */
export type SettingsOf<S> = Mutable<{[K in keyof S]?: SettingOf<S[K]>}>

/** Declare a spec, keeping the schema's literal types for `SettingsOf<typeof spec.settings>`. */
export function defineProvider<const S extends Record<string, SettingKind>>(spec: ProviderSpec<S>): ProviderSpec<S> {
  return spec
}
