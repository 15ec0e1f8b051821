import {readFileSync} from 'node:fs'

import type NodeVault from 'node-vault'

import {SecretsError, fsError} from '../../errors.js'
import {scrubText, statusOf, toSecretsError, vaultErrors} from './errors.js'
import {KUBERNETES_TOKEN_FILE, vaultTokenFile, type VaultSettings} from './settings.js'

/** A token the provider uses, and whether it obtained it by logging in (then it revokes it on close). */
export interface VaultLogin {
  token: string
  obtained: boolean
  /** Lease duration in seconds of an obtained token (0 when not renewable or unknown). */
  ttl: number
  /** Credential strings that must never appear in a message. */
  scrub: string[]
}

function readCredentialFile(file: string, what: string, alias: string): string {
  let text: string
  try {
    text = readFileSync(file, 'utf8').trim()
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') {
      throw new SecretsError('IDENTITY_MISSING', `No ${what} for Vault provider ${alias}: ${file} does not exist.`, {
        suggestions: [`Create ${file}, or fix the path in secrets.yaml.`],
      })
    }
    throw fsError(error, file, `reading the ${what} from`)
  }
  if (text === '')
    throw new SecretsError('IDENTITY_MISSING', `The ${what} file ${file} for Vault provider ${alias} is empty.`)
  return text
}

/** Run a request with the provider's retries; rethrows the last raw (untranslated) error. */
type Call = <T>(fn: () => Promise<T>) => Promise<T>

type LoginResponse = {auth?: {client_token?: string; lease_duration?: number; renewable?: boolean}}

/** A login request of one auth method: the body it sends (credentials in it) and the call that sends it. */
interface LoginRequest {
  body: Record<string, string>
  login: () => Promise<LoginResponse>
}

/** Token auth: VAULT_TOKEN, then auth.tokenFile, then ~/.vault-token; nothing to log in to. */
function tokenAuth(s: VaultSettings, env: NodeJS.ProcessEnv, alias: string): VaultLogin {
  if (env.VAULT_TOKEN) return {token: env.VAULT_TOKEN, obtained: false, ttl: 0, scrub: [env.VAULT_TOKEN]}
  const file = s.auth.tokenFile ?? vaultTokenFile(env)
  try {
    const token = readCredentialFile(file, 'Vault token', alias)
    return {token, obtained: false, ttl: 0, scrub: [token]}
  } catch (error) {
    if (error instanceof SecretsError && error.code === 'IDENTITY_MISSING') {
      throw new SecretsError(
        'IDENTITY_MISSING',
        `No Vault token for provider ${alias}: VAULT_TOKEN is not set and ${file} does not exist.`,
        {
          suggestions: [
            'Set VAULT_TOKEN, or run `vault login` (it writes ~/.vault-token), or choose another auth method under `auth:` in secrets.yaml.',
          ],
        },
      )
    }
    throw error
  }
}

function approleRequest(
  client: NodeVault.client,
  s: VaultSettings,
  env: NodeJS.ProcessEnv,
  alias: string,
): LoginRequest {
  const roleId =
    env.VAULT_ROLE_ID ||
    (s.auth.roleIdFile ? readCredentialFile(s.auth.roleIdFile, 'AppRole role ID', alias) : undefined)
  const secretId =
    env.VAULT_SECRET_ID ||
    (s.auth.secretIdFile ? readCredentialFile(s.auth.secretIdFile, 'AppRole secret ID', alias) : undefined)
  if (!roleId) {
    throw new SecretsError('IDENTITY_MISSING', `No AppRole role ID for Vault provider ${alias}.`, {
      suggestions: [
        'Set VAULT_ROLE_ID and VAULT_SECRET_ID, or name files with `auth.roleIdFile` and `auth.secretIdFile` in secrets.yaml.',
      ],
    })
  }
  const body = {role_id: roleId, ...(secretId ? {secret_id: secretId} : {})}
  return {body, login: () => client.approleLogin({mount_point: s.auth.mount, ...body})}
}

function jwtRequest(client: NodeVault.client, s: VaultSettings, env: NodeJS.ProcessEnv, alias: string): LoginRequest {
  const jwt = env.VAULT_JWT || (s.auth.tokenFile ? readCredentialFile(s.auth.tokenFile, 'JWT', alias) : undefined)
  if (!jwt) {
    throw new SecretsError('IDENTITY_MISSING', `No JWT for Vault provider ${alias}.`, {
      suggestions: ['Set VAULT_JWT to the CI identity token, or name its file with `auth.tokenFile` in secrets.yaml.'],
    })
  }
  const body = {role: s.auth.role!, jwt}
  return {body, login: () => client.jwtLogin({mount_point: s.auth.mount, ...body})}
}

function kubernetesRequest(client: NodeVault.client, s: VaultSettings, alias: string): LoginRequest {
  const jwt = readCredentialFile(s.auth.tokenFile ?? KUBERNETES_TOKEN_FILE, 'Kubernetes service-account token', alias)
  const body = {role: s.auth.role!, jwt}
  return {body, login: () => client.kubernetesLogin({mount_point: s.auth.mount, ...body})}
}

/** A refused login (400 or 403), with a hint for the method that was refused. */
function refusedLogin(error: unknown, s: VaultSettings, path: string, scrub: string[]): SecretsError {
  const {method, mount, role} = s.auth
  const status = statusOf(error)
  const said = scrubText(vaultErrors(error).join('; '), scrub)
  return new SecretsError(
    'PERMISSION_DENIED',
    `Vault ${method} login at ${path}${role ? ` (role ${role})` : ''} was refused: ${said || 'permission denied'}.`,
    {
      cause: {status},
      suggestions: [
        method === 'approle'
          ? 'Check VAULT_ROLE_ID and VAULT_SECRET_ID (a secret ID may have expired or been used up).'
          : method === 'jwt'
            ? `Check that the token's issuer, audience, subject and claims match role ${role} and that it has not expired.`
            : `Check that the service account and its namespace are bound to role ${role}.`,
        `If this auth method is enabled at another path than auth/${mount}, set \`auth.mount\` in secrets.yaml.`,
      ],
    },
  )
}

/**
 * Get a Vault token as the settings say: token (VAULT_TOKEN, then auth.tokenFile, then ~/.vault-token),
 * AppRole, JWT or Kubernetes login. Credentials come from the environment or files, never secrets.yaml.
 */
export async function authenticate(
  client: NodeVault.client,
  s: VaultSettings,
  env: NodeJS.ProcessEnv,
  alias: string,
  call: Call,
): Promise<VaultLogin> {
  const {method, mount, role} = s.auth
  if (method === 'token') return tokenAuth(s, env, alias)
  const {body, login} =
    method === 'approle'
      ? approleRequest(client, s, env, alias)
      : method === 'jwt'
        ? jwtRequest(client, s, env, alias)
        : kubernetesRequest(client, s, alias)
  const scrub = Object.values(body).filter((v) => v !== role)
  const path = `auth/${mount}/login`
  let response: LoginResponse
  try {
    response = await call(login)
  } catch (error) {
    const status = statusOf(error)
    if (status === 400 || status === 403) throw refusedLogin(error, s, path, scrub)
    throw toSecretsError(error, {op: 'log in to', path, address: s.address}, scrub)
  }
  const token = response?.auth?.client_token
  if (!token)
    throw new SecretsError('UNAVAILABLE', `Vault ${method} login at ${path} returned no token.`, {retryable: false})
  return {
    token,
    obtained: true,
    ttl: response.auth?.renewable ? (response.auth.lease_duration ?? 0) : 0,
    scrub: [...scrub, token],
  }
}
