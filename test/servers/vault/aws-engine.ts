/**
 * Vault's AWS secrets engine, STS credentials only: `GET` or `POST <mount>/sts/<role>` as
 * ../shared/specs/vault/api-docs/secret/aws.mdx ("Generate Credentials") and openapi.json
 * (`/{aws_mount_path}/sts/{name}`: get and post) describe it.
 *
 * - Parameters `ttl` (a duration string, default the role's `default_sts_ttl`, capped at `max_sts_ttl`),
 *   `role_arn` (required when the role allows more than one) and `role_session_name`; from the query of a
 *   GET or the JSON body of a POST.
 * - Answers `access_key`, `secret_key`, `security_token` and `arn` under a lease `<mount>/sts/<role>/<random>`
 *   that is not renewable (STS credentials cannot be extended). Revoking it marks it revoked; real STS
 *   credentials live on until their TTL, which Vault's docs say, but a test wants to see the revocation.
 * - The keys are made up (`ASIA...`): nothing here talks to AWS.
 */
import {randomBytes} from 'node:crypto'

import {LeasedEngine, LeaseError, seconds, type LeaseRecord} from './leased-engine.js'

export interface AwsStsRole {
  roleArns: string[]
  /** Seconds. */
  defaultStsTtl: number
  maxStsTtl: number
}

export interface StsCredential extends LeaseRecord {
  accessKey: string
  secretKey: string
  securityToken: string
  arn: string
  /** The parameters as sent (query or body). */
  request: Record<string, unknown>
}

export class AwsEngine extends LeasedEngine<StsCredential> {
  readonly roles = new Map<string, AwsStsRole>()

  constructor(mount: string) {
    super(mount, 'aws')
  }

  /** `vault read|write <mount>/sts/<role> [ttl=...]`: the response body. */
  sts(role: string, params: Record<string, unknown>, requestId: string): Record<string, unknown> {
    const r = this.roles.get(role)
    if (r === undefined) throw new LeaseError(400, [`role "${role}" not found`])
    const arn = typeof params.role_arn === 'string' && params.role_arn !== '' ? params.role_arn : undefined
    if (arn === undefined && r.roleArns.length !== 1)
      throw new LeaseError(400, ['the role_arn parameter is required when the Vault role allows more than one ARN'])
    if (arn !== undefined && !r.roleArns.includes(arn))
      throw new LeaseError(400, [`role_arn ${arn} is not one of the role's allowed ARNs`])
    const ttl = Math.min(seconds(params.ttl) ?? r.defaultStsTtl, r.maxStsTtl)
    const session = typeof params.role_session_name === 'string' ? params.role_session_name : `vault-${role}`
    const now = Date.now()
    const cred: StsCredential = {
      id: `${this.mount}/sts/${role}/${randomBytes(12).toString('base64url')}`,
      path: `${this.mount}/sts/${role}`,
      accessKey: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
      secretKey: randomBytes(30).toString('base64'),
      securityToken: randomBytes(60).toString('base64'),
      arn: `${(arn ?? r.roleArns[0]).replace(':iam::', ':sts::').replace(':role/', ':assumed-role/')}/${session}`,
      request: params,
      issued: now,
      expires: now + ttl * 1000,
    }
    return this.grant(cred, requestId, {
      ttl,
      renewable: false,
      data: {access_key: cred.accessKey, secret_key: cred.secretKey, security_token: cred.securityToken, arn: cred.arn},
    })
  }
}
