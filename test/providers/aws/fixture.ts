import {randomBytes} from 'node:crypto'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {Sandbox} from '../../helpers/cli.js'
import {SecretsManagerServer} from '../../servers/aws/server.js'
import type {Fault, FixtureCapabilities, ProviderFixture} from '../../suites/fixture.js'

const ACCESS_KEY_ID = 'AKIACONFORMANCE00001'
const SECRET_ACCESS_KEY = 'conformance-secret-key'

/** The Secrets Manager test server (plain http on loopback), reached with static keys from AWS_* variables. */
export class AwsFixture implements ProviderFixture {
  readonly kind = 'aws'
  readonly alias = 'aws'
  readonly capabilities: FixtureCapabilities = {trail: true, keyService: true, faults: true}
  readonly sandbox = new Sandbox()
  private sm?: SecretsManagerServer

  get server(): SecretsManagerServer {
    if (this.sm === undefined) throw new Error('the aws fixture is not started')
    return this.sm
  }

  get cwd(): string {
    return this.sandbox.project
  }

  async start(): Promise<void> {
    this.sm = await SecretsManagerServer.start({
      credentials: [
        {
          accessKeyId: ACCESS_KEY_ID,
          secretAccessKey: SECRET_ACCESS_KEY,
          arn: 'arn:aws:iam::123456789012:user/conformance',
        },
      ],
    })
    await this.sandbox.init()
    writeFileSync(
      join(this.cwd, 'secrets.yaml'),
      `providers:\n  local: {type: local, path: .secrets/store.json}\n${this.yaml()}`,
    )
  }

  async stop(): Promise<void> {
    this.sandbox.cleanup()
    await this.sm?.close()
  }

  env(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
    return this.sandbox.env({
      AWS_ENDPOINT_URL_SECRETS_MANAGER: this.server.url,
      AWS_ENDPOINT_URL_KMS: this.server.url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY,
      AWS_EC2_METADATA_DISABLED: 'true',
      ...extra,
    })
  }

  async trailSetup(): Promise<{yaml: string; args: string[]}> {
    return {yaml: `  ${this.alias}: {type: aws, region: us-east-1, cloudTrailEndpoint: ${this.server.url}}\n`, args: []}
  }

  keyRecipient(): string {
    const alias = `alias/suite-${randomBytes(3).toString('hex')}`
    this.server.createKmsKey([alias])
    return `awskms://${alias}`
  }

  yaml(): string {
    return `  ${this.alias}: {type: aws, region: us-east-1}\n`
  }

  refFor(name: string): string {
    return `aws://conformance/${name}`
  }

  async seed(name: string, value: string): Promise<void> {
    this.server.seed(`conformance/${name}`, value)
  }

  inject(fault: Fault): void {
    this.server.faults.inject(fault)
  }

  counts(): Record<string, number> {
    return this.server.counts
  }

  reset(): void {
    this.server.faults.reset()
  }
}
