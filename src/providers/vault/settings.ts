import {readdirSync, readFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {isAbsolute, join, resolve} from 'node:path'

import {SecretsError, fsError} from '../../errors.js'
import type {SettingsOf} from '../spec.js'
import type {vaultSpec} from './spec.js'

/** A Vault provider's settings as secrets.yaml gives them (see spec.ts). */
export type VaultYamlSettings = SettingsOf<typeof vaultSpec.settings>

/** The auth methods a `vault` provider can log in with. */
export type AuthMethod = 'token' | 'approle' | 'jwt' | 'kubernetes'

/** Where the Kubernetes service-account token lives in a pod. */
export const KUBERNETES_TOKEN_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/token'

/** Everything the Vault provider needs to connect, from secrets.yaml and the standard VAULT_* variables. */
export interface VaultSettings {
  address: string
  namespace?: string
  /** Per-request timeout in milliseconds. */
  timeoutMs: number
  /** Retries after the first attempt for 429, 5xx and connection failures. */
  retries: number
  /** Pinned KV versions by mount path without slashes (`secret` -> 2). */
  kv: Map<string, 1 | 2>
  auth: {
    method: AuthMethod
    mount: string
    role?: string
    tokenFile?: string
    roleIdFile?: string
    secretIdFile?: string
  }
  tls: {
    ca?: string[]
    cert?: string
    key?: string
    serverName?: string
    skipVerify: boolean
  }
}

const DEFAULT_MOUNTS: Record<AuthMethod, string> = {
  token: 'token',
  approle: 'approle',
  jwt: 'jwt',
  kubernetes: 'kubernetes',
}

function truthy(v: string | undefined): boolean {
  return v !== undefined && v !== '' && !['0', 'false', 'f', 'no'].includes(v.toLowerCase())
}

function readPem(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    const e = fsError(error, file, `reading ${what}`)
    if (e instanceof SecretsError)
      throw new SecretsError(e.code === 'NOT_FOUND' ? 'CONFIG_INVALID' : e.code, e.message, {
        cause: error,
        suggestions: [`Check the path given for ${what}.`],
      })
    throw e
  }
}

/** Whether `host` (from a URL) is a loopback address, where plain HTTP cannot be observed by others. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase()
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)
}

type Paths = (p: string | undefined) => string | undefined

function resolveAddress(alias: string, settings: VaultYamlSettings, env: NodeJS.ProcessEnv): string {
  const address = (env.VAULT_ADDR || settings.address || 'https://127.0.0.1:8200').replace(/\/+$/, '')
  let url: URL
  try {
    url = new URL(address)
  } catch {
    throw new SecretsError(
      'CONFIG_INVALID',
      `Vault address ${JSON.stringify(address)} of provider ${alias} is not a URL.`,
      {suggestions: ['Set VAULT_ADDR (or `address:`) to something like https://vault.example.com:8200.']},
    )
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new SecretsError('CONFIG_INVALID', `Vault address ${address} of provider ${alias} must start with https://.`)
  }
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    throw new SecretsError(
      'CONFIG_INVALID',
      `Refusing plain http:// for Vault at ${url.host} (provider ${alias}): tokens and secrets would cross the network unencrypted.`,
      {
        suggestions: [
          'Use https:// (set VAULT_CACERT if the server uses a private CA); plain http:// is only allowed for a loopback address such as 127.0.0.1.',
        ],
      },
    )
  }
  return address
}

function resolveLimits(
  alias: string,
  settings: VaultYamlSettings,
  env: NodeJS.ProcessEnv,
): {timeoutMs: number; retries: number} {
  const timeout = env.VAULT_CLIENT_TIMEOUT
    ? Number.parseFloat(env.VAULT_CLIENT_TIMEOUT)
    : typeof settings.timeout === 'number'
      ? settings.timeout
      : 10
  if (!Number.isFinite(timeout) || timeout <= 0)
    throw new SecretsError(
      'CONFIG_INVALID',
      `Vault timeout for provider ${alias} must be a positive number of seconds.`,
    )
  const retries = env.VAULT_MAX_RETRIES
    ? Number.parseInt(env.VAULT_MAX_RETRIES, 10)
    : typeof settings.retries === 'number'
      ? settings.retries
      : 3
  if (!Number.isInteger(retries) || retries < 0 || retries > 10)
    throw new SecretsError('CONFIG_INVALID', `Vault retries for provider ${alias} must be a whole number from 0 to 10.`)
  return {timeoutMs: Math.round(timeout * 1000), retries}
}

function resolveAuth(alias: string, settings: VaultYamlSettings, path: Paths): VaultSettings['auth'] {
  const rawAuth = settings.auth ?? {}
  const method: AuthMethod = rawAuth.method ?? 'token'
  if ((method === 'jwt' || method === 'kubernetes') && !rawAuth.role) {
    throw new SecretsError('CONFIG_INVALID', `Provider ${alias} uses ${method} auth but names no role.`, {
      suggestions: [`Add \`role:\` under \`providers.${alias}.auth\` in secrets.yaml.`],
    })
  }
  return {
    method,
    mount: (rawAuth.mount ?? DEFAULT_MOUNTS[method]).replace(/^\/+|\/+$/g, '').replace(/^auth\//, ''),
    role: rawAuth.role,
    tokenFile: path(rawAuth.tokenFile),
    roleIdFile: path(rawAuth.roleIdFile),
    secretIdFile: path(rawAuth.secretIdFile),
  }
}

function readCaDir(caDir: string): string[] {
  let names: string[]
  try {
    names = readdirSync(caDir)
      .filter((n) => /\.(pem|crt|cer)$/i.test(n))
      .sort()
  } catch (error) {
    throw fsError(error, caDir, 'listing CA certificates (VAULT_CAPATH) in')
  }
  if (names.length === 0)
    throw new SecretsError('CONFIG_INVALID', `VAULT_CAPATH ${caDir} holds no .pem, .crt or .cer files.`)
  // Only certificates: a key file that happens to sit in the directory is not a CA.
  return names
    .map((n) => readPem(join(caDir, n), 'a CA certificate (VAULT_CAPATH)'))
    .filter((pem) => pem.includes('-----BEGIN CERTIFICATE-----'))
}

function resolveTls(
  alias: string,
  settings: VaultYamlSettings,
  env: NodeJS.ProcessEnv,
  path: Paths,
): VaultSettings['tls'] {
  const caFile = env.VAULT_CACERT || path(settings.caCert)
  const caDir = env.VAULT_CAPATH || path(settings.caPath)
  const ca = caFile ? [readPem(caFile, 'the CA certificate (VAULT_CACERT)')] : caDir ? readCaDir(caDir) : undefined
  const certFile = env.VAULT_CLIENT_CERT || path(settings.clientCert)
  const keyFile = env.VAULT_CLIENT_KEY || path(settings.clientKeyFile)
  if (Boolean(certFile) !== Boolean(keyFile)) {
    throw new SecretsError(
      'CONFIG_INVALID',
      `Mutual TLS for provider ${alias} needs both a client certificate and its key.`,
      {suggestions: ['Set both VAULT_CLIENT_CERT and VAULT_CLIENT_KEY (or clientCert and clientKeyFile).']},
    )
  }
  return {
    ca,
    cert: certFile ? readPem(certFile, 'the client certificate (VAULT_CLIENT_CERT)') : undefined,
    key: keyFile ? readPem(keyFile, 'the client key (VAULT_CLIENT_KEY)') : undefined,
    serverName: env.VAULT_TLS_SERVER_NAME || settings.tlsServerName,
    skipVerify: truthy(env.VAULT_SKIP_VERIFY),
  }
}

/**
 * Resolve the provider's settings. Precedence: the standard VAULT_* variables > secrets.yaml > defaults,
 * as in the `vault` CLI. Relative paths in secrets.yaml are relative to the project directory.
 */
export function resolveSettings(
  alias: string,
  settings: VaultYamlSettings,
  env: NodeJS.ProcessEnv,
  projectDir: string,
): VaultSettings {
  const path: Paths = (p) => (p === undefined ? undefined : isAbsolute(p) ? p : resolve(projectDir, p))
  const address = resolveAddress(alias, settings, env)
  const limits = resolveLimits(alias, settings, env)
  const kv = new Map<string, 1 | 2>()
  for (const [mount, version] of Object.entries(settings.kv ?? {})) kv.set(mount.replace(/^\/+|\/+$/g, ''), version)
  const auth = resolveAuth(alias, settings, path)
  const tls = resolveTls(alias, settings, env, path)
  return {address, namespace: env.VAULT_NAMESPACE || settings.namespace, ...limits, kv, auth, tls}
}

/** The token file the `vault` CLI writes after `vault login`. */
export function vaultTokenFile(env: NodeJS.ProcessEnv): string {
  return join(env.HOME || homedir(), '.vault-token')
}

/** Parse `?version=N` (KV v2 only; 0 or absent means the latest). */
export function parseVersionParam(raw: string | undefined, refText: string): number | undefined {
  if (raw === undefined) return undefined
  if (!/^[1-9]\d{0,8}$/.test(raw)) {
    throw new SecretsError(
      'REFERENCE_INVALID',
      `Invalid reference ${refText}: version must be a positive whole number.`,
      {ref: refText},
    )
  }
  return Number(raw)
}
