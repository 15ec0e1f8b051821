/**
 * Azure Key Vault's trail: its AuditEvent diagnostic logs in a Log Analytics workspace, queried with
 * @azure/monitor-query (LogsQueryClient.queryWorkspace). Loaded only by `secrets audit trail`.
 */
import {LogsQueryClient, LogsQueryResultStatus, type LogsTable} from '@azure/monitor-query'

import {SecretsError} from '../../errors.js'
import type {TrailEvent, TrailOptions} from '../types.js'
import {logsError} from './errors.js'
import type {TokenCredential} from '@azure/identity'

import type {Reference} from '../../core/reference.js'

/** What the trail needs of the Azure provider (which implements it): sign-in, retries and where a reference lives. */
export interface AzureTrailSource {
  readonly alias: string
  readonly login: string
  readonly maxRetries: number
  tokenCredential(): TokenCredential
  secretTarget(ref: Reference): {url: string; name: string}
}

/** Which table the vault's diagnostic setting writes to, and its column names. */
const TABLES = {
  AzureDiagnostics: {
    query: [
      'AzureDiagnostics',
      'where ResourceProvider == "MICROSOFT.KEYVAULT" and Category == "AuditEvent"',
      'where OperationName startswith "Secret"',
      'project TimeGenerated, OperationName, ResultSignature, httpStatusCode_d, id_s, requestUri_s, identity_claim_appid_g, identity_claim_oid_g, identity_claim_http_schemas_xmlsoap_org_ws_2005_05_identity_claims_upn_s, CallerIPAddress, CorrelationId',
      'order by TimeGenerated asc',
    ].join('\n| '),
    status: 'httpStatusCode_d',
    id: 'id_s',
    uri: 'requestUri_s',
    ip: 'CallerIPAddress',
  },
  AZKVAuditLogs: {
    query: [
      'AZKVAuditLogs',
      'where OperationName startswith "Secret"',
      'project TimeGenerated, OperationName, ResultSignature, HttpStatusCode, Id, RequestUri, Identity, CallerIpAddress, CorrelationId',
      'order by TimeGenerated asc',
    ].join('\n| '),
    status: 'HttpStatusCode',
    id: 'Id',
    uri: 'RequestUri',
    ip: 'CallerIpAddress',
  },
} as const
export type TrailTable = keyof typeof TABLES

const UPN = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn'
/** With no --since, the query covers this far back (Log Analytics keeps 30 to 730 days). */
const DEFAULT_SPAN = 'P90D'

/** `https://acme.vault.azure.net/secrets/db-password/abc123?api-version=...` -> host, name, version. */
function parseSecretUrl(text: unknown): {host: string; name: string; version?: string} | undefined {
  if (typeof text !== 'string' || text === '') return undefined
  try {
    const u = new URL(text)
    const m = /^\/(?:deleted)?secrets\/([0-9A-Za-z-]+)(?:\/([0-9A-Za-z]+))?\/?$/.exec(u.pathname)
    return m
      ? {
          host: u.host.toLowerCase(),
          name: m[1].toLowerCase(),
          ...(m[2] === undefined || m[2] === 'versions' ? {} : {version: m[2]}),
        }
      : undefined
  } catch {
    return undefined
  }
}

function outcome(status: number): TrailEvent['outcome'] {
  if (status >= 200 && status < 400) return 'ok'
  if (status === 401 || status === 403) return 'denied'
  if (status === 404) return 'not_found'
  return 'error'
}

function rowsOf(table: LogsTable): Array<Record<string, unknown>> {
  const names = table.columnDescriptors.map((c) => c.name ?? '')
  return table.rows.map((r) => Object.fromEntries(names.map((n, i) => [n, r[i]])))
}

/** A secret a reference names: its vault host and Key Vault name (lowercase) and the reference without #field. */
interface Wanted {
  host: string
  name: string
  secret: string
}

/** The trail events in the query's rows about the wanted secrets. */
function toEvents(tables: LogsTable[], table: (typeof TABLES)[TrailTable], wanted: Wanted[]): TrailEvent[] {
  const out: TrailEvent[] = []
  for (const t of tables) {
    for (const row of rowsOf(t)) {
      const target = parseSecretUrl(row[table.id]) ?? parseSecretUrl(row[table.uri])
      if (target === undefined) continue
      const hits = wanted.filter((w) => w.host === target.host && w.name === target.name)
      const status = Number(row[table.status])
      // The first request of every client is unauthenticated by design (the bearer challenge): not an access.
      const identity = (row.Identity as {claim?: Record<string, string>} | undefined)?.claim ?? {}
      const appId = (row.identity_claim_appid_g as string | undefined) || identity.appid
      const oid = (row.identity_claim_oid_g as string | undefined) || identity.oid
      const upn =
        (row.identity_claim_http_schemas_xmlsoap_org_ws_2005_05_identity_claims_upn_s as string | undefined) ||
        identity[UPN]
      if (status === 401 && !appId && !oid && !upn) continue
      const time = row.TimeGenerated instanceof Date ? row.TimeGenerated : new Date(String(row.TimeGenerated))
      const seen = new Set<string>()
      for (const w of hits) {
        if (seen.has(w.secret)) continue
        seen.add(w.secret)
        out.push({
          time: time.toISOString(),
          actor: upn || (appId ? `app ${appId}` : oid ? `object ${oid}` : 'unknown'),
          action: String(row.OperationName ?? 'unknown'),
          secret: w.secret,
          outcome: outcome(status),
          ...(target.version === undefined ? {} : {version: target.version}),
          ...(status >= 400 ? {code: String(row.ResultSignature ?? status)} : {}),
          ...(typeof row.CorrelationId === 'string' && row.CorrelationId !== '' ? {id: row.CorrelationId} : {}),
          details: {
            status,
            ...(typeof row[table.ip] === 'string' ? {callerIp: row[table.ip]} : {}),
            ...(appId ? {appId} : {}),
            ...(oid ? {objectId: oid} : {}),
          },
        })
      }
    }
  }
  return out
}

/** The vault's AuditEvent logs about the configured secrets, from the Log Analytics workspace. */
export async function keyVaultLogs(
  provider: AzureTrailSource,
  settings: {workspaceId?: string; endpoint?: string; table?: string},
  options: TrailOptions,
): Promise<TrailEvent[]> {
  const workspaceId = settings.workspaceId
  if (workspaceId === undefined || workspaceId === '') {
    throw new SecretsError(
      'CONFIG_INVALID',
      `Provider ${provider.alias} (azure) needs \`logAnalyticsWorkspaceId\` for its trail: the Log Analytics workspace the vault's diagnostic setting sends AuditEvent logs to.`,
      {
        suggestions: [
          `Add \`logAnalyticsWorkspaceId: <workspace id>\` under providers.${provider.alias} (the "Workspace ID" GUID on the workspace's overview page).`,
        ],
      },
    )
  }
  const tableName = (settings.table ?? 'AzureDiagnostics') as TrailTable
  const table = TABLES[tableName]
  const endpoint = settings.endpoint ?? 'https://api.loganalytics.io'
  const ctx = {workspace: workspaceId, endpoint, table: tableName, alias: provider.alias, login: provider.login}
  // Which secrets the references name, in which vault (names compare case-insensitively, as in Key Vault).
  const wanted = options.refs.map((ref): Wanted => {
    const t = provider.secretTarget(ref)
    return {host: new URL(t.url).host.toLowerCase(), name: t.name.toLowerCase(), secret: `${ref.alias}://${ref.path}`}
  })
  const client = new LogsQueryClient(provider.tokenCredential(), {
    ...(settings.endpoint === undefined ? {} : {endpoint: settings.endpoint}),
    retryOptions: {maxRetries: provider.maxRetries, retryDelayInMs: 200, maxRetryDelayInMs: 4000},
    userAgentOptions: {userAgentPrefix: 'secrets-cli'},
  })
  const until = options.until ?? new Date()
  const timespan =
    options.since === undefined ? {duration: DEFAULT_SPAN, endTime: until} : {startTime: options.since, endTime: until}
  let result
  try {
    result = await client.queryWorkspace(workspaceId, table.query, timespan, {serverTimeoutInSeconds: 120})
  } catch (error) {
    throw logsError(error, ctx)
  }
  if (result.status !== LogsQueryResultStatus.Success) {
    throw new SecretsError(
      'UNAVAILABLE',
      `Log Analytics workspace ${workspaceId} answered the query only in part (${result.partialError?.code ?? 'PartialError'}: ${String(
        result.partialError?.message ?? '',
      )
        .split('\n')[0]
        .slice(0, 200)}).`,
      {
        suggestions: ['Narrow the time range with --since / --until and try again.'],
      },
    )
  }
  return toEvents(result.tables, table, wanted)
}
