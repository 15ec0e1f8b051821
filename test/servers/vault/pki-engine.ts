/**
 * Vault's PKI secrets engine, as far as issuing goes: `POST <mount>/issue/<role>` as
 * ../shared/specs/vault/openapi.json describes it (`pki-issue-with-role`: PkiIssueWithRoleRequest with
 * `common_name`, `alt_names`, `ttl` ...; PkiIssueWithRoleResponse with `certificate`, `issuing_ca`,
 * `ca_chain`, `private_key`, `private_key_type`, `serial_number`, `expiration`).
 *
 * - Only a write issues (`GET` is 405 `unsupported operation`, as Vault answers a read of a write-only path).
 * - `common_name` is required and must be allowed by the role (`allowed_domains`, `allow_subdomains`).
 * - A role with `generate_lease` (the default here, as the tests want leases) puts the certificate under a
 *   lease `<mount>/issue/<role>/<random>` of the certificate's TTL, not renewable (Vault's PKI leases are
 *   not); revoking the lease revokes the certificate (its serial joins `revokedSerials`).
 * - The certificate is real: an EC P-256 key and an X.509 certificate signed by the engine's own CA
 *   (openssl), so a test can check that the certificate and the private key belong together.
 */
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {randomBytes} from 'node:crypto'

import {LeasedEngine, LeaseError, seconds, type LeaseRecord} from './leased-engine.js'

export interface PkiRole {
  /** Seconds. */
  ttl: number
  maxTtl: number
  allowedDomains: string[]
  allowSubdomains?: boolean
}

export interface IssuedCertificate extends LeaseRecord {
  commonName: string
  serial: string
  certificate: string
  privateKey: string
  /** The request body, as sent. */
  request: Record<string, unknown>
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, {cwd: dir, stdio: ['ignore', 'ignore', 'pipe']})
}

export class PkiEngine extends LeasedEngine<IssuedCertificate> {
  readonly roles = new Map<string, PkiRole>()
  readonly revokedSerials = new Set<string>()
  readonly caCertificate: string
  private readonly dir: string

  constructor(mount: string) {
    super(mount, 'pki')
    this.dir = mkdtempSync(join(tmpdir(), 'vault-pki-'))
    openssl(this.dir, [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-subj',
      '/CN=vault-test-pki-ca',
      '-days',
      '2',
    ])
    this.caCertificate = readFileSync(join(this.dir, 'ca.pem'), 'utf8').trim()
  }

  close(): void {
    rmSync(this.dir, {recursive: true, force: true})
  }

  /** `vault write <mount>/issue/<role> common_name=...`: the response body. */
  issue(role: string, body: Record<string, unknown>, requestId: string): Record<string, unknown> {
    const r = this.roles.get(role)
    if (r === undefined) throw new LeaseError(400, [`unknown role: ${role}`])
    const cn = body.common_name
    if (typeof cn !== 'string' || cn === '')
      throw new LeaseError(400, [
        'the common_name field is required, or must be provided in a CSR with "use_csr_common_name" set to true, unless "require_cn" is set to false',
      ])
    const allowed = r.allowedDomains.some((d) => cn === d || (r.allowSubdomains === true && cn.endsWith(`.${d}`)))
    if (!allowed || !/^[a-z0-9.-]+$/.test(cn)) throw new LeaseError(400, [`common name ${cn} not allowed by this role`])
    const ttl = Math.min(seconds(body.ttl) ?? r.ttl, r.maxTtl)
    const serialHex = randomBytes(16).toString('hex')
    const name = randomBytes(6).toString('hex')
    openssl(this.dir, [
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${cn}`,
    ])
    openssl(this.dir, [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-set_serial',
      `0x${serialHex}`,
      '-days',
      '1',
      '-out',
      `${name}.pem`,
    ])
    const certificate = readFileSync(join(this.dir, `${name}.pem`), 'utf8').trim()
    const privateKey = readFileSync(join(this.dir, `${name}.key`), 'utf8').trim()
    for (const f of ['key', 'csr', 'pem']) rmSync(join(this.dir, `${name}.${f}`))
    const serial = serialHex.match(/../g)!.join(':')
    const now = Date.now()
    const lease: IssuedCertificate = {
      id: `${this.mount}/issue/${role}/${randomBytes(12).toString('base64url')}`,
      path: `${this.mount}/issue/${role}`,
      commonName: cn,
      serial,
      certificate,
      privateKey,
      request: body,
      issued: now,
      expires: now + ttl * 1000,
    }
    return this.grant(lease, requestId, {
      ttl,
      renewable: false,
      data: {
        certificate,
        issuing_ca: this.caCertificate,
        ca_chain: [this.caCertificate],
        private_key: privateKey,
        private_key_type: 'ec',
        serial_number: serial,
        expiration: Math.floor(lease.expires / 1000),
      },
    })
  }

  protected override ended(l: IssuedCertificate): void {
    this.revokedSerials.add(l.serial)
  }
}
