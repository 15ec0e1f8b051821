/**
 * The provider kinds this build knows: one line per provider. A kind's code lives in its folder
 * (`<kind>/index.ts`, `<kind>/key-service.ts`) and loads only when used (see loader.ts).
 */
import {awsSpec} from './aws/spec.js'
import {azureSpec} from './azure/spec.js'
import {localSpec} from './local/spec.js'
import type {KeyServiceSpec, ProviderSpec} from './spec.js'
import {vaultSpec} from './vault/spec.js'

const SPECS: ProviderSpec[] = [localSpec, vaultSpec, awsSpec, azureSpec]

/** The specs by kind (`type:` in secrets.yaml), in the order above. */
export const PROVIDER_TYPES: Record<string, ProviderSpec> = Object.fromEntries(SPECS.map((s) => [s.kind, s]))

/** Every spec: the built-in ones, then any registered in-process (tests). */
export function providerSpecs(): ProviderSpec[] {
  return Object.values(PROVIDER_TYPES)
}

/** Add a kind at run time; only tests do (see loader.ts registerProvider). */
export function addProviderSpec(spec: ProviderSpec): void {
  PROVIDER_TYPES[spec.kind] = spec
}

/** Remove a kind added with addProviderSpec. */
export function removeProviderSpec(kind: string): void {
  if (!SPECS.some((s) => s.kind === kind)) delete PROVIDER_TYPES[kind]
}

/** The kinds, for messages: `local, vault, aws or azure` (`conjunction` joins the last two). */
export function kindList(conjunction = 'or', filter: (s: ProviderSpec) => boolean = () => true): string {
  return joinWords(
    providerSpecs()
      .filter(filter)
      .map((s) => s.kind),
    conjunction,
  )
}

/** Every key service with the provider kind that declares it. */
export function keyServices(): Array<KeyServiceSpec & {kind: string}> {
  return providerSpecs().flatMap((s) => s.keyServices.map((k) => ({...k, kind: s.kind})))
}

/** The key-service schemes as recipients are written: `awskms://, vault-transit://, azurekv://`. */
export function keyServiceSchemes(): string {
  return keyServices()
    .map((k) => `${k.scheme}://`)
    .join(', ')
}

/** The scheme of a key-service recipient (`awskms`), or undefined for anything else. */
export function keyServiceOf(recipient: string | undefined): string | undefined {
  const scheme = /^([a-z][a-z0-9-]*):\/\//.exec(recipient ?? '')?.[1]
  return scheme !== undefined && keyServices().some((k) => k.scheme === scheme) ? scheme : undefined
}

/** `a`, `a or b`, `a, b or c`. */
export function joinWords(words: readonly string[], conjunction = 'or'): string {
  if (words.length <= 1) return words.join('')
  return `${words.slice(0, -1).join(', ')} ${conjunction} ${words.at(-1)}`
}

/** Key-service recipients for help texts: `vault-transit://<mount>/<key> (Vault transit, ...), awskms://... (...)`. */
export function keyServiceForms(): string {
  return joinWords(keyServices().map((k) => `${k.form} (${k.description})`))
}

/** The key-service schemes as a pattern list: `vault-transit://..., awskms://..., azurekv://...`. */
export function keyServiceExamples(): string {
  return keyServices()
    .map((k) => `${k.scheme}://...`)
    .join(', ')
}

/** Where provider trails come from, for messages: `vault (a file audit device), aws (CloudTrail) and azure (...)`. */
export function trailSources(): string {
  return joinWords(
    providerSpecs().flatMap((s) => (s.trail === undefined ? [] : [`${s.kind} (${s.trail.source})`])),
    'and',
  )
}
