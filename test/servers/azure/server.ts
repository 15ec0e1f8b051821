/**
 * An in-process Azure Key Vault (secrets data plane, ../shared/specs/azure/secrets.json) and Entra ID
 * token endpoint for tests, HTTPS only on 127.0.0.1 with a CA generated per run.
 *
 * The vault speaks the bearer challenge handshake (401 + WWW-Authenticate), checks the JWTs its token
 * endpoint issued (signature, audience, tenant, expiry) and grants access per client id, so 401 and 403
 * are real. The token endpoint implements the OAuth2 client-credentials grant with a client secret or a
 * client assertion (certificate, or a federated token from the test OIDC issuer), and answers the
 * OpenID discovery MSAL asks for. Faults (latency, 429 with Retry-After, 500, reset) are switchable.
 *
 * It also serves a Log Analytics workspace (log-analytics.ts) that receives the vault's AuditEvent
 * diagnostic logs: every vault request it answers becomes a row; tokens for `https://api.loganalytics.io`
 * come from the same token endpoint.
 *
 * Managed identity: `startManagedIdentityEndpoint()` serves the App Service identity endpoint protocol
 * (IDENTITY_ENDPOINT + IDENTITY_HEADER, api-version 2019-08-01) on plain HTTP, as the platform does on
 * localhost. For the Azure CLI, `issueToken()` mints the token a fake `az account get-access-token` prints.
 *
 * The keys subset (create, get, wrapKey, unwrapKey) holds real RSA keys and does RSA-OAEP-256, RSA-OAEP
 * and RSA1_5 with node:crypto, behind the same challenge, token checks and per-identity access.
 */
import {
  constants,
  createPublicKey,
  generateKeyPairSync,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  randomUUID,
  type KeyObject,
} from 'node:crypto'
import {createServer, type Server} from 'node:https'
import {createServer as createHttpServer, type IncomingMessage, type ServerResponse} from 'node:http'
import type {AddressInfo, Socket} from 'node:net'

import {Faults, type ServerFault} from '../faults.js'
import {decodeJwt, signJwt, verifyJwt} from './jwt.js'
import {LOGS_RESOURCE, LogAnalyticsWorkspace, QueryError} from './log-analytics.js'
import {generateTls, type TestTls} from './tls.js'

export const VAULT_RESOURCE = 'https://vault.azure.net'
export const FEDERATED_AUDIENCE = 'api://AzureADTokenExchange'
const API_VERSIONS = new Set(['7.0', '7.1', '7.2', '7.3', '7.4', '7.5', '7.6', '2025-07-01'])

/** An app registration / managed identity the token endpoint knows, and what it may do in the vault. */
export interface TestIdentity {
  clientId: string
  /** For the client-secret flow. */
  secret?: string
  /** PEM certificate whose key signs client assertions. */
  certificatePem?: string
  /** A federated credential: tokens from the test issuer with this subject. */
  federatedSubject?: string
  /** Secret names (lowercase) this identity may read and write, or 'all' / 'none'. */
  access: 'all' | 'none' | string[]
  /** Whether it has the Log Analytics Reader role on the workspace. */
  logAnalyticsReader?: boolean
  /** Its user principal name, for the upn claim (a user rather than an app). */
  upn?: string
  /** A user-assigned managed identity: the managed-identity endpoint hands out tokens for it by client id. */
  managed?: boolean
  /** Key names (lowercase) this identity may get, wrap and unwrap with; default: as `access`. */
  keys?: 'all' | 'none' | string[]
}

/**
 * One switchable fault; it applies to vault requests whose path contains `op` (all when absent). The
 * shared kinds answer 403 Forbidden, 429 Throttled with Retry-After (`retryAfter` seconds, default 0),
 * 500 InternalServerError, or drop the connection; `latency` delays the normal answer by `ms` and
 * `status` answers 503 ServiceUnavailable.
 */
export type Fault = ServerFault<
  'latency' | 'status',
  {
    /** Apply to the token endpoint instead of the vault. */
    token?: boolean
    retryAfter?: number
    ms?: number
    /** Only vault requests that carry a bearer token (not the first, unauthenticated one of the challenge). */
    authorized?: boolean
  }
>

interface Version {
  id: string
  value: string
  contentType?: string
  tags?: Record<string, string>
  enabled: boolean
  nbf?: number
  exp?: number
  created: number
  updated: number
}

interface KeyVersion {
  id: string
  privateKey: KeyObject
  publicKey: KeyObject
  ops: string[]
  enabled: boolean
  nbf?: number
  exp?: number
  created: number
  updated: number
}

interface Secret {
  name: string
  versions: Version[]
  deleted?: {deletedDate: number; scheduledPurgeDate: number}
}

interface Counters {
  requests: number
  vaultRequests: number
  tokenRequests: number
  challenges: number
  /** Vault requests refused because their token had expired (401 AKV10014 with a new challenge). */
  expiredTokens: number
  faults: number
  inFlight: number
  maxInFlight: number
  /** `METHOD path` of every vault request, in order. */
  log: string[]
  /** `client_id` (or `system`) of every managed-identity token request, in order. */
  managedIdentity: string[]
}

const now = () => Math.floor(Date.now() / 1000)

export class AzureTestServer {
  readonly tenantId: string
  readonly identities = new Map<string, TestIdentity>()
  readonly counters: Counters = {
    requests: 0,
    vaultRequests: 0,
    tokenRequests: 0,
    challenges: 0,
    expiredTokens: 0,
    faults: 0,
    inFlight: 0,
    maxInFlight: 0,
    log: [],
    managedIdentity: [],
  }
  /** Lifetime of issued access tokens, in seconds. */
  tokenLifetime = 3600
  /** Page size for list operations when the client gives no maxresults. */
  pageSize = 25
  readonly faults = new Faults<Fault>((f, path) =>
    f.op === undefined ? true : typeof f.op === 'string' ? path.includes(f.op) : f.op.test(path),
  )
  private readonly secrets = new Map<string, Secret>()
  private readonly keys = new Map<string, {name: string; versions: KeyVersion[]}>()
  private readonly signing = generateKeyPairSync('rsa', {modulusLength: 2048})
  private readonly issuerKey = generateKeyPairSync('rsa', {modulusLength: 2048})
  private readonly sockets = new Set<Socket>()
  private server?: Server
  private miServer?: ReturnType<typeof createHttpServer>
  private port = 0

  /** The Log Analytics workspace that receives the vault's AuditEvent logs. */
  readonly workspace: LogAnalyticsWorkspace

  private constructor(
    readonly tls: TestTls,
    options: {tenantId?: string},
  ) {
    this.tenantId = options.tenantId ?? randomUUID()
    this.workspace = new LogAnalyticsWorkspace(this.tenantId)
  }

  /** Start on an ephemeral port of 127.0.0.1. */
  static async start(options: {tenantId?: string; tls?: TestTls} = {}): Promise<AzureTestServer> {
    const s = new AzureTestServer(options.tls ?? generateTls(), options)
    s.server = createServer({key: s.tls.keyPem, cert: s.tls.certPem}, (req, res) => {
      s.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) s.json(res, 500, {error: {code: 'InternalError', message: String(error)}})
      })
    })
    s.server.on('connection', (socket: Socket) => {
      s.sockets.add(socket)
      socket.on('close', () => s.sockets.delete(socket))
    })
    s.server.on('tlsClientError', () => undefined)
    await new Promise<void>((resolve) => s.server!.listen(0, '127.0.0.1', resolve))
    s.port = (s.server.address() as AddressInfo).port
    return s
  }

  /** The vault's URL (also the authority host). */
  get url(): string {
    return `https://127.0.0.1:${this.port}`
  }

  get authorityHost(): string {
    return this.url
  }

  get caFile(): string {
    return this.tls.caFile
  }

  get federatedIssuer(): string {
    return `${this.url}/oidc-issuer`
  }

  addIdentity(identity: TestIdentity): void {
    this.identities.set(identity.clientId, identity)
  }

  /** A federated token (what a CI OIDC provider writes to AZURE_FEDERATED_TOKEN_FILE). */
  federatedToken(subject: string, lifetime = 600): string {
    const iat = now()
    return signJwt(
      {iss: this.federatedIssuer, sub: subject, aud: FEDERATED_AUDIENCE, iat, nbf: iat, exp: iat + lifetime},
      this.issuerKey.privateKey,
    )
  }

  /** Add a version of a secret directly (no HTTP). */
  seed(
    name: string,
    value: string,
    attrs: {enabled?: boolean; nbf?: number; exp?: number; contentType?: string; tags?: Record<string, string>} = {},
  ): string {
    return this.addVersion(name, {value, contentType: attrs.contentType, tags: attrs.tags, attributes: attrs}).id
  }

  /** Create a key (a new version if it exists) directly (no HTTP); returns its version id. */
  createKey(
    name: string,
    attrs: {ops?: string[]; enabled?: boolean; nbf?: number; exp?: number; size?: number} = {},
  ): string {
    const key = name.toLowerCase()
    const k = this.keys.get(key) ?? {name, versions: []}
    this.keys.set(key, k)
    const pair = generateKeyPairSync('rsa', {modulusLength: attrs.size ?? 2048})
    const t = now()
    const v: KeyVersion = {
      id: randomBytes(16).toString('hex'),
      ...pair,
      ops: attrs.ops ?? ['encrypt', 'decrypt', 'sign', 'verify', 'wrapKey', 'unwrapKey'],
      enabled: attrs.enabled ?? true,
      nbf: attrs.nbf,
      exp: attrs.exp,
      created: t,
      updated: t,
    }
    k.versions.push(v)
    return v.id
  }

  /** Enable or disable every version of a key (as `az keyvault key set-attributes --enabled`). */
  setKeyEnabled(name: string, enabled: boolean): void {
    for (const v of this.keys.get(name.toLowerCase())?.versions ?? []) v.enabled = enabled
  }

  versionsOf(name: string): number {
    return this.secrets.get(name.toLowerCase())?.versions.length ?? 0
  }

  isDeleted(name: string): boolean {
    return this.secrets.get(name.toLowerCase())?.deleted !== undefined
  }

  latest(name: string): Version | undefined {
    return this.secrets.get(name.toLowerCase())?.versions.at(-1)
  }

  resetCounters(): void {
    this.faults.resetCounts()
    Object.assign(this.counters, {
      requests: 0,
      vaultRequests: 0,
      tokenRequests: 0,
      challenges: 0,
      expiredTokens: 0,
      faults: 0,
      inFlight: 0,
      maxInFlight: 0,
      log: [],
      managedIdentity: [],
    })
  }

  /** An access token for the vault, as the token endpoint issues it (for a fake `az` to print). */
  issueToken(clientId: string, audience: string = VAULT_RESOURCE, upn?: string): {token: string; expiresOn: number} {
    const iat = now()
    const token = signJwt(
      {
        aud: audience,
        iss: `https://sts.windows.net/${this.tenantId}/`,
        iat,
        nbf: iat,
        exp: iat + this.tokenLifetime,
        appid: clientId,
        oid: clientId,
        sub: clientId,
        tid: this.tenantId,
        ver: '1.0',
        uti: randomBytes(8).toString('hex'),
        ...(upn === undefined ? {} : {upn}),
      },
      this.signing.privateKey,
      {kid: 'test-signing-key'},
    )
    return {token, expiresOn: iat + this.tokenLifetime}
  }

  /**
   * The App Service managed-identity endpoint on plain HTTP (127.0.0.1): GET <endpoint>?api-version=2019-08-01
   * &resource=...[&client_id=...] with the X-IDENTITY-HEADER secret. `systemAssigned` is the client id of
   * the system-assigned identity; user-assigned ones are the identities registered with `managed: true`.
   */
  async startManagedIdentityEndpoint(
    header: string,
    systemAssigned: string,
  ): Promise<{IDENTITY_ENDPOINT: string; IDENTITY_HEADER: string}> {
    this.miServer = createHttpServer((req, res) => this.managedIdentityToken(req, res, header, systemAssigned))
    await new Promise<void>((resolve) => this.miServer!.listen(0, '127.0.0.1', resolve))
    return {
      IDENTITY_ENDPOINT: `http://127.0.0.1:${(this.miServer.address() as AddressInfo).port}/msi/token`,
      IDENTITY_HEADER: header,
    }
  }

  private managedIdentityToken(
    req: IncomingMessage,
    res: ServerResponse,
    header: string,
    systemAssigned: string,
  ): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const fail = (status: number, message: string) =>
      this.json(res, status, {statusCode: status, message, correlationId: randomUUID()})
    if (req.method !== 'GET' || url.pathname !== '/msi/token')
      return fail(404, `No route for ${req.method} ${url.pathname}.`)
    if (req.headers['x-identity-header'] !== header)
      return fail(401, 'The X-IDENTITY-HEADER header is missing or wrong.')
    if (url.searchParams.get('api-version') !== '2019-08-01') return fail(400, 'Unsupported api-version.')
    const resource = url.searchParams.get('resource')
    if (resource !== VAULT_RESOURCE && resource !== `${VAULT_RESOURCE}/`)
      return fail(400, `AADSTS500011: The resource principal named ${resource} was not found in the tenant.`)
    const requested = url.searchParams.get('client_id')
    this.counters.tokenRequests++
    this.counters.managedIdentity.push(requested ?? 'system')
    if (requested !== null && this.identities.get(requested)?.managed !== true)
      return fail(400, `No user-assigned managed identity with client id ${requested} is assigned to this resource.`)
    const clientId = requested ?? systemAssigned
    const {token, expiresOn} = this.issueToken(clientId)
    // App Service answers expires_on as a string of epoch seconds.
    this.json(res, 200, {
      access_token: token,
      expires_on: String(expiresOn),
      resource,
      token_type: 'Bearer',
      client_id: clientId,
    })
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy()
    this.miServer?.closeAllConnections()
    await new Promise<void>((resolve) => this.miServer?.close(() => resolve()) ?? resolve())
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve())
    this.tls.cleanup()
  }

  // ---- dispatch ----

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.counters.requests++
    const url = new URL(req.url ?? '/', this.url)
    const body = await readBody(req)
    const path = decodeURIComponent(url.pathname)
    const first = path.split('/')[1] ?? ''
    const isLogs = first === 'v1'
    const isToken = first !== 'secrets' && first !== 'deletedsecrets' && first !== 'keys' && !isLogs
    this.faults.count(`${req.method} ${path}`)
    const authorized = req.headers.authorization !== undefined
    const fault = this.faults.take(path, (f) => Boolean(f.token) === isToken && (!f.authorized || authorized))
    if (fault?.kind === 'latency') await new Promise((r) => setTimeout(r, fault.ms))
    if (fault?.kind === 'reset') {
      this.counters.faults++
      req.socket.destroy()
      return
    }
    if (fault !== undefined && fault.kind !== 'latency') {
      this.counters.faults++
      this.answerFault(res, fault, path)
      return
    }
    if (isToken) {
      this.identityEndpoint(req, res, path, body)
      return
    }
    if (isLogs) {
      this.counters.log.push(`${req.method} ${path}`)
      this.logs(req, res, path, body)
      return
    }
    this.counters.vaultRequests++
    this.counters.inFlight++
    this.counters.maxInFlight = Math.max(this.counters.maxInFlight, this.counters.inFlight)
    this.counters.log.push(`${req.method} ${path}`)
    try {
      // Keep a request in flight a moment so concurrency is observable.
      await new Promise((r) => setTimeout(r, 5))
      const started = Date.now()
      this.vault(req, res, url, path, body)
      this.recordAudit(req, url, path, res.statusCode, Date.now() - started)
    } finally {
      this.counters.inFlight--
    }
  }

  private answerFault(res: ServerResponse, fault: Fault, path: string): void {
    if (fault.kind === 'denied') {
      const message = `Caller is not authorized to perform action on resource.\r\nResource: '/vaults/test${path.toLowerCase()}'\r\nAssignment: (not found)\r\nVault: test;location=westeurope\r\n`
      this.json(res, 403, {error: {code: 'Forbidden', message, innererror: {code: 'ForbiddenByRbac'}}})
      return
    }
    if (fault.kind === 'throttled') {
      const message =
        'Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached'
      this.json(res, 429, {error: {code: 'Throttled', message}}, {'Retry-After': String(fault.retryAfter ?? 0)})
      return
    }
    const status = fault.kind === 'status' ? 503 : 500
    const code = status === 503 ? 'ServiceUnavailable' : 'InternalServerError'
    this.json(res, status, {error: {code, message: 'The service encountered an internal error. Please try again.'}})
  }

  private json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = body === undefined ? '' : JSON.stringify(body)
    res.writeHead(status, {
      'Content-Type': 'application/json; charset=utf-8',
      'x-ms-request-id': randomUUID(),
      ...headers,
      'Content-Length': Buffer.byteLength(text),
    })
    res.end(text)
  }

  // ---- Entra ID ----

  private identityEndpoint(req: IncomingMessage, res: ServerResponse, path: string, body: string): void {
    const parts = path.split('/').filter(Boolean)
    const tenant = parts[0]
    const rest = parts.slice(1).join('/')
    const base = `${this.url}/${tenant}`
    if (rest === 'discovery/instance') {
      const host = `127.0.0.1:${this.port}`
      this.json(res, 200, {
        tenant_discovery_endpoint: `${base}/v2.0/.well-known/openid-configuration`,
        'api-version': '1.1',
        metadata: [{preferred_network: host, preferred_cache: host, aliases: [host]}],
      })
      return
    }
    if (tenant !== this.tenantId) {
      this.json(
        res,
        400,
        aadError(
          'invalid_request',
          90002,
          `AADSTS90002: Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
        ),
      )
      return
    }
    if (rest === 'v2.0/.well-known/openid-configuration') {
      this.json(res, 200, {
        token_endpoint: `${base}/oauth2/v2.0/token`,
        authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
        end_session_endpoint: `${base}/oauth2/v2.0/logout`,
        jwks_uri: `${base}/discovery/v2.0/keys`,
        issuer: `${base}/v2.0`,
        token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
        tenant_region_scope: 'EU',
      })
      return
    }
    if (rest === 'oauth2/v2.0/token' && req.method === 'POST') {
      this.counters.tokenRequests++
      this.token(res, new URLSearchParams(body), `${base}/oauth2/v2.0/token`)
      return
    }
    this.json(res, 404, aadError('invalid_request', 90000, `AADSTS90000: no such endpoint ${rest}`))
  }

  private token(res: ServerResponse, form: URLSearchParams, endpoint: string): void {
    if (form.get('grant_type') !== 'client_credentials') {
      this.json(
        res,
        400,
        aadError('unsupported_grant_type', 70003, 'AADSTS70003: The app requested an unsupported grant type.'),
      )
      return
    }
    const clientId = form.get('client_id') ?? ''
    const identity = this.identities.get(clientId)
    if (identity === undefined) {
      this.json(
        res,
        400,
        aadError(
          'unauthorized_client',
          700016,
          `AADSTS700016: Application with identifier '${clientId}' was not found in the directory '${this.tenantId}'.`,
        ),
      )
      return
    }
    const scope = form.get('scope') ?? ''
    const audience = [VAULT_RESOURCE, LOGS_RESOURCE].find((r) => scope.split(' ').includes(`${r}/.default`))
    if (audience === undefined) {
      this.json(
        res,
        400,
        aadError(
          'invalid_scope',
          70011,
          `AADSTS70011: The provided value for the input parameter 'scope' is not valid: ${scope}`,
        ),
      )
      return
    }
    const secret = form.get('client_secret')
    const assertion = form.get('client_assertion')
    if (secret !== null) {
      if (identity.secret === undefined || secret !== identity.secret) {
        this.json(
          res,
          401,
          aadError(
            'invalid_client',
            7000215,
            `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
          ),
        )
        return
      }
    } else if (assertion !== null) {
      if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
        this.json(
          res,
          400,
          aadError('invalid_request', 90019, 'AADSTS90019: client_assertion_type is missing or invalid.'),
        )
        return
      }
      const problem = this.checkAssertion(identity, assertion, endpoint)
      if (problem !== undefined) {
        this.json(res, 401, aadError('invalid_client', problem.code, problem.message))
        return
      }
    } else {
      this.json(
        res,
        401,
        aadError(
          'invalid_client',
          7000218,
          "AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        ),
      )
      return
    }
    const accessToken = this.issueToken(clientId, audience, identity.upn).token
    this.json(res, 200, {
      token_type: 'Bearer',
      expires_in: this.tokenLifetime,
      ext_expires_in: this.tokenLifetime,
      access_token: accessToken,
    })
  }

  private checkAssertion(
    identity: TestIdentity,
    assertion: string,
    endpoint: string,
  ): {code: number; message: string} | undefined {
    const decoded = decodeJwt(assertion)
    if (decoded === undefined) return {code: 50027, message: 'AADSTS50027: JWT token is invalid or malformed.'}
    const {claims} = decoded
    if (claims.iss === this.federatedIssuer) {
      const verified = verifyJwt(assertion, this.issuerKey.publicKey)
      if (verified === undefined) return {code: 50013, message: 'AADSTS50013: Assertion failed signature validation.'}
      if (typeof verified.exp !== 'number' || verified.exp < now())
        return {code: 700024, message: 'AADSTS700024: Client assertion is not within its valid time range.'}
      if (
        verified.aud !== FEDERATED_AUDIENCE ||
        identity.federatedSubject === undefined ||
        verified.sub !== identity.federatedSubject
      ) {
        return {
          code: 70021,
          message: `AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: '${verified.iss}'. Assertion Subject: '${verified.sub}'. Assertion Audience: '${verified.aud}'.`,
        }
      }
      return undefined
    }
    if (identity.certificatePem === undefined)
      return {
        code: 700027,
        message:
          'AADSTS700027: Client assertion contains an invalid signature. No certificate is registered for this application.',
      }
    const verified = verifyJwt(assertion, createPublicKey(identity.certificatePem) as KeyObject)
    if (verified === undefined)
      return {code: 700027, message: 'AADSTS700027: Client assertion contains an invalid signature.'}
    if (verified.aud !== endpoint || verified.iss !== identity.clientId || verified.sub !== identity.clientId) {
      return {
        code: 700021,
        message: "AADSTS700021: Client assertion application identifier doesn't match 'client_id' parameter.",
      }
    }
    if (typeof verified.exp !== 'number' || verified.exp < now())
      return {code: 700024, message: 'AADSTS700024: Client assertion is not within its valid time range.'}
    return undefined
  }

  // ---- Log Analytics (query API) and the vault's AuditEvent diagnostic logs ----

  /** Key Vault's AuditEvent for one answered request (what its diagnostic setting sends to the workspace). */
  private recordAudit(req: IncomingMessage, url: URL, path: string, status: number, durationMs: number): void {
    const method = req.method ?? 'GET'
    const [collection, name, third, fourth] = path.split('/').filter(Boolean)
    let operation: string
    if (collection === 'secrets') {
      if (name === undefined) operation = 'SecretList'
      else if (third === 'versions') operation = 'SecretListVersions'
      else if (method === 'PUT') operation = 'SecretSet'
      else if (method === 'DELETE') operation = 'SecretDelete'
      else if (method === 'PATCH') operation = 'SecretUpdate'
      else if (third === 'backup') operation = 'SecretBackup'
      else operation = 'SecretGet'
    } else {
      if (name === undefined) operation = 'SecretListDeleted'
      else if (third === 'recover') operation = 'SecretRecover'
      else if (method === 'DELETE') operation = 'SecretPurge'
      else operation = 'SecretGetDeleted'
    }
    const claims = decodeJwt(/^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '')?.claims
    const version =
      fourth === undefined &&
      third !== undefined &&
      third !== '' &&
      third !== 'versions' &&
      third !== 'recover' &&
      third !== 'backup'
        ? third
        : (operation === 'SecretGet' || operation === 'SecretSet') && status === 200 && name !== undefined
          ? this.latest(name)?.id
          : undefined
    this.workspace.record({
      time: new Date(),
      operation,
      status,
      vaultUrl: this.url,
      ...(name === undefined ? {} : {secret: name.toLowerCase()}),
      ...(version === undefined ? {} : {version}),
      requestUri: `${this.url}${url.pathname}${url.search}`,
      ...(claims?.appid ? {appId: String(claims.appid), oid: String(claims.oid ?? claims.appid)} : {}),
      ...(claims?.upn ? {upn: String(claims.upn)} : {}),
      callerIp: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
      correlationId: String(req.headers['x-ms-client-request-id'] ?? randomUUID()),
      durationMs,
    })
  }

  /** `POST|GET /v1/workspaces/{id}/query`: bearer token for api.loganalytics.io, Log Analytics Reader, then the query. */
  private logs(req: IncomingMessage, res: ServerResponse, path: string, body: string): void {
    const fail = (e: QueryError, headers: Record<string, string> = {}) => this.json(res, e.status, e.body(), headers)
    const m = /^\/v1\/workspaces\/([^/]+)\/query$/.exec(path)
    if (m === null) return fail(new QueryError(404, 'PathNotFoundError', `The requested path does not exist`))
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]
    const unauthorized = (message: string) =>
      fail(new QueryError(401, 'AuthorizationRequiredError', message), {
        'WWW-Authenticate': `Bearer authorization_uri="https://login.microsoftonline.com/${this.tenantId}", resource="${LOGS_RESOURCE}"`,
      })
    if (token === undefined) return unauthorized('Valid authentication was not provided')
    const claims = verifyJwt(token, this.signing.publicKey)
    if (claims === undefined || claims.tid !== this.tenantId || typeof claims.exp !== 'number' || claims.exp <= now())
      return unauthorized('Valid authentication was not provided')
    if (claims.aud !== LOGS_RESOURCE)
      return fail(
        new QueryError(401, 'InvalidTokenError', 'The provided authentication is not valid for this resource', {
          code: 'InvalidAudience',
          message: `Audience ${String(claims.aud)} is not valid for this resource`,
        }),
      )
    if (m[1] !== this.workspace.id)
      return fail(
        new QueryError(404, 'WorkspaceNotFoundError', `The workspace could not be found`, {
          code: 'WorkspaceNotFound',
          message: `Workspace ${m[1]} was not found`,
        }),
      )
    if (this.identities.get(String(claims.appid))?.logAnalyticsReader !== true) {
      return fail(
        new QueryError(
          403,
          'InsufficientAccessError',
          'The provided credentials have insufficient access to perform the requested operation',
          {
            code: 'InsufficientAccessError',
            message: `The identity ${String(claims.appid)} has no read access to workspace ${m[1]}`,
          },
        ),
      )
    }
    let params: {query?: unknown; timespan?: unknown}
    if (req.method === 'GET') {
      const q = new URL(req.url ?? '/', this.url).searchParams
      params = {query: q.get('query') ?? undefined, timespan: q.get('timespan') ?? undefined}
    } else {
      try {
        params = JSON.parse(body || '{}') as typeof params
      } catch {
        return fail(
          new QueryError(400, 'BadArgumentError', 'The request had some invalid properties', {
            code: 'InvalidJson',
            message: 'The request body is not valid JSON',
          }),
        )
      }
    }
    try {
      this.json(res, 200, this.workspace.query(params))
    } catch (error) {
      if (error instanceof QueryError) return fail(error)
      throw error
    }
  }

  // ---- Key Vault ----

  private challenge(res: ServerResponse, code: string, message: string): void {
    this.counters.challenges++
    this.json(
      res,
      401,
      {error: {code, message}},
      {
        'WWW-Authenticate': `Bearer authorization="https://login.microsoftonline.com/${this.tenantId}", resource="${VAULT_RESOURCE}"`,
      },
    )
  }

  private vault(req: IncomingMessage, res: ServerResponse, url: URL, path: string, body: string): void {
    const auth = req.headers.authorization
    if (auth === undefined) {
      this.challenge(res, 'Unauthorized', 'AKV10000: Request is missing a Bearer or PoP token.')
      return
    }
    const token = /^Bearer (.+)$/.exec(auth)?.[1] ?? ''
    const claims = verifyJwt(token, this.signing.publicKey)
    if (claims === undefined) {
      this.challenge(res, 'Unauthorized', 'AKV10032: Invalid issuer or signature.')
      return
    }
    if (claims.aud !== VAULT_RESOURCE) {
      this.challenge(
        res,
        'Unauthorized',
        `AKV10022: Invalid audience. Expected ${VAULT_RESOURCE}, found: ${claims.aud}.`,
      )
      return
    }
    if (claims.tid !== this.tenantId) {
      this.challenge(
        res,
        'Unauthorized',
        `AKV10032: Invalid issuer. Expected one of https://sts.windows.net/${this.tenantId}/, found https://sts.windows.net/${claims.tid}/.`,
      )
      return
    }
    if (typeof claims.exp !== 'number' || claims.exp <= now()) {
      this.counters.expiredTokens++
      this.challenge(res, 'Unauthorized', 'AKV10014: Token expired.')
      return
    }
    const apiVersion = url.searchParams.get('api-version')
    if (apiVersion === null) {
      this.json(res, 400, {error: {code: 'BadParameter', message: 'The api-version query parameter is missing.'}})
      return
    }
    if (!API_VERSIONS.has(apiVersion)) {
      this.json(res, 400, {
        error: {
          code: 'BadParameter',
          message: `The specified version (${apiVersion}) is not recognized. Consider using the latest supported version (2025-07-01).`,
        },
      })
      return
    }
    const identity = this.identities.get(String(claims.appid))
    const segs = path.split('/').filter(Boolean)
    const method = req.method ?? 'GET'
    const allowed = (name: string, op: string): boolean => {
      const access = identity?.access ?? 'none'
      if (access === 'all' || (Array.isArray(access) && access.includes(name.toLowerCase()))) return true
      this.json(res, 403, {
        error: {
          code: 'Forbidden',
          message: `Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: appid=${claims.appid};oid=${claims.oid}\r\nAction: 'Microsoft.KeyVault/vaults/secrets/${op}'\r\nResource: '/vaults/test/secrets/${name.toLowerCase()}'\r\nAssignment: (not found)\r\nVault: test;location=westeurope\r\n`,
          innererror: {code: 'ForbiddenByRbac'},
        },
      })
      return false
    }
    const listAllowed = (): boolean => {
      if (identity?.access === 'none' || identity === undefined) {
        this.json(res, 403, {
          error: {
            code: 'Forbidden',
            message: `Caller is not authorized to perform action on resource.\r\nCaller: appid=${claims.appid}\r\nAction: 'Microsoft.KeyVault/vaults/secrets/readMetadata/action'\r\n`,
            innererror: {code: 'ForbiddenByRbac'},
          },
        })
        return false
      }
      return true
    }
    const [collection, name, third, fourth] = segs
    if (collection === 'keys') {
      this.keysApi(res, method, path, body, identity, claims)
      return
    }
    if (collection === 'secrets' && name === undefined && method === 'GET') {
      if (listAllowed())
        this.list(
          res,
          url,
          [...this.secrets.values()]
            .filter((s) => !s.deleted && s.versions.length > 0)
            .map((s) => this.item(s, s.versions.at(-1)!)),
          '/secrets',
        )
      return
    }
    if (collection === 'secrets' && name !== undefined) {
      if (!/^[0-9a-zA-Z-]{1,127}$/.test(name)) {
        this.json(res, 400, {
          error: {code: 'BadParameter', message: `The request URI contains an invalid name: ${name}`},
        })
        return
      }
      const s = this.secrets.get(name.toLowerCase())
      const live = s !== undefined && !s.deleted ? s : undefined
      if (method === 'PUT' && third === undefined) {
        if (!allowed(name, 'setSecret/action')) return
        if (s?.deleted) {
          this.json(res, 409, {
            error: {
              code: 'Conflict',
              message: `Secret ${name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.`,
              innererror: {code: 'ObjectIsDeletedButRecoverable'},
            },
          })
          return
        }
        let params: any
        try {
          params = JSON.parse(body)
        } catch {
          params = undefined
        }
        if (typeof params?.value !== 'string') {
          this.json(res, 400, {error: {code: 'BadParameter', message: 'Property value is required.'}})
          return
        }
        const v = this.addVersion(name, params)
        this.json(res, 200, this.bundle(this.secrets.get(name.toLowerCase())!, v))
        return
      }
      if (method === 'DELETE' && third === undefined) {
        if (!allowed(name, 'delete')) return
        if (live === undefined) return this.notFound(res, name)
        live.deleted = {deletedDate: now(), scheduledPurgeDate: now() + 90 * 86400}
        this.json(res, 200, this.deletedBundle(live))
        return
      }
      if (method === 'GET' && third === 'versions' && fourth === undefined) {
        if (!listAllowed()) return
        if (live === undefined) return this.notFound(res, name)
        this.list(
          res,
          url,
          live.versions.map((v) => this.item(live, v)),
          `/secrets/${live.name}/versions`,
        )
        return
      }
      if ((method === 'GET' || method === 'PATCH') && fourth === undefined && third !== 'versions') {
        if (!allowed(name, method === 'GET' ? 'getSecret/action' : 'update')) return
        if (live === undefined) return this.notFound(res, name)
        const v =
          third === undefined || third === '' ? live.versions.at(-1)! : live.versions.find((x) => x.id === third)
        if (v === undefined) {
          this.json(res, 404, {
            error: {
              code: 'SecretNotFound',
              message: `A secret with (name/id) ${name}/${third} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`,
            },
          })
          return
        }
        if (method === 'PATCH') {
          const params = JSON.parse(body || '{}')
          if (params.contentType !== undefined) v.contentType = params.contentType
          if (params.tags !== undefined) v.tags = params.tags
          const a = params.attributes ?? {}
          if (a.enabled !== undefined) v.enabled = a.enabled
          if (a.exp !== undefined) v.exp = a.exp ?? undefined
          if (a.nbf !== undefined) v.nbf = a.nbf ?? undefined
          v.updated = now()
          this.json(res, 200, this.item(live, v))
          return
        }
        if (!v.enabled) {
          this.json(res, 403, {
            error: {
              code: 'Forbidden',
              message: 'Operation get is not allowed on a disabled secret.',
              innererror: {code: 'SecretDisabled'},
            },
          })
          return
        }
        this.json(res, 200, this.bundle(live, v))
        return
      }
    }
    if (collection === 'deletedsecrets') {
      if (name === undefined && method === 'GET') {
        if (listAllowed())
          this.list(
            res,
            url,
            [...this.secrets.values()]
              .filter((s) => s.deleted)
              .map((s) => ({...this.item(s, s.versions.at(-1)!), ...this.deletedFields(s)})),
            '/deletedsecrets',
          )
        return
      }
      if (name !== undefined) {
        const s = this.secrets.get(name.toLowerCase())
        if (
          !allowed(
            name,
            third === 'recover' ? 'recover/action' : method === 'DELETE' ? 'purge/action' : 'readMetadata/action',
          )
        )
          return
        if (s?.deleted === undefined) {
          this.json(res, 404, {error: {code: 'SecretNotFound', message: `Deleted Secret not found: ${name}`}})
          return
        }
        if (method === 'GET' && third === undefined) {
          this.json(res, 200, this.deletedBundle(s))
          return
        }
        if (method === 'POST' && third === 'recover') {
          s.deleted = undefined
          this.json(res, 200, this.bundle(s, s.versions.at(-1)!, false))
          return
        }
        if (method === 'DELETE' && third === undefined) {
          this.secrets.delete(name.toLowerCase())
          res.writeHead(204).end()
          return
        }
      }
    }
    this.json(res, 400, {error: {code: 'BadParameter', message: `The request URI ${method} ${path} is not supported.`}})
  }

  /** The keys subset: POST /keys/{name}/create, GET /keys/{name}/{version?}, POST /keys/{name}/{version?}/wrapkey|unwrapkey. */
  private keysApi(
    res: ServerResponse,
    method: string,
    path: string,
    body: string,
    identity: TestIdentity | undefined,
    claims: Record<string, any>,
  ): void {
    // Empty segments matter here: the SDK sends /keys/<name>//wrapkey for "the latest version".
    const [, , name = '', version, op, extra] = path.split('/')
    if (!/^[0-9a-zA-Z-]{1,127}$/.test(name) || extra !== undefined) {
      this.json(res, 400, {
        error: {code: 'BadParameter', message: `The request URI ${method} ${path} is not supported.`},
      })
      return
    }
    const action =
      method === 'GET'
        ? 'read'
        : version === 'create'
          ? 'create/action'
          : op === 'wrapkey'
            ? 'wrap/action'
            : op === 'unwrapkey'
              ? 'unwrap/action'
              : 'read'
    const access = identity?.keys ?? identity?.access ?? 'none'
    if (!(access === 'all' || (Array.isArray(access) && access.includes(name.toLowerCase())))) {
      this.json(res, 403, {
        error: {
          code: 'Forbidden',
          message: `Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: appid=${claims.appid};oid=${claims.oid}\r\nAction: 'Microsoft.KeyVault/vaults/keys/${action}'\r\nResource: '/vaults/test/keys/${name.toLowerCase()}'\r\nAssignment: (not found)\r\nVault: test;location=westeurope\r\n`,
          innererror: {code: 'ForbiddenByRbac'},
        },
      })
      return
    }
    let params: any = {}
    try {
      params = body === '' ? {} : JSON.parse(body)
    } catch {
      this.json(res, 400, {error: {code: 'BadParameter', message: 'The request body is not valid JSON.'}})
      return
    }
    if (method === 'POST' && version === 'create' && op === undefined) {
      if (params.kty !== 'RSA' && params.kty !== 'RSA-HSM') {
        this.json(res, 400, {
          error: {
            code: 'BadParameter',
            message: `Property kty has invalid value ${params.kty}; this test vault makes RSA keys only.`,
          },
        })
        return
      }
      const id = this.createKey(name, {
        ops: params.key_ops,
        size: params.key_size,
        enabled: params.attributes?.enabled,
        nbf: params.attributes?.nbf,
        exp: params.attributes?.exp,
      })
      const k = this.keys.get(name.toLowerCase())!
      this.json(
        res,
        200,
        this.keyBundle(
          k.name,
          k.versions.find((v) => v.id === id)!,
        ),
      )
      return
    }
    const k = this.keys.get(name.toLowerCase())
    const v = k === undefined ? undefined : version ? k.versions.find((x) => x.id === version) : k.versions.at(-1)
    if (k === undefined || v === undefined) {
      this.json(res, 404, {
        error: {
          code: 'KeyNotFound',
          message: `A key with (name/id) ${name}${version ? `/${version}` : ''} was not found in this key vault. If you recently deleted this key you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`,
        },
      })
      return
    }
    if (method === 'GET' && op === undefined) {
      this.json(res, 200, this.keyBundle(k.name, v))
      return
    }
    if (method !== 'POST' || (op !== 'wrapkey' && op !== 'unwrapkey')) {
      this.json(res, 400, {
        error: {code: 'BadParameter', message: `The request URI ${method} ${path} is not supported.`},
      })
      return
    }
    const operation = op === 'wrapkey' ? 'wrapKey' : 'unwrapKey'
    if (!v.enabled) {
      this.json(res, 403, {
        error: {
          code: 'Forbidden',
          message: `Operation ${operation} is not allowed on a disabled key.`,
          innererror: {code: 'KeyDisabled'},
        },
      })
      return
    }
    if (!v.ops.includes(operation)) {
      this.json(res, 403, {
        error: {
          code: 'Forbidden',
          message: `Operation ${operation} is not permitted for this key.`,
          innererror: {code: 'KeyOperationForbidden'},
        },
      })
      return
    }
    if (typeof params.value !== 'string' || !/^[A-Za-z0-9_-]*$/.test(params.value)) {
      this.json(res, 400, {
        error: {
          code: 'BadParameter',
          message: "Content of 'value' is not base64url.\r\nProperty 'value' is required.\r\n",
        },
      })
      return
    }
    const padding = params.alg === 'RSA1_5' ? constants.RSA_PKCS1_PADDING : constants.RSA_PKCS1_OAEP_PADDING
    const oaepHash = params.alg === 'RSA-OAEP-256' ? 'sha256' : 'sha1'
    if (!['RSA-OAEP-256', 'RSA-OAEP', 'RSA1_5'].includes(params.alg)) {
      this.json(res, 400, {error: {code: 'BadParameter', message: `Invalid algorithm ${params.alg} for an RSA key.`}})
      return
    }
    let out: Buffer
    try {
      const input = Buffer.from(params.value, 'base64url')
      out =
        op === 'wrapkey'
          ? publicEncrypt({key: v.publicKey, padding, oaepHash}, input)
          : privateDecrypt({key: v.privateKey, padding, oaepHash}, input)
    } catch {
      this.json(res, 400, {
        error: {
          code: 'BadParameter',
          message:
            op === 'wrapkey'
              ? 'The value is too long for this key.'
              : 'Unable to decrypt specified value with this key.',
        },
      })
      return
    }
    this.json(res, 200, {kid: `${this.url}/keys/${k.name}/${v.id}`, value: out.toString('base64url')})
  }

  private keyBundle(name: string, v: KeyVersion): Record<string, unknown> {
    const jwk = v.publicKey.export({format: 'jwk'}) as {n: string; e: string}
    return {
      key: {kid: `${this.url}/keys/${name}/${v.id}`, kty: 'RSA', key_ops: v.ops, n: jwk.n, e: jwk.e},
      attributes: {
        enabled: v.enabled,
        ...(v.nbf === undefined ? {} : {nbf: v.nbf}),
        ...(v.exp === undefined ? {} : {exp: v.exp}),
        created: v.created,
        updated: v.updated,
        recoverableDays: 90,
        recoveryLevel: 'Recoverable+Purgeable',
        exportable: false,
      },
    }
  }

  private notFound(res: ServerResponse, name: string): void {
    this.json(res, 404, {
      error: {
        code: 'SecretNotFound',
        message: `A secret with (name/id) ${name} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`,
      },
    })
  }

  private list(res: ServerResponse, url: URL, items: unknown[], base: string): void {
    const max = Number(url.searchParams.get('maxresults') ?? this.pageSize)
    if (!Number.isInteger(max) || max < 1 || max > 25) {
      this.json(res, 400, {error: {code: 'BadParameter', message: 'maxresults must be between 1 and 25.'}})
      return
    }
    const skip = Number(url.searchParams.get('$skiptoken') ?? '0')
    const page = items.slice(skip, skip + max)
    const next =
      skip + max < items.length
        ? `${this.url}${base}?api-version=${url.searchParams.get('api-version')}&$skiptoken=${skip + max}&maxresults=${max}`
        : null
    this.json(res, 200, {value: page, nextLink: next})
  }

  private addVersion(
    name: string,
    params: {
      value: string
      contentType?: string
      tags?: Record<string, string>
      attributes?: {enabled?: boolean; nbf?: number; exp?: number}
    },
  ): Version {
    const key = name.toLowerCase()
    let s = this.secrets.get(key)
    if (s === undefined) {
      s = {name, versions: []}
      this.secrets.set(key, s)
    }
    const t = now()
    const v: Version = {
      id: randomBytes(16).toString('hex'),
      value: params.value,
      contentType: params.contentType,
      tags: params.tags,
      enabled: params.attributes?.enabled ?? true,
      nbf: params.attributes?.nbf,
      exp: params.attributes?.exp,
      created: t,
      updated: t,
    }
    s.versions.push(v)
    return v
  }

  private attributes(v: Version): Record<string, unknown> {
    return {
      enabled: v.enabled,
      ...(v.nbf === undefined ? {} : {nbf: v.nbf}),
      ...(v.exp === undefined ? {} : {exp: v.exp}),
      created: v.created,
      updated: v.updated,
      recoverableDays: 90,
      recoveryLevel: 'Recoverable+Purgeable',
    }
  }

  private item(s: Secret, v: Version): Record<string, unknown> {
    return {
      id: `${this.url}/secrets/${s.name}/${v.id}`,
      attributes: this.attributes(v),
      ...(v.tags ? {tags: v.tags} : {}),
      ...(v.contentType ? {contentType: v.contentType} : {}),
    }
  }

  private bundle(s: Secret, v: Version, withValue = true): Record<string, unknown> {
    return {...(withValue ? {value: v.value} : {}), ...this.item(s, v), id: `${this.url}/secrets/${s.name}/${v.id}`}
  }

  private deletedFields(s: Secret): Record<string, unknown> {
    return {
      recoveryId: `${this.url}/deletedsecrets/${s.name}`,
      deletedDate: s.deleted!.deletedDate,
      scheduledPurgeDate: s.deleted!.scheduledPurgeDate,
    }
  }

  private deletedBundle(s: Secret): Record<string, unknown> {
    return {...this.item(s, s.versions.at(-1)!), ...this.deletedFields(s)}
  }
}

function aadError(error: string, code: number, description: string): Record<string, unknown> {
  return {
    error,
    error_description: `${description}\r\nTrace ID: ${randomUUID()}\r\nCorrelation ID: ${randomUUID()}\r\nTimestamp: ${new Date().toISOString()}`,
    error_codes: [code],
    timestamp: new Date().toISOString(),
    trace_id: randomUUID(),
    correlation_id: randomUUID(),
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}
