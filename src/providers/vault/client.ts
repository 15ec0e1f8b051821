// The node-vault client as the settings say (address, namespace, TLS, timeout), and the retry loop around its requests.
import {createRequire} from 'node:module'

import NodeVault from 'node-vault'

import {isRetryable, statusOf} from './errors.js'
import type {VaultSettings} from './settings.js'
import {probeTls} from './tls-probe.js'

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * `DEBUG=*` must not print tokens or values: follow-redirects (under axios) logs every request's headers
 * and node-vault logs request bodies through the `debug` package. Exclude their namespaces in each copy
 * of `debug` they load, keeping whatever else the user asked for.
 */
function silenceHttpDebugLogs(): void {
  try {
    const require = createRequire(import.meta.url)
    const vaultEntry = require.resolve('node-vault')
    const redirects = createRequire(createRequire(vaultEntry).resolve('axios')).resolve('follow-redirects')
    for (const from of [vaultEntry, redirects]) {
      const debug = createRequire(from)('debug') as {load(): string | undefined; enable(namespaces: string): void}
      const current = debug.load()
      if (current && !current.includes('-follow-redirects')) debug.enable(`${current},-follow-redirects,-node-vault`)
    }
  } catch {
    // No debug package to configure: nothing can log.
  }
}

/** A node-vault client with no token yet; `warn` hears about a disabled TLS verification. */
export function createClient(settings: VaultSettings, warn: (message: string) => void): NodeVault.client {
  const {tls} = settings
  if (tls.skipVerify && settings.address.startsWith('https:')) {
    warn(
      `VAULT_SKIP_VERIFY is set: the TLS certificate of Vault at ${settings.address} is NOT verified, so anyone on the network path can read your secrets and token. Unset it and set VAULT_CACERT instead.`,
    )
  }
  silenceHttpDebugLogs()
  const agentOptions: Record<string, unknown> = {}
  if (tls.serverName) agentOptions.servername = tls.serverName
  const client = NodeVault({
    // node-vault's own debug log (DEBUG=node-vault) prints request bodies: secret values and login credentials.
    debug: () => undefined,
    endpoint: settings.address,
    namespace: settings.namespace,
    requestOptions: {
      timeout: settings.timeoutMs,
      strictSSL: !tls.skipVerify,
      ...(tls.ca ? {ca: tls.ca} : {}),
      ...(tls.cert ? {cert: tls.cert, key: tls.key} : {}),
      ...(Object.keys(agentOptions).length > 0 ? {agentOptions} : {}),
    } as never,
  })
  // node-vault falls back to process.env.VAULT_TOKEN; the token is set only after authenticate().
  client.token = undefined as unknown as string
  return client
}

/** Run one request, retrying 429, 5xx and dropped connections with exponential backoff and jitter. */
export async function withRetries<T>(settings: VaultSettings, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn()
    } catch (error) {
      if (attempt >= settings.retries || !isRetryable(error)) {
        if (
          statusOf(error) === undefined &&
          (error as {code?: string}).code === 'ECONNRESET' &&
          settings.address.startsWith('https:')
        ) {
          throw (await probeTls(settings)) ?? error
        }
        throw error
      }
      const base = Math.min(2000, 100 * 2 ** attempt)

      await sleep(base / 2 + (Math.random() * base) / 2)
    }
  }
}
