/**
 * The Log Analytics query API subset of the Azure test server (`POST /v1/workspaces/{id}/query`, the
 * API `@azure/monitor-query`'s LogsQueryClient.queryWorkspace calls), holding a workspace where the test
 * vault's diagnostic setting sends its AuditEvent logs: every Key Vault request the server answers is a
 * row, in both the `AzureDiagnostics` (Azure diagnostics mode) and the `AZKVAuditLogs` (resource-specific)
 * table, as Key Vault writes them. Tests can plant rows too.
 *
 * Queries are Kusto; this subset evaluates the tabular operators secrets sends: a table name, then
 * `where` (`==`, `!=`, `startswith`, `has`, `in (...)`, joined with `and`), `project`, `order by ... asc|desc`
 * and `take`/`limit`. The request's `timespan` (an ISO 8601 interval `start/end`, `start/duration` or a
 * duration) filters on TimeGenerated, as the service does. Answers are `{tables: [{name, columns, rows}]}`;
 * errors are `{error: {code, message, innererror}}` with the service's codes.
 */
import {randomUUID} from 'node:crypto'

export const LOGS_RESOURCE = 'https://api.loganalytics.io'

type ColumnType = 'string' | 'datetime' | 'real' | 'int' | 'long' | 'guid' | 'dynamic'

/** One Key Vault AuditEvent, before it is laid out as a row of either table. */
export interface AuditEventRow {
  time: Date
  /** `SecretGet`, `SecretSet`, `SecretList`, `SecretDelete` ... */
  operation: string
  status: number
  /** The vault's URL, e.g. https://acme.vault.azure.net */
  vaultUrl: string
  /** The secret's name and version, when the request named one. */
  secret?: string
  version?: string
  requestUri: string
  appId?: string
  oid?: string
  upn?: string
  callerIp?: string
  correlationId?: string
  durationMs?: number
}

const SIGNATURE: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  204: 'NoContent',
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  429: 'TooManyRequests',
  500: 'InternalServerError',
}

const DIAGNOSTICS: Array<[string, ColumnType]> = [
  ['TenantId', 'string'],
  ['TimeGenerated', 'datetime'],
  ['ResourceId', 'string'],
  ['Category', 'string'],
  ['ResourceGroup', 'string'],
  ['SubscriptionId', 'string'],
  ['ResourceProvider', 'string'],
  ['Resource', 'string'],
  ['ResourceType', 'string'],
  ['OperationName', 'string'],
  ['ResultType', 'string'],
  ['ResultSignature', 'string'],
  ['CorrelationId', 'string'],
  ['CallerIPAddress', 'string'],
  ['DurationMs', 'long'],
  ['httpStatusCode_d', 'real'],
  ['requestUri_s', 'string'],
  ['id_s', 'string'],
  ['clientInfo_s', 'string'],
  ['identity_claim_appid_g', 'guid'],
  ['identity_claim_oid_g', 'guid'],
  ['identity_claim_http_schemas_xmlsoap_org_ws_2005_05_identity_claims_upn_s', 'string'],
  ['OperationVersion', 'string'],
  ['Type', 'string'],
]
const RESOURCE_SPECIFIC: Array<[string, ColumnType]> = [
  ['TenantId', 'string'],
  ['TimeGenerated', 'datetime'],
  ['OperationName', 'string'],
  ['OperationVersion', 'string'],
  ['ResultType', 'string'],
  ['ResultSignature', 'string'],
  ['ResultDescription', 'string'],
  ['DurationMs', 'int'],
  ['CallerIpAddress', 'string'],
  ['CorrelationId', 'string'],
  ['HttpStatusCode', 'int'],
  ['RequestUri', 'string'],
  ['Id', 'string'],
  ['Identity', 'dynamic'],
  ['ClientInfo', 'string'],
  ['_ResourceId', 'string'],
  ['Type', 'string'],
]

/** A query error in the service's shape. */
export class QueryError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly inner?: {code: string; message: string},
  ) {
    super(message)
  }

  body(): unknown {
    return {
      error: {
        message: this.message,
        code: this.code,
        correlationId: randomUUID(),
        ...(this.inner ? {innererror: this.inner} : {}),
      },
    }
  }
}

/** `P1D`, `PT2H`, `P7DT12H` -> milliseconds. */
function durationMs(d: string): number | undefined {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(d)
  if (!m || d === 'P' || d === 'PT') return undefined
  return ((Number(m[1] ?? 0) * 24 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 60_000 + Number(m[4] ?? 0) * 1000
}

/** The [start, end] a timespan parameter names (end defaults to now). */
export function parseTimespan(timespan: string, now = Date.now()): [number, number] {
  const bad = () =>
    new QueryError(400, 'BadArgumentError', 'The request had some invalid properties', {
      code: 'InvalidTimespan',
      message: `Invalid timespan: ${timespan}`,
    })
  const [a, b] = timespan.split('/')
  if (b === undefined) {
    const ms = durationMs(a)
    if (ms === undefined) throw bad()
    return [now - ms, now]
  }
  const start = Date.parse(a)
  const end = Date.parse(b)
  if (!Number.isNaN(start) && !Number.isNaN(end)) return [start, end]
  if (!Number.isNaN(start) && durationMs(b) !== undefined) return [start, start + durationMs(b)!]
  if (durationMs(a) !== undefined && !Number.isNaN(end)) return [end - durationMs(a)!, end]
  throw bad()
}

function parseErr(message: string): QueryError {
  return new QueryError(400, 'BadArgumentError', 'The request had some invalid properties', {
    code: 'SyntaxError',
    message: `A recognition error occurred in the query. ${message}`,
  })
}

/** A KQL literal list: `"a", 'b', 403` (numbers compare by their text). */
function literals(text: string): string[] {
  const out: string[] = []
  const re = /\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|(-?\d+(?:\.\d+)?))\s*(,|$)/gy
  let m: RegExpExecArray | null
  while (re.lastIndex < text.length && (m = re.exec(text)) !== null)
    out.push(m[3] ?? (m[1] ?? m[2]).replaceAll(/\\(.)/g, '$1'))
  if (re.lastIndex < text.length && out.length === 0) throw parseErr(`Expected string literals, got: ${text}`)
  return out
}

type Row = unknown[]

export class LogAnalyticsWorkspace {
  readonly id = randomUUID()
  private readonly events: AuditEventRow[] = []

  constructor(private readonly tenantId: string) {}

  record(e: AuditEventRow): void {
    this.events.push(e)
  }

  all(): AuditEventRow[] {
    return [...this.events]
  }

  clear(): void {
    this.events.length = 0
  }

  private resourceId(vaultUrl: string): string {
    const name = new URL(vaultUrl).hostname.split('.')[0].replaceAll(/[^A-Za-z0-9-]/g, '') || 'test'
    return `/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/SECRETS-TEST/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/${name.toUpperCase()}`
  }

  private rows(table: string): {columns: Array<[string, ColumnType]>; rows: Row[]} {
    const id = (e: AuditEventRow) =>
      e.secret === undefined
        ? `${e.vaultUrl}/secrets`
        : `${e.vaultUrl}/secrets/${e.secret}${e.version === undefined ? '' : `/${e.version}`}`
    const ok = (e: AuditEventRow) => (e.status < 400 ? 'Success' : 'Failure')
    if (table === 'AzureDiagnostics') {
      return {
        columns: DIAGNOSTICS,
        rows: this.events.map((e) => [
          this.tenantId,
          e.time.toISOString(),
          this.resourceId(e.vaultUrl),
          'AuditEvent',
          'SECRETS-TEST',
          '00000000-0000-0000-0000-000000000000',
          'MICROSOFT.KEYVAULT',
          this.resourceId(e.vaultUrl).split('/').pop(),
          'VAULTS',
          e.operation,
          ok(e),
          SIGNATURE[e.status] ?? String(e.status),
          e.correlationId ?? randomUUID(),
          e.callerIp ?? '127.0.0.1',
          e.durationMs ?? 5,
          e.status,
          e.requestUri,
          id(e),
          '',
          e.appId ?? '',
          e.oid ?? '',
          e.upn ?? '',
          '2025-07-01',
          'AzureDiagnostics',
        ]),
      }
    }
    if (table === 'AZKVAuditLogs') {
      return {
        columns: RESOURCE_SPECIFIC,
        rows: this.events.map((e) => [
          this.tenantId,
          e.time.toISOString(),
          e.operation,
          '2025-07-01',
          ok(e),
          SIGNATURE[e.status] ?? String(e.status),
          '',
          e.durationMs ?? 5,
          e.callerIp ?? '127.0.0.1',
          e.correlationId ?? randomUUID(),
          e.status,
          e.requestUri,
          id(e),
          JSON.stringify({
            claim: {
              ...(e.appId ? {appid: e.appId} : {}),
              ...(e.oid ? {oid: e.oid} : {}),
              ...(e.upn ? {'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn': e.upn} : {}),
            },
          }),
          '',
          this.resourceId(e.vaultUrl),
          'AZKVAuditLogs',
        ]),
      }
    }
    throw new QueryError(400, 'BadArgumentError', 'The request had some invalid properties', {
      code: 'SemanticError',
      message: `'${table}' operator: Failed to resolve table or column expression named '${table}'`,
    })
  }

  /** Run a query body (`{query, timespan?}`) and answer as the service does. */
  query(body: {query?: unknown; timespan?: unknown}): unknown {
    if (typeof body.query !== 'string' || body.query.trim() === '') {
      throw new QueryError(400, 'BadArgumentError', 'The request had some invalid properties', {
        code: 'QueryMissing',
        message: 'The query parameter is required',
      })
    }
    const [head, ...ops] = body.query.split('|').map((s) => s.trim())
    if (!/^[A-Za-z_]\w*$/.test(head)) throw parseErr(`Unexpected: ${head}`)
    let {columns, rows} = this.rows(head)
    const col = (name: string): number => {
      const i = columns.findIndex(([c]) => c === name)
      if (i === -1)
        throw new QueryError(400, 'BadArgumentError', 'The request had some invalid properties', {
          code: 'SemanticError',
          message: `'where' operator: Failed to resolve column or scalar expression named '${name}'`,
        })
      return i
    }
    if (typeof body.timespan === 'string' && body.timespan !== '') {
      const [start, end] = parseTimespan(body.timespan)
      const t = col('TimeGenerated')
      rows = rows.filter((r) => {
        const v = Date.parse(r[t] as string)
        return v >= start && v <= end
      })
    }
    for (const op of ops) {
      const [, verb, rest] = /^(where|project|order by|sort by|take|limit)\s+(.*)$/s.exec(op) ?? []
      if (verb === undefined) throw parseErr(`Unsupported operator: ${op.split(/\s/)[0]}`)
      if (verb === 'where') {
        for (const cond of rest.split(/\s+and\s+/)) {
          const m = /^(\w+)\s*(==|!=|startswith|has|in)\s*(.+)$/s.exec(cond.trim())
          if (!m) throw parseErr(`Unsupported condition: ${cond}`)
          const i = col(m[1])
          const values = m[2] === 'in' ? literals(m[3].replace(/^\(/, '').replace(/\)$/, '')) : literals(m[3])
          const v = values[0]
          rows = rows.filter((r) => {
            const x = String(r[i] ?? '')
            switch (m[2]) {
              case '==':
                return x === v
              case '!=':
                return x !== v
              case 'startswith':
                return x.toLowerCase().startsWith(v.toLowerCase())
              case 'has':
                return x.toLowerCase().includes(v.toLowerCase())
              default:
                return values.includes(x)
            }
          })
        }
      } else if (verb === 'project') {
        const idx = rest.split(',').map((c) => col(c.trim()))
        columns = idx.map((i) => columns[i])
        rows = rows.map((r) => idx.map((i) => r[i]))
      } else if (verb === 'order by' || verb === 'sort by') {
        const [name, dir] = rest.trim().split(/\s+/)
        const i = col(name)
        const sign = dir === 'asc' ? 1 : -1
        rows = [...rows].sort((a, b) => (String(a[i]) < String(b[i]) ? -sign : String(a[i]) > String(b[i]) ? sign : 0))
      } else {
        const n = Number(rest.trim())
        if (!Number.isInteger(n) || n < 0) throw parseErr(`take expects a number: ${rest}`)
        rows = rows.slice(0, n)
      }
    }
    return {tables: [{name: 'PrimaryResult', columns: columns.map(([name, type]) => ({name, type})), rows}]}
  }
}
