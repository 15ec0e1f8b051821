import {statSync} from 'node:fs'

import {localStoreFile} from '../../core/store/store-location.js'
import {actorLabel} from '../../core/actor.js'
import {checkParams, ENV_NAME_PATTERN, type Reference} from '../../core/reference.js'
import type {SecretValue} from '../../core/secret-value.js'
import {Keyring} from '../../core/store/keyring.js'
import {isCodeLoadingName, isReservedName} from '../../core/store/reserved-names.js'
import {openStore, updateStore, type OpenStore} from '../../core/store/open-store.js'
import {SecretsError} from '../../errors.js'
import type {SettingsOf} from '../spec.js'
import type {localSpec} from './spec.js'
import type {Capabilities, ProviderContext, ReadOutcome, SecretMeta, SecretProvider, VersionInfo} from '../types.js'

const CAPABILITIES: Capabilities = {
  batchSize: Number.POSITIVE_INFINITY,
  params: ['version'],
}

/** A local provider's settings in secrets.yaml. */
type LocalSettings = SettingsOf<typeof localSpec.settings>

function parseVersion(ref: Reference): number | undefined {
  const raw = ref.params.version
  if (raw === undefined) return undefined
  if (!/^[1-9]\d{0,8}$/.test(raw)) {
    throw new SecretsError(
      'REFERENCE_INVALID',
      `Invalid reference ${ref.raw}: version must be a positive whole number for a local secret.`,
      {ref: ref.raw},
    )
  }
  return Number(raw)
}

function versionNumber(text: string): number {
  if (!/^[1-9]\d{0,8}$/.test(text))
    throw new SecretsError('USAGE', `"${text}" is not a local version number (1, 2, 3 ...).`)
  return Number(text)
}

/** The embedded local store as a provider: one encrypted file, no server. */
export class LocalProvider implements SecretProvider {
  readonly type = 'local'
  readonly capabilities = CAPABILITIES
  readonly alias: string
  readonly file: string
  readonly keyring: Keyring
  private readonly inject: boolean

  constructor(private readonly ctx: ProviderContext) {
    this.alias = ctx.config.alias
    this.file = localStoreFile(ctx.project, ctx.config)
    this.inject = (ctx.config.settings as LocalSettings).inject !== false
    this.keyring = new Keyring(ctx.env, ctx.ui)
  }

  /** The last opened store and the file's identity (inode, size, times) when it was read. */
  private opened?: {stamp: string; store: Promise<OpenStore>}

  /**
   * The store, read, verified and decrypted once per version of the file: `exec` lists it (implicit
   * variables) and then reads it, and `--watch` re-reads it only after it was replaced (writes rename
   * a new file into place, so the inode changes).
   */
  open(): Promise<OpenStore> {
    let stamp: string | undefined
    try {
      const st = statSync(this.file)
      stamp = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`
    } catch {
      // Missing or unreadable: let openStore report it properly.
    }
    if (stamp !== undefined && this.opened?.stamp === stamp) return this.opened.store
    const store = openStore(this.file, this.keyring)
    this.opened = stamp === undefined ? undefined : {stamp, store}
    store.catch(() => {
      if (this.opened?.store === store) this.opened = undefined
    })
    return store
  }

  async read(refs: Reference[]): Promise<ReadOutcome[]> {
    const versions = refs.map((ref) => {
      checkParams(ref, CAPABILITIES.params)
      return parseVersion(ref)
    })
    const store = await this.open()
    return refs.map((ref, i): ReadOutcome => {
      try {
        const {value, version} = store.read(ref.path, versions[i])
        return {ok: true, ref, value, version: String(version)}
      } catch (error) {
        if (error instanceof SecretsError && error.code === 'NOT_FOUND') {
          return {
            ok: false,
            ref,
            error: new SecretsError('NOT_FOUND', error.message, {ref: ref.raw, suggestions: error.suggestions}),
          }
        }
        throw error
      }
    })
  }

  async list(): Promise<SecretMeta[]> {
    const store = await this.open()
    return store.names().map((name) => {
      const m = store.meta(name)
      return {
        name,
        ref: `${this.alias}://${name}`,
        version: String(m.version),
        versions: m.versions,
        updated: m.updated,
        actor: m.actor,
      }
    })
  }

  async describe(ref: Reference): Promise<SecretMeta> {
    const m = (await this.open()).meta(ref.path)
    return {
      name: ref.path,
      ref: `${this.alias}://${ref.path}`,
      version: String(m.version),
      versions: m.versions,
      updated: m.updated,
      actor: m.actor,
    }
  }

  async write(ref: Reference, value: SecretValue): Promise<{version: string}> {
    this.plainName(ref, 'write')
    const version = await updateStore(this.file, this.keyring, (store) =>
      store.write(ref.path, value, actorLabel(this.ctx.actor)),
    )
    return {version: String(version)}
  }

  async delete(ref: Reference): Promise<{versions: number}> {
    this.plainName(ref, 'delete')
    const versions = await updateStore(this.file, this.keyring, (store) => store.remove(ref.path))
    return {versions}
  }

  async writePending(ref: Reference, value: SecretValue, o: {base: string}): Promise<{pending: string}> {
    this.plainName(ref, 'rotate')
    const v = await updateStore(this.file, this.keyring, (store) =>
      store.writePending(ref.path, value, actorLabel(this.ctx.actor), versionNumber(o.base)),
    )
    return {pending: String(v)}
  }

  async readPending(ref: Reference, pending: string): Promise<SecretValue> {
    return (await this.open()).read(ref.path, versionNumber(pending)).value
  }

  async promote(ref: Reference, o: {base: string; pending: string}): Promise<{version: string}> {
    const v = await updateStore(this.file, this.keyring, (store) =>
      store.promote(ref.path, versionNumber(o.pending), versionNumber(o.base)),
    )
    return {version: String(v)}
  }

  async discardPending(ref: Reference, {pending}: {pending?: string}): Promise<void> {
    await updateStore(this.file, this.keyring, (store) =>
      store.discardPending(ref.path, pending === undefined ? undefined : versionNumber(pending)),
    )
  }

  async versions(ref: Reference): Promise<VersionInfo[]> {
    this.plainName(ref, 'list the versions of')
    const store = await this.open()
    return store
      .history(ref.path)
      .reverse()
      .map((h) => ({
        version: String(h.version),
        created: h.created,
        current: h.current,
        ...(h.state === 'pending' ? {pending: true, labels: ['pending']} : {}),
      }))
  }

  async restoreVersion(ref: Reference, o: {version: string; expected: string}): Promise<{version: string}> {
    this.plainName(ref, 'roll back')
    const v = await updateStore(this.file, this.keyring, (store) =>
      store.setCurrent(ref.path, versionNumber(o.version), versionNumber(o.expected)),
    )
    return {version: String(v)}
  }

  async implicitEnv(o: {warn?: boolean} = {}): Promise<Map<string, Reference>> {
    const out = new Map<string, Reference>()
    if (!this.inject) return out
    const store = await this.open()
    for (const name of store.names()) {
      if (!ENV_NAME_PATTERN.test(name) || isReservedName(name)) continue
      if (isCodeLoadingName(name)) {
        if (o.warn === true)
          this.ctx.ui.warn(
            `${this.alias}://${name} is not injected as ${name}: that variable changes how programs load or run code, so it comes only from an explicit \`env:\` entry in secrets.yaml (see docs/exec.md).`,
          )
        continue
      }
      out.set(name, {alias: this.alias, path: name, params: {}, raw: `${this.alias}://${name}`})
    }
    return out
  }

  async check(): Promise<string> {
    const store = await this.open()
    return `${this.file}: ${store.names().length} secret(s), ${store.recipients().length} recipient(s), decrypts and verifies`
  }

  private plainName(ref: Reference, verb: string): void {
    if (ref.field !== undefined || Object.keys(ref.params).length > 0) {
      throw new SecretsError(
        'USAGE',
        `Cannot ${verb} ${ref.raw}: a local ${verb} takes a plain name, without #field or ?version.`,
        {
          ref: ref.raw,
          suggestions: [`Use ${this.alias}://${ref.path}.`],
        },
      )
    }
  }
}
