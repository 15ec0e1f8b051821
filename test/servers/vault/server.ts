/**
 * A protocol-faithful, in-process HashiCorp Vault for tests, following ../shared/specs/vault
 * (api-docs/*.mdx and openapi.json). It listens on 127.0.0.1 on an ephemeral port, over HTTP or HTTPS
 * (optionally requiring a client certificate), and implements what the `secrets` Vault provider uses:
 *
 * - KV v1 and v2 mounts: data (with `?version=`), metadata, config, soft delete / undelete / destroy,
 *   check-and-set with Vault's own 400 error texts, `LIST` (and `GET ?list=true`).
 * - The response envelope (`request_id`, `lease_id`, `data`, `auth`, ...) and `{"errors": [...]}` bodies.
 * - Token auth with ACL policies (path globs `*` and `+`, most specific rule wins, `deny`), so a 403
 *   is real; the `default` policy grants lookup-self, renew-self and revoke-self.
 * - AppRole login; JWT login verifying RS256 signatures against a JWKS (the role's bound issuer,
 *   audiences, subject and claims; `exp` and `nbf`); Kubernetes login. Kubernetes differs from a real
 *   Vault on purpose: instead of calling the TokenReview API of a cluster, the service-account token
 *   must be one registered with `kubernetesServiceAccount()`, which names its account and namespace.
 * - `auth/token/lookup-self`, `renew-self`, `revoke-self`; `sys/health`; `sys/internal/ui/mounts[/path]`.
 * - Transit `keys`, `encrypt` and `decrypt` (AES-256-GCM, `vault:v1:` ciphertexts).
 * - A PKI secrets engine (`issue/<role>` issues a real certificate per write, under a lease; see
 *   pki-engine.ts), an AWS engine's `sts/<role>` (aws-engine.ts) and `sys/capabilities-self` (the
 *   token's capabilities on each of `paths`).
 * - A database secrets engine (`creds/<role>` mints a credential per read, under a lease) and
 *   `sys/leases/renew`, `revoke` and `lookup` (see dynamic.ts).
 * - Audit devices: `sys/audit` (list), `sys/audit/<path>` (enable a `file` device, disable) and
 *   `sys/audit-hash/<path>`. An enabled file device appends a request and a response entry per request
 *   to its `file_path`, in Vault's JSON format: strings in request and response data, client tokens and
 *   accessors HMAC-SHA256'd with the device's own key (`hmac-sha256:<hex>`), unless `log_raw` is set.
 *   `plantAudit()` writes entries for requests that happened elsewhere (another client, an earlier day).
 * - Fault injection per test (latency, 429, 500, 503 sealed, connection reset, a barrier that holds
 *   requests until N arrived) and a request counter per method and path, so tests can assert batching.
 *
 * The `X-Vault-Namespace` header is recorded on every request (see `requests`) but does not partition data.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createPublicKey,
  randomBytes,
  randomUUID,
  verify,
  type JsonWebKey,
} from 'node:crypto'
import {appendFileSync} from 'node:fs'
import {createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import {createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket} from 'node:net'
import {Duplex} from 'node:stream'
import {createServer as createTlsServer} from 'node:tls'

import {Faults, type ServerFault} from '../faults.js'
import {DatabaseEngine, LeaseError, type DatabaseBackend, type DatabaseRole} from './dynamic.js'
import {PkiEngine, type PkiRole} from './pki-engine.js'
import {AwsEngine, type AwsStsRole} from './aws-engine.js'
import type {TestPki} from './pki.js'

export type Capability = 'create' | 'read' | 'update' | 'patch' | 'delete' | 'list' | 'sudo' | 'deny'
/** An ACL policy: path pattern -> capabilities, as in `path "secret/data/app" { capabilities = ["read"] }`. */
export type PolicyRules = Record<string, Capability[]>

interface TokenEntry {
  id: string
  accessor: string
  policies: string[]
  ttl: number
  renewable: boolean
  issued: number
  expiresAt: number
  displayName: string
  path: string
  meta: Record<string, string> | null
}

interface KvVersion {
  data: Record<string, unknown> | null
  created_time: string
  deletion_time: string
  destroyed: boolean
}

interface KvV2Secret {
  versions: Map<number, KvVersion>
  current: number
  oldest: number
  created_time: string
  updated_time: string
  custom_metadata: Record<string, string> | null
  cas_required: boolean
  max_versions: number
}

interface Mount {
  path: string
  type: 'kv' | 'transit' | 'database' | 'pki' | 'aws'
  database?: DatabaseEngine
  pki?: PkiEngine
  aws?: AwsEngine
  version?: 1 | 2
  accessor: string
  uuid: string
  casRequired: boolean
  maxVersions: number
  kv1: Map<string, Record<string, unknown>>
  kv2: Map<string, KvV2Secret>
  transit: Map<string, Buffer[]>
}

interface AppRole {
  roleId: string
  secretIds: Set<string>
  policies: string[]
  ttl: number
}

interface JwtRole {
  policies: string[]
  user_claim: string
  bound_audiences?: string[]
  bound_subject?: string
  bound_claims?: Record<string, string | string[]>
  ttl: number
}

interface KubernetesRole {
  bound_service_account_names: string[]
  bound_service_account_namespaces: string[]
  policies: string[]
  ttl: number
}

interface AuthMount {
  type: 'approle' | 'jwt' | 'kubernetes'
  approles: Map<string, AppRole>
  jwtRoles: Map<string, JwtRole>
  jwks: JsonWebKey[]
  boundIssuer?: string
  k8sRoles: Map<string, KubernetesRole>
  k8sTokens: Map<string, {name: string; namespace: string}>
}

/** An enabled audit device: a file device writing JSON lines, with the key its HMACs use. */
interface AuditDevice {
  path: string
  type: 'file'
  filePath: string
  logRaw: boolean
  hmacAccessor: boolean
  key: Buffer
  description: string
}

/** A request from elsewhere, for `plantAudit()`: what a file audit device would have logged for it. */
export interface PlantedAudit {
  time: Date
  /** `read`, `update`, `create`, `delete`, `list` or `patch`. */
  operation: string
  /** The API path without /v1/, e.g. `secret/data/app`. */
  path: string
  displayName: string
  policies?: string[]
  metadata?: Record<string, string>
  /** Request data (query parameters of a read, the body of a write); strings are HMAC'd as Vault does. */
  data?: Record<string, unknown>
  /** Response data; strings HMAC'd. */
  responseData?: Record<string, unknown>
  /** An error, e.g. `1 error occurred:\n\t* permission denied\n\n`. */
  error?: string
  remoteAddress?: string
  mountType?: string
}

/**
 * One injected fault; `op` is a substring of (or regex on) `METHOD path`. The shared kinds answer 403
 * permission denied, 429 rate limit quota exceeded, 500 internal error, or drop the connection; the extras
 * delay (`latency`), answer another status, answer 503 sealed, or hold requests until `count` of them wait
 * (`barrier`; its `times` defaults to `count`). Latency and barrier faults let the next fault apply too.
 */
export type Fault = ServerFault<
  'latency' | 'status' | 'sealed' | 'barrier',
  {ms?: number; status?: 502 | 503; count?: number}
>

export interface RecordedRequest {
  method: string
  path: string
  namespace?: string
  tokenPresent: boolean
}

export interface StartOptions {
  /** Serve HTTPS with this PKI's server certificate. */
  pki?: TestPki
  /** Require a client certificate signed by the PKI's CA (mutual TLS). */
  requireClientCert?: boolean
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly errors: string[],
    readonly body?: unknown,
  ) {
    super(errors.join('; '))
  }
}

const PERMISSION_DENIED = '1 error occurred:\n\t* permission denied\n\n'
// Vault's own default policy: a token may renew and look up leases, but revoking one takes a policy.
const DEFAULT_POLICY: PolicyRules = {
  'auth/token/lookup-self': ['read'],
  'auth/token/renew-self': ['update'],
  'auth/token/revoke-self': ['update'],
  'sys/leases/renew': ['update'],
  'sys/leases/lookup': ['update'],
  'sys/capabilities-self': ['update'],
}

const now = (): string => new Date().toISOString()
const denied = (): HttpError => new HttpError(403, [PERMISSION_DENIED])
const notFound = (body?: unknown): HttpError => new HttpError(404, [], body)
const bad = (message: string): HttpError => new HttpError(400, [message])

function envelope(data: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    request_id: randomUUID(),
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    data,
    wrap_info: null,
    warnings: null,
    auth: null,
    mount_type: '',
    ...extra,
  }
}

function b64url(s: string): Buffer {
  return Buffer.from(s.replaceAll('-', '+').replaceAll('_', '/'), 'base64')
}

/** The in-process Vault. Create with `VaultTestServer.start()`, configure through its methods, `close()` at the end. */
/** An engine's LeaseError as the HTTP error Vault answers with. */
function asHttp<T>(f: () => T): T {
  try {
    const r = f()
    return r instanceof Promise ? (r.catch((error: unknown) => Promise.reject(httpOf(error))) as T) : r
  } catch (error) {
    throw httpOf(error)
  }
}

function httpOf(error: unknown): unknown {
  return error instanceof LeaseError ? new HttpError(error.status, error.errors) : error
}

export class VaultTestServer {
  readonly rootToken = `hvs.root${randomBytes(12).toString('hex')}`
  readonly requests: RecordedRequest[] = []
  /** Tokens revoked through `auth/token/revoke-self`, by accessor. */
  readonly revokedAccessors: string[] = []
  sealed = false
  standby = false
  url = ''
  private readonly tokens = new Map<string, TokenEntry>()
  private readonly policies = new Map<string, PolicyRules>()
  private readonly mounts = new Map<string, Mount>()
  private readonly authMounts = new Map<string, AuthMount>()
  private readonly auditDevices = new Map<string, AuditDevice>()
  readonly faults = new Faults<Fault>((f, key) =>
    f.op === undefined ? true : typeof f.op === 'string' ? key.includes(f.op) : f.op.test(key),
  )
  private barriers: Array<{fault: Fault; waiting: Array<() => void>}> = []
  private server!: Server
  private listener!: NetServer
  private readonly sockets = new Set<Socket>()

  static async start(options: StartOptions = {}): Promise<VaultTestServer> {
    const s = new VaultTestServer()
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      s.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) s.send(res, 500, {errors: [String(error)]})
      })
    }
    s.server = createHttpServer({keepAliveTimeout: 2000}, handler)
    // Node's HTTP parser does not know Vault's LIST method, so sockets pass through a shim that turns
    // `LIST /v1/x` into `GET /v1/x` plus a marker header before the parser sees the request.
    const onSocket = (socket: Socket): void => {
      s.sockets.add(socket)
      socket.on('close', () => s.sockets.delete(socket))
      socket.on('error', () => undefined)
      s.server.emit('connection', listShim(socket))
    }
    s.listener = options.pki
      ? createTlsServer(
          {
            key: options.pki.server.key,
            cert: options.pki.server.cert,
            ca: options.pki.ca.cert,
            requestCert: Boolean(options.requireClientCert),
            rejectUnauthorized: Boolean(options.requireClientCert),
          },
          onSocket,
        )
      : createNetServer(onSocket)
    s.listener.on('tlsClientError', () => undefined)
    await new Promise<void>((resolve) => s.listener.listen(0, '127.0.0.1', resolve))
    const {port} = s.listener.address() as AddressInfo
    s.url = `${options.pki ? 'https' : 'http'}://127.0.0.1:${port}`
    s.tokens.set(s.rootToken, {
      id: s.rootToken,
      accessor: randomUUID(),
      policies: ['root'],
      ttl: 0,
      renewable: false,
      issued: Date.now(),
      expiresAt: Number.POSITIVE_INFINITY,
      displayName: 'root',
      path: 'auth/token/root',
      meta: null,
    })
    s.mountKv('secret', 2)
    return s
  }

  async close(): Promise<void> {
    for (const b of this.barriers) for (const w of b.waiting) w()
    for (const socket of this.sockets) socket.destroy()
    for (const m of this.mounts.values()) {
      m.pki?.close()
      m.database?.close()
    }
    await new Promise<void>((resolve) => this.listener.close(() => resolve()))
  }

  // ---- configuration (what an operator would do with `vault secrets enable`, `vault policy write` ...)

  mountKv(path: string, version: 1 | 2, options: {casRequired?: boolean} = {}): void {
    this.mounts.set(`${path}/`, {
      path: `${path}/`,
      type: 'kv',
      version,
      accessor: `kv_${randomBytes(4).toString('hex')}`,
      uuid: randomUUID(),
      casRequired: Boolean(options.casRequired),
      maxVersions: 0,
      kv1: new Map(),
      kv2: new Map(),
      transit: new Map(),
    })
  }

  /** `vault secrets enable -path=<path> database` with roles (TTLs in seconds); returns the engine to inspect. */
  mountDatabase(path: string, roles: Record<string, DatabaseRole>, backend?: DatabaseBackend): DatabaseEngine {
    return this.mountEngine(path, 'database', new DatabaseEngine(path, backend), roles)
  }

  /** `vault secrets enable -path=<path> pki` with a CA and roles (TTLs in seconds); returns the engine to inspect. */
  mountPki(path: string, roles: Record<string, PkiRole>): PkiEngine {
    return this.mountEngine(path, 'pki', new PkiEngine(path), roles)
  }

  /** `vault secrets enable -path=<path> aws` with STS roles (TTLs in seconds); returns the engine to inspect. */
  mountAws(path: string, roles: Record<string, AwsStsRole>): AwsEngine {
    return this.mountEngine(path, 'aws', new AwsEngine(path), roles)
  }

  private mountEngine<E extends {roles: Map<string, R>}, R>(
    path: string,
    type: 'database' | 'pki' | 'aws',
    engine: E,
    roles: Record<string, R>,
  ): E {
    for (const [name, role] of Object.entries(roles)) engine.roles.set(name, role)
    this.mounts.set(`${path}/`, {
      path: `${path}/`,
      type,
      [type]: engine,
      accessor: `${type}_${randomBytes(4).toString('hex')}`,
      uuid: randomUUID(),
      casRequired: false,
      maxVersions: 0,
      kv1: new Map(),
      kv2: new Map(),
      transit: new Map(),
    })
    return engine
  }

  mountTransit(path = 'transit'): void {
    this.mounts.set(`${path}/`, {
      path: `${path}/`,
      type: 'transit',
      accessor: `transit_${randomBytes(4).toString('hex')}`,
      uuid: randomUUID(),
      casRequired: false,
      maxVersions: 0,
      kv1: new Map(),
      kv2: new Map(),
      transit: new Map(),
    })
  }

  policy(name: string, rules: PolicyRules): void {
    this.policies.set(name, rules)
  }

  /** A service token with these policies (plus `default`). */
  createToken(policies: string[], ttlSeconds = 3600): string {
    return this.issue(policies, ttlSeconds, 'token', 'auth/token/create').client_token
  }

  /** Enable AppRole at `mount` (default `approle`) with a role; returns its role ID and one secret ID. */
  approle(role: string, policies: string[], mount = 'approle', ttlSeconds = 1200): {roleId: string; secretId: string} {
    const m = this.authMount(mount, 'approle')
    const entry = m.approles.get(role) ?? {
      roleId: randomUUID(),
      secretIds: new Set<string>(),
      policies,
      ttl: ttlSeconds,
    }
    const secretId = randomUUID()
    entry.secretIds.add(secretId)
    m.approles.set(role, entry)
    return {roleId: entry.roleId, secretId}
  }

  /** Configure JWT auth at `mount` (default `jwt`) with a JWKS (the keys a `jwks_url` would serve). */
  jwtConfig(jwks: JsonWebKey[], boundIssuer?: string, mount = 'jwt'): void {
    const m = this.authMount(mount, 'jwt')
    m.jwks = jwks
    m.boundIssuer = boundIssuer
  }

  jwtRole(name: string, role: Omit<JwtRole, 'ttl'> & {ttl?: number}, mount = 'jwt'): void {
    this.authMount(mount, 'jwt').jwtRoles.set(name, {ttl: 1200, ...role})
  }

  kubernetesRole(name: string, role: Omit<KubernetesRole, 'ttl'>, mount = 'kubernetes'): void {
    this.authMount(mount, 'kubernetes').k8sRoles.set(name, {ttl: 1200, ...role})
  }

  /** Register a service-account token (what the TokenReview API would vouch for). */
  kubernetesServiceAccount(jwt: string, name: string, namespace: string, mount = 'kubernetes'): void {
    this.authMount(mount, 'kubernetes').k8sTokens.set(jwt, {name, namespace})
  }

  /** Seed a secret directly (no HTTP request, not counted). Returns the new version (1 for KV v1). */
  put(mountPath: string, path: string, data: Record<string, unknown>): number {
    const m = this.mounts.get(`${mountPath}/`)
    if (m?.type !== 'kv') throw new Error(`no kv mount ${mountPath}`)
    if (m.version === 1) {
      m.kv1.set(path, data)
      return 1
    }
    return this.kv2Write(m, path, data, undefined).version
  }

  /** Set a KV v2 secret's custom_metadata directly. */
  customMetadata(mountPath: string, path: string, meta: Record<string, string>): void {
    const s = this.mounts.get(`${mountPath}/`)?.kv2.get(path)
    if (!s) throw new Error(`no secret ${mountPath}/${path}`)
    s.custom_metadata = meta
  }

  /** Read a secret directly (latest version's data, or undefined). */
  peek(mountPath: string, path: string): Record<string, unknown> | undefined {
    const m = this.mounts.get(`${mountPath}/`)
    if (m?.version === 1) return m.kv1.get(path)
    const s = m?.kv2.get(path)
    return s?.versions.get(s.current)?.data ?? undefined
  }

  /** Metadata of a KV v2 secret (current version and how many versions exist). */
  peekMeta(mountPath: string, path: string): {current: number; versions: number} | undefined {
    const s = this.mounts.get(`${mountPath}/`)?.kv2.get(path)
    return s ? {current: s.current, versions: s.versions.size} : undefined
  }

  // ---- faults and counters

  /** Inject a fault (a barrier applies to `count` requests unless `times` says otherwise). */
  inject(fault: Fault): void {
    this.faults.inject(fault.kind === 'barrier' ? {times: fault.count, ...fault} : fault)
  }

  /** How many requests matched `METHOD path` exactly, or any method when `path` has no space. */
  count(key: string): number {
    return this.requests.filter((r) => (key.includes(' ') ? `${r.method} ${r.path}` === key : r.path === key)).length
  }

  resetCounters(): void {
    this.requests.length = 0
    this.faults.resetCounts()
  }

  // ---- HTTP

  private send(res: ServerResponse, status: number, body?: unknown): void {
    if (body === undefined) {
      res.writeHead(status, {'Cache-Control': 'no-store'}).end()
      return
    }
    const text = JSON.stringify(body)
    res
      .writeHead(status, {
        'Content-Type': 'application/json',
        'Cache-Control': 'no-store',
        'Content-Length': Buffer.byteLength(text),
      })
      .end(text)
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://vault')
    let method = (req.method ?? 'GET').toUpperCase()
    if (req.headers['x-vault-test-method'] === 'LIST') method = 'LIST'
    if (method === 'GET' && ['true', '1', 't', 'T', 'TRUE', 'True'].includes(url.searchParams.get('list') ?? ''))
      method = 'LIST'
    if (method === 'PUT') method = 'POST'
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    if (!url.pathname.startsWith('/v1/')) {
      this.send(res, 404, {errors: []})
      return
    }
    const path = decodeURIComponent(url.pathname.slice(4)).replace(/\/+$/, (m) => (method === 'LIST' ? '' : m))
    const token = req.headers['x-vault-token']
    const ns = req.headers['x-vault-namespace']
    this.requests.push({
      method,
      path,
      namespace: typeof ns === 'string' ? ns : undefined,
      tokenPresent: typeof token === 'string' && token.length > 0,
    })

    const key = `${method} ${path}`
    this.faults.count(key)
    const seen = new Set<Fault>()
    for (let fault = this.faults.take(key); fault !== undefined; fault = this.faults.take(key, (f) => !seen.has(f))) {
      seen.add(fault)
      switch (fault.kind) {
        case 'latency':
          await new Promise((r) => setTimeout(r, fault.ms))
          break
        case 'denied':
          this.send(res, 403, {errors: [PERMISSION_DENIED]})
          return
        case 'throttled':
          this.send(res, 429, {errors: [`request path "${path}": rate limit quota exceeded`]})
          return
        case 'unavailable':
          this.send(res, 500, {errors: ['internal error']})
          return
        case 'status':
          this.send(res, fault.status ?? 502, {errors: [fault.status === 503 ? 'Vault is sealed' : 'internal error']})
          return
        case 'sealed':
          this.send(res, 503, {errors: ['Vault is sealed']})
          return
        case 'reset':
          req.socket.destroy()
          return
        case 'barrier': {
          let b = this.barriers.find((x) => x.fault === fault)
          if (!b) {
            b = {fault, waiting: []}
            this.barriers.push(b)
          }
          const entry = b
          const count = fault.count ?? 1
          await new Promise<void>((resolve) => {
            entry.waiting.push(resolve)
            if (entry.waiting.length >= count) for (const w of entry.waiting) w()
          })
          break
        }
      }
    }

    let body: Record<string, any> = {}
    if (chunks.length > 0) {
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
      } catch {
        this.send(res, 400, {errors: ['failed to parse JSON input: invalid character']})
        return
      }
    }
    const audit =
      this.auditDevices.size === 0
        ? undefined
        : this.auditRequest(
            method,
            path,
            url.searchParams,
            body,
            typeof token === 'string' ? token : '',
            req.socket.remoteAddress,
          )
    try {
      const out = await this.route(method, path, url.searchParams, body, typeof token === 'string' ? token : '')
      audit?.({status: out?.status ?? (out === undefined ? 204 : 200), body: out?.body})
      if (out === undefined) this.send(res, 204)
      else this.send(res, out.status ?? 200, out.body)
    } catch (error) {
      if (error instanceof HttpError) {
        audit?.({
          status: error.status,
          body: error.body,
          error: error.status === 403 ? PERMISSION_DENIED : error.errors.join('\n'),
        })
        this.send(res, error.status, error.body ?? {errors: error.errors})
      } else {
        throw error
      }
    }
  }

  // ---- audit devices

  /** HMAC-SHA256 of `input` under a device's key, as `sys/audit-hash` and the log write it. */
  private auditHash(device: AuditDevice, input: string): string {
    return `hmac-sha256:${createHmac('sha256', device.key).update(input).digest('hex')}`
  }

  /** Hash every string in a structure (numbers, booleans and null stay), as Vault's audit HashStructure does. */
  private hashStructure(device: AuditDevice, v: unknown): unknown {
    if (device.logRaw) return v
    if (typeof v === 'string') return this.auditHash(device, v)
    if (Array.isArray(v)) return v.map((x) => this.hashStructure(device, x))
    if (v !== null && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.hashStructure(device, x)]))
    return v
  }

  /** Vault writes times with nanoseconds (Go's RFC3339Nano). */
  private static auditTime(d: Date): string {
    return d.toISOString().replace('Z', `${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}Z`)
  }

  private auditWrite(device: AuditDevice, entry: Record<string, unknown>): void {
    appendFileSync(device.filePath, `${JSON.stringify(entry)}\n`, {mode: 0o600})
  }

  /** The `auth` and `request` blocks of an entry, hashed for one device. */
  private auditBlocks(
    device: AuditDevice,
    r: {
      id: string
      operation: string
      path: string
      data?: Record<string, unknown>
      token?: TokenEntry
      tokenId?: string
      remoteAddress?: string
      mount?: Mount
      displayName?: string
      policies?: string[]
      metadata?: Record<string, string> | null
      mountType?: string
    },
  ) {
    const hashed = (x: string | undefined) =>
      x === undefined ? undefined : device.logRaw ? x : this.auditHash(device, x)
    const accessor =
      r.token === undefined ? undefined : device.hmacAccessor ? hashed(r.token.accessor) : r.token.accessor
    const policies = r.token?.policies ?? r.policies
    const auth = {
      ...(r.tokenId ? {client_token: hashed(r.tokenId)} : {}),
      ...(accessor === undefined ? {} : {accessor}),
      display_name: r.token?.displayName ?? r.displayName ?? '',
      ...(policies ? {policies, token_policies: policies} : {}),
      ...((r.token?.meta ?? r.metadata) ? {metadata: r.token?.meta ?? r.metadata} : {}),
      entity_id: '',
      token_type: r.token || r.displayName ? 'service' : '',
    }
    const request = {
      id: r.id,
      operation: r.operation,
      ...(r.mount
        ? {mount_point: r.mount.path, mount_type: r.mount.type, mount_accessor: r.mount.accessor, mount_class: 'secret'}
        : r.mountType
          ? {mount_type: r.mountType}
          : {}),
      ...(r.tokenId ? {client_token: hashed(r.tokenId), client_token_accessor: accessor} : {}),
      namespace: {id: 'root'},
      path: r.path,
      ...(r.data && Object.keys(r.data).length > 0 ? {data: this.hashStructure(device, r.data)} : {}),
      remote_address: r.remoteAddress ?? '127.0.0.1',
    }
    return {auth, request}
  }

  /** Log a request to every file device now; returns the function that logs its response. */
  private auditRequest(
    method: string,
    path: string,
    query: URLSearchParams,
    body: Record<string, any>,
    token: string,
    remote?: string,
  ): (r: {status: number; body?: unknown; error?: string}) => void {
    const operation =
      {GET: 'read', POST: 'update', DELETE: 'delete', LIST: 'list', PATCH: 'patch'}[method] ?? method.toLowerCase()
    const data: Record<string, unknown> =
      method === 'GET' || method === 'LIST' ? Object.fromEntries([...query].filter(([k]) => k !== 'list')) : body
    const entry = this.lookup(token)
    const id = randomUUID()
    const r = {
      id,
      operation,
      path,
      data,
      token: entry,
      tokenId: entry ? token : undefined,
      remoteAddress: remote?.replace(/^::ffff:/, ''),
      mount: this.mountFor(path),
    }
    // Vault logs the request before it is handled, and the response after.
    for (const device of this.auditDevices.values())
      this.auditWrite(device, {
        time: VaultTestServer.auditTime(new Date()),
        type: 'request',
        ...this.auditBlocks(device, r),
      })
    return ({body: out, error}) => {
      const outData = (out as {data?: unknown} | undefined)?.data
      for (const device of this.auditDevices.values()) {
        const {auth, request} = this.auditBlocks(device, r)
        this.auditWrite(device, {
          time: VaultTestServer.auditTime(new Date()),
          type: 'response',
          auth,
          request,
          response: {
            ...(r.mount ? {mount_point: r.mount.path, mount_type: r.mount.type, mount_accessor: r.mount.accessor} : {}),
            ...(error === undefined && outData !== undefined && outData !== null
              ? {data: this.hashStructure(device, outData)}
              : {}),
          },
          ...(error === undefined ? {} : {error}),
        })
      }
    }
  }

  /** Enable a file audit device (what `vault audit enable -path=<path> file file_path=<file>` does). */
  enableFileAudit(filePath: string, path = 'file', options: {logRaw?: boolean; hmacAccessor?: boolean} = {}): void {
    this.auditDevices.set(path.replace(/\/+$/, ''), {
      path: `${path.replace(/\/+$/, '')}/`,
      type: 'file',
      filePath,
      logRaw: Boolean(options.logRaw),
      hmacAccessor: options.hmacAccessor ?? true,
      key: randomBytes(32),
      description: '',
    })
  }

  /** Write the entries a device would have logged for a request from elsewhere. */
  plantAudit(p: PlantedAudit, devicePath = 'file'): void {
    const device = this.auditDevices.get(devicePath)
    if (!device) throw new Error(`no audit device ${devicePath}`)
    const blocks = this.auditBlocks(device, {
      id: randomUUID(),
      operation: p.operation,
      path: p.path,
      data: p.data,
      tokenId: `hvs.${randomBytes(18).toString('base64url')}`,
      displayName: p.displayName,
      policies: p.policies ?? ['default'],
      metadata: p.metadata ?? null,
      remoteAddress: p.remoteAddress,
      mountType: p.mountType ?? 'kv',
    })
    const time = VaultTestServer.auditTime(p.time)
    this.auditWrite(device, {time, type: 'request', ...blocks, ...(p.error ? {error: p.error} : {})})
    this.auditWrite(device, {
      time,
      type: 'response',
      ...blocks,
      response: {
        mount_type: p.mountType ?? 'kv',
        ...(p.responseData ? {data: this.hashStructure(device, p.responseData)} : {}),
      },
      ...(p.error ? {error: p.error} : {}),
    })
  }

  /** The HMAC a device gives `input` (what `sys/audit-hash/<path>` answers), for assertions. */
  hashFor(input: string, devicePath = 'file'): string {
    const device = this.auditDevices.get(devicePath)
    if (!device) throw new Error(`no audit device ${devicePath}`)
    return this.auditHash(device, input)
  }

  private sysAudit(
    entry: TokenEntry,
    method: string,
    path: string,
    body: Record<string, any>,
  ): {body: unknown} | undefined {
    const hash = /^sys\/audit-hash\/(.+)$/.exec(path)
    if (hash) {
      if (method !== 'POST') throw new HttpError(405, ['unsupported operation'])
      this.authorize(entry, path, 'update')
      const device = this.auditDevices.get(hash[1].replace(/\/+$/, ''))
      if (!device) throw bad('unknown audit backend')
      if (typeof body.input !== 'string') throw bad('the "input" parameter is required')
      const h = this.auditHash(device, body.input)
      // sys/ endpoints answer with the data at the top level too.
      return {body: {...envelope({hash: h}), hash: h}}
    }
    // Listing, enabling and disabling audit devices need sudo, as in Vault.
    this.authorize(entry, path, 'sudo')
    if (path === 'sys/audit' && method === 'GET') {
      const devices = Object.fromEntries(
        [...this.auditDevices.values()].map((d) => [
          d.path,
          {
            type: d.type,
            description: d.description,
            options: {
              file_path: d.filePath,
              ...(d.logRaw ? {log_raw: 'true'} : {}),
              hmac_accessor: String(d.hmacAccessor),
            },
            local: false,
            path: d.path,
          },
        ]),
      )
      return {body: {...envelope(devices), ...devices}}
    }
    const m = /^sys\/audit\/(.+)$/.exec(path)
    if (m && method === 'POST') {
      if (body.type !== 'file') throw bad(`unknown backend type: "${String(body.type)}"`)
      const filePath = body.options?.file_path ?? body.options?.path
      if (typeof filePath !== 'string' || filePath === '') throw bad('file_path is required')
      this.enableFileAudit(filePath, m[1], {
        logRaw: ['true', true, '1'].includes(body.options?.log_raw),
        hmacAccessor: !['false', false, '0'].includes(body.options?.hmac_accessor),
      })
      return undefined
    }
    if (m && method === 'DELETE') {
      this.auditDevices.delete(m[1].replace(/\/+$/, ''))
      return undefined
    }
    throw notFound({errors: [`no handler for route "${path}". route entry not found.`]})
  }

  private async route(
    method: string,
    path: string,
    query: URLSearchParams,
    body: Record<string, any>,
    token: string,
  ): Promise<{status?: number; body: unknown} | undefined> {
    if (path === 'sys/health' && method === 'GET') {
      const status = this.sealed ? 503 : this.standby ? 429 : 200
      return {
        status,
        body: {
          initialized: true,
          sealed: this.sealed,
          standby: this.standby,
          performance_standby: false,
          replication_performance_mode: 'disabled',
          replication_dr_mode: 'disabled',
          server_time_utc: Math.floor(Date.now() / 1000),
          version: '1.17.0+test',
          cluster_name: 'vault-test',
          cluster_id: 'test-cluster',
        },
      }
    }
    if (this.sealed) throw new HttpError(503, ['Vault is sealed'])
    const login = /^auth\/(.+)\/login$/.exec(path)
    if (login && method === 'POST' && this.authMounts.has(login[1])) return {body: this.login(login[1], body)}

    const entry = this.lookup(token)
    if (path === 'sys/internal/ui/mounts' && method === 'GET') {
      const secret: Record<string, unknown> = {}
      if (entry)
        for (const m of this.mounts.values())
          if (this.touches(entry, m.path))
            secret[m.path] = {type: m.type, description: '', options: m.version ? {version: String(m.version)} : null}
      return {body: envelope({auth: {}, secret})}
    }
    if (path.startsWith('sys/internal/ui/mounts/') && method === 'GET') {
      const m = this.mountFor(path.slice('sys/internal/ui/mounts/'.length))
      if (!entry || !m || !this.touches(entry, m.path)) throw denied()
      return {
        body: envelope({
          accessor: m.accessor,
          config: {default_lease_ttl: 0, force_no_cache: false, max_lease_ttl: 0},
          description: '',
          external_entropy_access: false,
          local: false,
          options: m.version ? {version: String(m.version)} : null,
          path: m.path,
          seal_wrap: false,
          type: m.type,
          uuid: m.uuid,
        }),
      }
    }
    if (!entry) throw denied()

    if (path === 'sys/audit' || path.startsWith('sys/audit/') || path.startsWith('sys/audit-hash/'))
      return this.sysAudit(entry, method, path, body)
    if (path.startsWith('auth/token/')) {
      this.authorize(entry, path, method === 'GET' ? 'read' : 'update')
      return this.tokenSelf(method, path.slice('auth/token/'.length), body, entry, token)
    }
    if (path.startsWith('sys/leases/') && method === 'POST') return this.sysLeases(entry, path, body)
    if (path === 'sys/capabilities-self' && method === 'POST') return this.capabilitiesSelf(entry, body)
    const m = this.mountFor(path)
    if (m?.database) return this.database(entry, m.database, method, path, path.slice(m.path.length))
    if (m?.pki) return this.pki(entry, m.pki, method, path, path.slice(m.path.length), body)
    if (m?.aws) return this.awsSts(entry, m.aws, method, path, path.slice(m.path.length), query, body)
    if (!m) {
      this.authorize(entry, path, method === 'GET' ? 'read' : 'update')
      throw notFound({errors: [`no handler for route "${path}". route entry not found.`]})
    }
    const rest = path.slice(m.path.length)
    if (m.type === 'transit') return this.transit(entry, m, method, rest, body)
    return m.version === 1 ? this.kv1(entry, m, method, rest, body) : this.kv2(entry, m, method, rest, query, body)
  }

  // ---- dynamic secrets

  private async database(
    entry: TokenEntry,
    engine: DatabaseEngine,
    method: string,
    path: string,
    rest: string,
  ): Promise<{status?: number; body: unknown}> {
    const creds = /^creds\/([^/]+)$/.exec(rest)
    if (!creds || method !== 'GET') throw notFound({errors: [`no handler for route "${path}". route entry not found.`]})
    this.authorize(entry, path, 'read')
    return {body: await asHttp(() => engine.creds(creds[1], randomUUID()))}
  }

  private pki(
    entry: TokenEntry,
    engine: PkiEngine,
    method: string,
    path: string,
    rest: string,
    body: Record<string, any>,
  ): {status?: number; body: unknown} {
    const issue = /^issue\/([^/]+)$/.exec(rest)
    if (!issue) throw notFound({errors: [`no handler for route "${path}". route entry not found.`]})
    if (method !== 'POST' && method !== 'PUT')
      throw new HttpError(405, ['1 error occurred:\n\t* unsupported operation\n\n'])
    this.authorize(entry, path, 'update')
    return {body: asHttp(() => engine.issue(issue[1], body, randomUUID()))}
  }

  private awsSts(
    entry: TokenEntry,
    engine: AwsEngine,
    method: string,
    path: string,
    rest: string,
    query: URLSearchParams,
    body: Record<string, any>,
  ): {status?: number; body: unknown} {
    const sts = /^sts\/([^/]+)$/.exec(rest)
    if (!sts || !['GET', 'POST', 'PUT'].includes(method))
      throw notFound({errors: [`no handler for route "${path}". route entry not found.`]})
    this.authorize(entry, path, method === 'GET' ? 'read' : 'update')
    const params = method === 'GET' ? Object.fromEntries(query) : body
    return {body: asHttp(() => engine.sts(sts[1], params, randomUUID()))}
  }

  /** `sys/capabilities-self {paths}`: each path's capabilities (`deny` for none, `root` for a root token). */
  private capabilitiesSelf(entry: TokenEntry, body: Record<string, any>): {body: unknown} {
    this.authorize(entry, 'sys/capabilities-self', 'update')
    const paths: unknown = body.paths ?? body.path
    if (!Array.isArray(paths) || paths.length === 0 || !paths.every((p) => typeof p === 'string'))
      throw bad('paths must be supplied')
    const data: Record<string, string[]> = {}
    for (const p of paths as string[]) {
      const caps = entry.policies.includes('root') ? ['root'] : [...this.capabilities(entry, p)].sort()
      data[p] = caps.length === 0 ? ['deny'] : caps
    }
    if (paths.length === 1) data.capabilities = data[paths[0] as string]
    return {body: {...data, ...envelope(data)}}
  }

  /** The engine a lease id belongs to (lease ids start with the mount path). */
  private leaseEngine(id: string): DatabaseEngine | PkiEngine | AwsEngine | undefined {
    const m = [...this.mounts.values()].find((x) => (x.database || x.pki || x.aws) && id.startsWith(x.path))
    return m?.database ?? m?.pki ?? m?.aws
  }

  private async sysLeases(
    entry: TokenEntry,
    path: string,
    body: Record<string, any>,
  ): Promise<{status?: number; body: unknown}> {
    const op = path.slice('sys/leases/'.length)
    if (op !== 'renew' && op !== 'revoke' && op !== 'lookup')
      throw notFound({errors: [`no handler for route "${path}". route entry not found.`]})
    this.authorize(entry, path, 'update')
    const id = typeof body.lease_id === 'string' ? body.lease_id : ''
    if (id === '') throw bad('missing lease ID')
    const engine = this.leaseEngine(id)
    try {
      if (op === 'revoke') {
        await engine?.revoke(id)
        return {status: 204, body: undefined}
      }
      if (engine === undefined) throw new LeaseError(400, [op === 'renew' ? 'lease not found' : 'invalid lease'])
      if (op === 'lookup') return {body: envelope(engine.lookup(id))}
      const increment = typeof body.increment === 'number' ? body.increment : Number(body.increment) || undefined
      return {body: engine.renew(id, increment, randomUUID())}
    } catch (error) {
      throw httpOf(error)
    }
  }

  // ---- ACL

  private lookup(token: string): TokenEntry | undefined {
    const e = token ? this.tokens.get(token) : undefined
    if (e && e.expiresAt <= Date.now()) {
      this.tokens.delete(token)
      return undefined
    }
    return e
  }

  private capabilities(entry: TokenEntry, path: string): Set<Capability> {
    if (entry.policies.includes('root')) return new Set(['create', 'read', 'update', 'patch', 'delete', 'list', 'sudo'])
    let best: {score: number; caps: Set<Capability>} | undefined
    const rulesets = [DEFAULT_POLICY, ...entry.policies.map((p) => this.policies.get(p) ?? {})]
    for (const rules of rulesets) {
      for (const [pattern, caps] of Object.entries(rules)) {
        const score = matchScore(pattern, path)
        if (score < 0) continue
        if (!best || score > best.score) best = {score, caps: new Set(caps)}
        else if (score === best.score) for (const c of caps) best.caps.add(c)
      }
    }
    if (!best || best.caps.has('deny')) return new Set()
    return best.caps
  }

  private authorize(entry: TokenEntry, path: string, ...anyOf: Capability[]): void {
    const caps = this.capabilities(entry, path)
    if (!anyOf.some((c) => caps.has(c))) throw denied()
  }

  /** Whether the token has any capability on a path under `prefix` (what ui/mounts/:path requires). */
  private touches(entry: TokenEntry, prefix: string): boolean {
    if (entry.policies.includes('root')) return true
    return entry.policies.some((p) =>
      Object.entries(this.policies.get(p) ?? {}).some(
        ([pattern, caps]) => pattern.startsWith(prefix) && !caps.includes('deny'),
      ),
    )
  }

  private mountFor(path: string): Mount | undefined {
    const withSlash = path.endsWith('/') ? path : `${path}/`
    return [...this.mounts.values()]
      .filter((m) => withSlash.startsWith(m.path))
      .sort((a, b) => b.path.length - a.path.length)[0]
  }

  // ---- auth

  private authMount(mount: string, type: AuthMount['type']): AuthMount {
    let m = this.authMounts.get(mount)
    if (!m) {
      m = {type, approles: new Map(), jwtRoles: new Map(), jwks: [], k8sRoles: new Map(), k8sTokens: new Map()}
      this.authMounts.set(mount, m)
    }
    return m
  }

  private issue(
    policies: string[],
    ttl: number,
    name: string,
    path: string,
    meta: Record<string, string> | null = null,
  ): {
    client_token: string
    accessor: string
    policies: string[]
    token_policies: string[]
    metadata: Record<string, string> | null
    lease_duration: number
    renewable: boolean
    entity_id: string
    token_type: string
    orphan: boolean
  } {
    const id = `hvs.${randomBytes(18).toString('base64url')}`
    const all = ['default', ...policies.filter((p) => p !== 'default')]
    const e: TokenEntry = {
      id,
      accessor: randomBytes(12).toString('base64url'),
      policies: all,
      ttl,
      renewable: true,
      issued: Date.now(),
      expiresAt: Date.now() + ttl * 1000,
      displayName: name,
      path,
      meta,
    }
    this.tokens.set(id, e)
    return {
      client_token: id,
      accessor: e.accessor,
      policies: all,
      token_policies: all,
      metadata: meta,
      lease_duration: ttl,
      renewable: true,
      entity_id: randomUUID(),
      token_type: 'service',
      orphan: true,
    }
  }

  private login(mount: string, body: Record<string, any>): unknown {
    const m = this.authMounts.get(mount)!
    const path = `auth/${mount}/login`
    if (m.type === 'approle') {
      const role = [...m.approles.entries()].find(([, r]) => r.roleId === body.role_id)
      if (!role || typeof body.secret_id !== 'string' || !role[1].secretIds.has(body.secret_id))
        throw bad('invalid role or secret ID')
      return envelope(null, {auth: this.issue(role[1].policies, role[1].ttl, `approle`, path, {role_name: role[0]})})
    }
    if (typeof body.role !== 'string' || body.role === '') throw bad('missing role')
    if (typeof body.jwt !== 'string' || body.jwt === '') throw bad('missing jwt')
    if (m.type === 'kubernetes') {
      const role = m.k8sRoles.get(body.role)
      if (!role) throw bad(`invalid role name "${body.role}"`)
      const sa = m.k8sTokens.get(body.jwt)
      if (!sa) throw denied()
      if (!role.bound_service_account_names.includes(sa.name) && !role.bound_service_account_names.includes('*'))
        throw new HttpError(403, ['service account name not authorized'])
      if (
        !role.bound_service_account_namespaces.includes(sa.namespace) &&
        !role.bound_service_account_namespaces.includes('*')
      )
        throw new HttpError(403, ['namespace not authorized'])
      return envelope(null, {
        auth: this.issue(role.policies, role.ttl, `kubernetes-${sa.namespace}-${sa.name}`, path, {
          role: body.role,
          service_account_name: sa.name,
          service_account_namespace: sa.namespace,
        }),
      })
    }
    const role = m.jwtRoles.get(body.role)
    if (!role) throw bad(`role "${body.role}" could not be found`)
    const claims = this.verifyJwt(m, body.jwt)
    if (m.boundIssuer !== undefined && claims.iss !== m.boundIssuer)
      throw bad('error validating claims: validation failed, invalid issuer claim (iss)')
    if (role.bound_audiences) {
      const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud]
      if (!aud.some((a) => role.bound_audiences!.includes(a)))
        throw bad(
          'error validating claims: invalid audience (aud) claim: audience claim does not match any expected audience',
        )
    }
    if (role.bound_subject !== undefined && claims.sub !== role.bound_subject)
      throw bad('error validating claims: sub claim does not match bound subject')
    for (const [claim, want] of Object.entries(role.bound_claims ?? {})) {
      const wanted = Array.isArray(want) ? want : [want]
      if (!wanted.includes(claims[claim] as string))
        throw bad(`error validating claims: claim "${claim}" does not match any associated bound claim values`)
    }
    const user = claims[role.user_claim]
    if (typeof user !== 'string') throw bad(`claim "${role.user_claim}" not found in token`)
    return envelope(null, {auth: this.issue(role.policies, role.ttl, `jwt-${user}`, path, {role: body.role})})
  }

  private verifyJwt(m: AuthMount, jwt: string): Record<string, any> {
    const parts = jwt.split('.')
    if (parts.length !== 3) throw bad('error validating token: invalid JWT: compact JWS format must have three parts')
    let header: Record<string, any>
    let claims: Record<string, any>
    try {
      header = JSON.parse(b64url(parts[0]).toString('utf8'))
      claims = JSON.parse(b64url(parts[1]).toString('utf8'))
    } catch {
      throw bad('error validating token: invalid JWT')
    }
    if (header.alg !== 'RS256') throw bad(`error validating token: unsupported signing algorithm "${header.alg}"`)
    const keys = m.jwks.filter((k) => header.kid === undefined || (k as {kid?: string}).kid === header.kid)
    const input = Buffer.from(`${parts[0]}.${parts[1]}`)
    const ok = keys.some((k) => verify('sha256', input, createPublicKey({key: k, format: 'jwk'}), b64url(parts[2])))
    if (!ok) throw bad('error validating token: failed to verify id token signature')
    const t = Math.floor(Date.now() / 1000)
    const leeway = 150
    if (typeof claims.exp !== 'number') throw bad('error validating claims: exp claim is required')
    if (claims.exp + leeway < t) throw bad('error validating claims: validation failed, token is expired (exp)')
    if (typeof claims.nbf === 'number' && claims.nbf - leeway > t)
      throw bad('error validating claims: validation failed, token not valid yet (nbf)')
    return claims
  }

  private tokenSelf(
    method: string,
    op: string,
    body: Record<string, any>,
    entry: TokenEntry,
    token: string,
  ): {body: unknown} | undefined {
    if (op === 'lookup-self' && method === 'GET') {
      const ttl = Number.isFinite(entry.expiresAt) ? Math.max(0, Math.round((entry.expiresAt - Date.now()) / 1000)) : 0
      return {
        body: envelope({
          accessor: entry.accessor,
          creation_time: Math.floor(entry.issued / 1000),
          creation_ttl: entry.ttl,
          display_name: entry.displayName,
          entity_id: '',
          expire_time: Number.isFinite(entry.expiresAt) ? new Date(entry.expiresAt).toISOString() : null,
          explicit_max_ttl: 0,
          id: entry.id,
          issue_time: new Date(entry.issued).toISOString(),
          meta: entry.meta,
          num_uses: 0,
          orphan: true,
          path: entry.path,
          policies: entry.policies,
          renewable: entry.renewable,
          ttl,
          type: 'service',
        }),
      }
    }
    if (op === 'renew-self' && method === 'POST') {
      if (!entry.renewable) throw bad('lease is not renewable')
      const increment = typeof body.increment === 'number' ? body.increment : entry.ttl
      entry.expiresAt = Date.now() + increment * 1000
      return {
        body: envelope(null, {
          auth: {
            client_token: entry.id,
            accessor: entry.accessor,
            policies: entry.policies,
            token_policies: entry.policies,
            metadata: entry.meta,
            lease_duration: increment,
            renewable: true,
          },
        }),
      }
    }
    if (op === 'revoke-self' && method === 'POST') {
      this.tokens.delete(token)
      this.revokedAccessors.push(entry.accessor)
      return undefined
    }
    throw notFound({errors: [`unsupported path`]})
  }

  // ---- KV v1

  private kv1(
    entry: TokenEntry,
    m: Mount,
    method: string,
    rest: string,
    body: Record<string, any>,
  ): {body: unknown} | undefined {
    const full = m.path + rest
    if (method === 'LIST') {
      this.authorize(entry, full.endsWith('/') ? full : `${full}/`, 'list')
      const keys = childKeys([...m.kv1.keys()], rest)
      if (keys.length === 0) throw notFound()
      return {body: envelope({keys}, {mount_type: 'kv'})}
    }
    if (rest === '') throw bad('missing path')
    if (method === 'GET') {
      this.authorize(entry, full, 'read')
      const data = m.kv1.get(rest)
      if (!data) throw notFound()
      return {body: envelope(data, {lease_duration: 2_764_800, mount_type: 'kv'})}
    }
    if (method === 'POST') {
      this.authorize(entry, full, m.kv1.has(rest) ? 'update' : 'create')
      m.kv1.set(rest, body)
      return undefined
    }
    if (method === 'DELETE') {
      this.authorize(entry, full, 'delete')
      m.kv1.delete(rest)
      return undefined
    }
    throw new HttpError(405, ['unsupported operation'])
  }

  // ---- KV v2

  private kv2Write(
    m: Mount,
    path: string,
    data: Record<string, unknown>,
    cas: number | undefined,
  ): {version: number; created_time: string} {
    let s = m.kv2.get(path)
    const current = s?.current ?? 0
    if (cas === undefined && (m.casRequired || s?.cas_required))
      throw bad('check-and-set parameter required for this call')
    if (cas !== undefined && cas !== current) throw bad('check-and-set parameter did not match the current version')
    const t = now()
    if (!s) {
      s = {
        versions: new Map(),
        current: 0,
        oldest: 1,
        created_time: t,
        updated_time: t,
        custom_metadata: null,
        cas_required: false,
        max_versions: 0,
      }
      m.kv2.set(path, s)
    }
    s.current += 1
    s.updated_time = t
    s.versions.set(s.current, {data, created_time: t, deletion_time: '', destroyed: false})
    const max = s.max_versions || m.maxVersions || 10
    while (s.versions.size > max) {
      s.versions.delete(s.oldest)
      s.oldest += 1
    }
    return {version: s.current, created_time: t}
  }

  private versionMeta(s: KvV2Secret, v: number): Record<string, unknown> {
    const ver = s.versions.get(v)!
    return {
      created_time: ver.created_time,
      custom_metadata: s.custom_metadata,
      deletion_time: ver.deletion_time,
      destroyed: ver.destroyed,
      version: v,
    }
  }

  private kv2(
    entry: TokenEntry,
    m: Mount,
    method: string,
    rest: string,
    query: URLSearchParams,
    body: Record<string, any>,
  ): {body: unknown} | undefined {
    const full = m.path + rest
    const slash = rest.indexOf('/')
    const section = slash === -1 ? rest : rest.slice(0, slash)
    const path = slash === -1 ? '' : rest.slice(slash + 1)
    const opts = {mount_type: 'kv'}
    if (section === 'config') {
      this.authorize(entry, full, method === 'GET' ? 'read' : 'update')
      if (method === 'GET')
        return {
          body: envelope({cas_required: m.casRequired, delete_version_after: '0s', max_versions: m.maxVersions}, opts),
        }
      if (typeof body.cas_required === 'boolean') m.casRequired = body.cas_required
      if (typeof body.max_versions === 'number') m.maxVersions = body.max_versions
      return undefined
    }
    if (section === 'metadata' && method === 'LIST') {
      this.authorize(entry, full.endsWith('/') ? full : `${full}/`, 'list')
      const keys = childKeys([...m.kv2.keys()], path)
      if (keys.length === 0) throw notFound()
      return {body: envelope({keys}, opts)}
    }
    if (path === '') throw notFound({errors: [`no handler for route "${full}". route entry not found.`]})
    const s = m.kv2.get(path)
    switch (`${method} ${section}`) {
      case 'GET data': {
        this.authorize(entry, full, 'read')
        const raw = query.get('version')
        const v = raw === null || raw === '0' ? (s?.current ?? 0) : Number(raw)
        if (!Number.isInteger(v)) throw bad('invalid version')
        const ver = s?.versions.get(v)
        if (!s || !ver) throw notFound()
        if (ver.deletion_time !== '' || ver.destroyed)
          throw notFound(envelope({data: null, metadata: this.versionMeta(s, v)}, opts))
        return {body: envelope({data: ver.data, metadata: this.versionMeta(s, v)}, opts)}
      }
      case 'POST data': {
        this.authorize(entry, full, s && s.current > 0 ? 'update' : 'create')
        if (body.data === null || typeof body.data !== 'object' || Array.isArray(body.data))
          throw bad('no data provided')
        const cas = body.options?.cas
        if (cas !== undefined && !Number.isInteger(cas)) throw bad('invalid cas parameter')
        const {version} = this.kv2Write(m, path, body.data, cas)
        return {body: envelope(this.versionMeta(m.kv2.get(path)!, version), opts)}
      }
      case 'DELETE data': {
        this.authorize(entry, full, 'delete')
        const ver = s?.versions.get(s.current)
        if (ver && ver.deletion_time === '') ver.deletion_time = now()
        return undefined
      }
      case 'POST delete':
      case 'POST undelete':
      case 'POST destroy': {
        this.authorize(entry, full, 'update')
        if (!Array.isArray(body.versions) || body.versions.length === 0) throw bad('no version number provided')
        for (const v of body.versions as number[]) {
          const ver = s?.versions.get(v)
          if (!ver) continue
          if (section === 'delete' && ver.deletion_time === '') ver.deletion_time = now()
          if (section === 'undelete' && !ver.destroyed) ver.deletion_time = ''
          if (section === 'destroy') {
            ver.destroyed = true
            ver.data = null
          }
        }
        return undefined
      }
      case 'GET metadata': {
        this.authorize(entry, full, 'read')
        if (!s) throw notFound()
        const versions = Object.fromEntries(
          [...s.versions.entries()].map(([v, x]) => [
            String(v),
            {created_time: x.created_time, deletion_time: x.deletion_time, destroyed: x.destroyed},
          ]),
        )
        return {
          body: envelope(
            {
              cas_required: s.cas_required,
              created_time: s.created_time,
              current_version: s.current,
              custom_metadata: s.custom_metadata,
              delete_version_after: '0s',
              max_versions: s.max_versions,
              oldest_version: s.oldest,
              updated_time: s.updated_time,
              versions,
            },
            opts,
          ),
        }
      }
      case 'POST metadata': {
        this.authorize(entry, full, s ? 'update' : 'create')
        const target = s ?? {
          versions: new Map(),
          current: 0,
          oldest: 1,
          created_time: now(),
          updated_time: now(),
          custom_metadata: null,
          cas_required: false,
          max_versions: 0,
        }
        if (typeof body.cas_required === 'boolean') target.cas_required = body.cas_required
        if (typeof body.max_versions === 'number') target.max_versions = body.max_versions
        if (body.custom_metadata && typeof body.custom_metadata === 'object')
          target.custom_metadata = body.custom_metadata
        m.kv2.set(path, target)
        return undefined
      }
      case 'DELETE metadata':
        this.authorize(entry, full, 'delete')
        m.kv2.delete(path)
        return undefined
      default:
        throw new HttpError(405, ['unsupported operation'])
    }
  }

  // ---- transit

  private transit(
    entry: TokenEntry,
    m: Mount,
    method: string,
    rest: string,
    body: Record<string, any>,
  ): {body: unknown} | undefined {
    const full = m.path + rest
    const [op, name] = rest.split('/')
    if (!name || method !== 'POST') throw new HttpError(405, ['unsupported operation'])
    this.authorize(entry, full, 'update', 'create')
    if (op === 'keys') {
      if (!m.transit.has(name)) m.transit.set(name, [randomBytes(32)])
      return undefined
    }
    if (op === 'encrypt') {
      if (typeof body.plaintext !== 'string') throw bad('missing plaintext to encrypt')
      if (!m.transit.has(name)) m.transit.set(name, [randomBytes(32)])
      const keys = m.transit.get(name)!
      const nonce = randomBytes(12)
      const c = createCipheriv('aes-256-gcm', keys.at(-1)!, nonce)
      const ct = Buffer.concat([c.update(Buffer.from(body.plaintext, 'base64')), c.final(), c.getAuthTag()])
      return {
        body: envelope({
          ciphertext: `vault:v${keys.length}:${Buffer.concat([nonce, ct]).toString('base64')}`,
          key_version: keys.length,
        }),
      }
    }
    if (op === 'decrypt') {
      const keys = m.transit.get(name)
      if (!keys) throw bad('encryption key not found')
      const parsed = /^vault:v(\d+):(.+)$/.exec(String(body.ciphertext ?? ''))
      if (!parsed) throw bad('invalid ciphertext: no prefix')
      const key = keys[Number(parsed[1]) - 1]
      if (!key) throw bad('invalid key version')
      const raw = Buffer.from(parsed[2], 'base64')
      try {
        const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12))
        d.setAuthTag(raw.subarray(-16))
        const pt = Buffer.concat([d.update(raw.subarray(12, -16)), d.final()])
        return {body: envelope({plaintext: pt.toString('base64')})}
      } catch {
        throw bad('cipher: message authentication failed')
      }
    }
    throw new HttpError(405, ['unsupported operation'])
  }
}

/** How specifically an ACL pattern matches `path`: -1 for no match, higher is more specific. */
function matchScore(pattern: string, path: string): number {
  const glob = pattern.endsWith('*')
  const body = glob ? pattern.slice(0, -1) : pattern
  const pp = body.split('/')
  const xs = path.split('/')
  if (!glob && pp.length !== xs.length) return -1
  if (glob && xs.length < pp.length) return -1
  let plus = 0
  for (let i = 0; i < pp.length; i++) {
    const last = i === pp.length - 1
    if (pp[i] === '+') {
      plus++
      continue
    }
    if (glob && last ? !xs[i].startsWith(pp[i]) : pp[i] !== xs[i]) return -1
  }
  if (glob && pp.length === xs.length && !xs.at(-1)!.startsWith(pp.at(-1)!) && pp.at(-1) !== '+') return -1
  // Exact beats any glob; longer prefixes beat shorter; fewer `+` beats more.
  return (glob ? 0 : 1_000_000) + body.length * 10 - plus
}

/** Direct children of `prefix` among `keys` (Vault's LIST: leaves as names, folders with a trailing `/`). */
function childKeys(keys: string[], prefix: string): string[] {
  const p = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`
  const out = new Set<string>()
  for (const k of keys) {
    if (!k.startsWith(p)) continue
    const tail = k.slice(p.length)
    const slash = tail.indexOf('/')
    out.add(slash === -1 ? tail : tail.slice(0, slash + 1))
  }
  return [...out].sort()
}

/** Wrap a socket so a request line `LIST <path> HTTP/1.1` reaches Node's parser as GET with a marker header. */
function listShim(socket: Socket): Duplex {
  const wrapped = new Duplex({
    read() {
      socket.resume()
    },
    write(chunk, encoding, callback) {
      socket.write(chunk, encoding, callback)
    },
    final(callback) {
      socket.end()
      callback()
    },
    destroy(error, callback) {
      socket.destroy()
      callback(error)
    },
  })
  socket.on('data', (chunk: Buffer) => {
    let out = chunk
    if (chunk.subarray(0, 5).toString('latin1') === 'LIST ') {
      const eol = chunk.indexOf('\r\n')
      out = Buffer.concat([
        Buffer.from('GET '),
        chunk.subarray(5, eol + 2),
        Buffer.from('X-Vault-Test-Method: LIST\r\n'),
        chunk.subarray(eol + 2),
      ])
    }
    if (!wrapped.push(out)) socket.pause()
  })
  socket.on('end', () => wrapped.push(null))
  socket.on('close', () => wrapped.destroy())
  const extra = wrapped as Duplex & Record<string, unknown>
  extra.setTimeout = () => wrapped
  extra.setNoDelay = () => wrapped
  extra.setKeepAlive = () => wrapped
  extra.remoteAddress = socket.remoteAddress
  return wrapped
}
