import {existsSync} from 'node:fs'
import {basename, dirname, isAbsolute, join, relative, resolve, sep} from 'node:path'
import {fileURLToPath} from 'node:url'

import {writeFileAtomic} from '../lib/atomic-write.js'
import {CONFIG_FILE_NAME, loadConfig} from '../config/load.js'
import {createIdentityFile, defaultIdentityFile, loadIdentities, type AgeIdentity} from '../store/identity.js'
import type {Interaction} from '../interaction.js'
import {Keyring} from '../store/keyring.js'
import {newPassphrase} from '../store/new-passphrase.js'
import {createStore, openStore} from '../store/open-store.js'
import {DEFAULT_STORE_PATH, localStoreFile, pickLocalProvider} from '../store/store-location.js'

export interface InitOptions {
  cwd: string
  env: NodeJS.ProcessEnv
  ui: Interaction
  /** Take every default without asking. */
  yes: boolean
  configFlag?: string
  storePath?: string
  /** Also protect a new store with a passphrase (from SECRETS_NEW_PASSPHRASE or typed twice on a terminal). */
  passphrase?: boolean
}

export interface InitResult {
  config: {path: string; created: boolean}
  identity: {source: string; recipient: string; created: boolean}
  store: {path: string; created: boolean; recipients: number}
}

/**
 * The schema the package ships, for the editor line of a new secrets.yaml: relative to the config when
 * the package is installed inside the project (node_modules, so teammates' editors find it too), else
 * absolute. Either way a file on disk that matches the installed CLI and needs no network.
 */
export function schemaLocation(configDir: string): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 5; i++, dir = dirname(dir)) {
    const file = join(dir, 'secrets.schema.json')
    if (existsSync(file) && existsSync(join(dir, 'package.json'))) {
      const rel = relative(configDir, file)
      return rel.startsWith('..') || isAbsolute(rel) ? file : rel.split(sep).join('/')
    }
  }
  return undefined
}

function configTemplate(storePath: string, schema: string | undefined): string {
  const editor = schema === undefined ? '' : `# yaml-language-server: $schema=${schema}\n`
  return `${editor}# secrets.yaml: which providers exist and which variables come from where.
# Never put a secret value or a credential in this file; it is meant to be committed.
# Every secret in the local store is injected under its own name; env: adds references on top.
providers:
  local: {type: local, path: ${storePath}}
env: {}
# env:
#   DATABASE_URL: local://DATABASE_URL
# environments:
#   staging:
#     env:
#       DATABASE_URL: local://STAGING_DATABASE_URL
`
}

/**
 * Create what is missing of: the identity, the local store (encrypted to that identity), and
 * secrets.yaml, in that order, so a failure never leaves a config pointing at a store that is not
 * there. Existing files are kept and checked, never overwritten.
 */
export async function initProject(o: InitOptions): Promise<InitResult> {
  const configFile = resolve(o.cwd, o.configFlag ?? (o.env.SECRETS_CONFIG || CONFIG_FILE_NAME))
  const configExists = existsSync(configFile)
  let storeFile: string
  if (configExists) {
    const project = loadConfig({cwd: o.cwd, env: o.env, flag: configFile})
    storeFile = localStoreFile(project, pickLocalProvider(project))
  } else {
    let storePath = o.storePath ?? DEFAULT_STORE_PATH
    if (!o.yes && o.storePath === undefined && o.ui.interactive)
      storePath = await o.ui.input('Where should the encrypted store live?', storePath)
    storeFile = resolve(join(configFile, '..'), storePath)
  }

  // The passphrase is asked for (and checked) before anything is written: a refusal or Ctrl-C there
  // leaves no identity, store or config behind.
  const storeExists = existsSync(storeFile)
  const passphrase = storeExists ? undefined : await askPassphrase(o, dirname(configFile))
  if (storeExists && o.passphrase === true)
    o.ui.warn(
      `The store ${relative(o.cwd, storeFile) || storeFile} exists already, so --passphrase was not used: add a passphrase to it with \`secrets key add --passphrase\`.`,
    )

  let identity: AgeIdentity
  let identityCreated = false
  const existing = o.env.SECRETS_IDENTITY && !existsSync(o.env.SECRETS_IDENTITY) ? [] : await loadIdentities(o.env)
  if (existing.length > 0) {
    identity = existing[0]
  } else {
    const file = o.env.SECRETS_IDENTITY || defaultIdentityFile(o.env)
    identity = await createIdentityFile(file)
    identityCreated = true
  }

  let recipients: number
  if (storeExists) {
    const store = await openStore(storeFile, new Keyring(o.env, o.ui))
    recipients = store.recipients().length
  } else {
    const specs: Parameters<typeof createStore>[1] = [{type: 'age', recipient: identity.recipient}]
    if (passphrase !== undefined) specs.push({type: 'scrypt', passphrase, label: 'passphrase'})
    await o.ui.progress('Creating the encrypted store', () => createStore(storeFile, specs))
    recipients = specs.length
  }

  if (!configExists) {
    const rel = relative(join(configFile, '..'), storeFile) || DEFAULT_STORE_PATH
    writeFileAtomic(configFile, configTemplate(rel, schemaLocation(dirname(configFile))), 0o644)
  }
  return {
    config: {path: configFile, created: !configExists},
    identity: {source: identity.source, recipient: identity.recipient, created: identityCreated},
    store: {path: storeFile, created: !storeExists, recipients},
  }
}

/** The passphrase for a new store when one is wanted (--passphrase, or yes to the question), else undefined. */
async function askPassphrase(o: InitOptions, projectDir: string): Promise<string | undefined> {
  let want = o.passphrase ?? false
  if (!o.yes && o.passphrase === undefined && o.ui.interactive) {
    want = await o.ui.confirm('Also let a passphrase open the store (for people without the identity file)?', false)
  }
  if (!want) return undefined
  return newPassphrase({env: o.env, ui: o.ui, unchanged: 'Nothing was created.', userInputs: [basename(projectDir)]})
}
