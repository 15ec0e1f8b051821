/**
 * Opens providers and key services, loading only the one folder a reference or recipient needs. The
 * module path is built from the kind, so core does not depend on any provider's code statically (the
 * build bundles every `<kind>/index.ts` and `<kind>/key-service.ts` behind these two imports).
 */
import {SecretsError} from '../errors.js'
import {addProviderSpec, keyServiceOf, keyServices, PROVIDER_TYPES, removeProviderSpec} from './registry.js'
import type {ProviderSpec} from './spec.js'
import type {KeyWrapper, KeyWrapperModule, ProviderContext, ProviderModule, SecretProvider} from './types.js'

export {keyServiceOf} from './registry.js'

/** Provider modules registered in-process (tests), by kind. */
const registered = new Map<string, ProviderModule>()

/** Make a provider kind known to this process (a test's in-memory provider); returns the undo. */
export function registerProvider(spec: ProviderSpec, module: ProviderModule): () => void {
  if (PROVIDER_TYPES[spec.kind] !== undefined && !registered.has(spec.kind))
    throw new Error(`provider kind ${spec.kind} is built in`)
  addProviderSpec(spec)
  registered.set(spec.kind, module)
  return () => {
    registered.delete(spec.kind)
    removeProviderSpec(spec.kind)
  }
}

function loadProvider(kind: string): Promise<ProviderModule> {
  const mod = registered.get(kind)
  if (mod !== undefined) return Promise.resolve(mod)
  // `.ts`: the build resolves the pattern against src/ (tsx does at run time in development).
  return import(`./${kind}/index.ts`) as Promise<ProviderModule>
}

/** Load the one provider module a reference needs and open the provider. */
export async function openProvider(ctx: ProviderContext): Promise<SecretProvider> {
  if (PROVIDER_TYPES[ctx.config.type] === undefined) {
    throw new SecretsError(
      'UNSUPPORTED',
      `Provider ${ctx.config.alias} has type ${ctx.config.type}, which this build of secrets cannot use yet.`,
      {
        suggestions: [
          `Upgrade secrets, or copy these secrets into the local store for now (types available: ${Object.keys(PROVIDER_TYPES).join(', ')}).`,
        ],
      },
    )
  }
  const mod = await loadProvider(ctx.config.type)
  return mod.createProvider(ctx)
}

/** Load the one key-service module a recipient needs. */
export async function openKeyWrapper(recipient: string, env: NodeJS.ProcessEnv): Promise<KeyWrapper> {
  const scheme = keyServiceOf(recipient)
  const service = keyServices().find((k) => k.scheme === scheme)
  if (service === undefined) {
    throw new SecretsError(
      'UNSUPPORTED',
      `${recipient} is not a key service this build of secrets knows (known: ${keyServices()
        .map((k) => `${k.scheme}://`)
        .join(', ')}).`,
    )
  }
  const mod = (await import(`./${service.kind}/key-service.ts`)) as KeyWrapperModule
  return mod.createKeyWrapper(recipient, env)
}
