// The error matrix (test/suites/errors.ts) for every provider fixture with a server.
import {AwsFixture} from '../providers/aws/fixture.js'
import {AzureFixture} from '../providers/azure/fixture.js'
import {LocalFixture} from '../providers/local/fixture.js'
import {VaultFixture} from '../providers/vault/fixture.js'
import {errorMatrix} from './errors.js'
import {forEachFixture} from './each.js'
import type {ProviderFixture} from './fixture.js'

const fixtures: Array<[string, ProviderFixture]> = [
  ['local', new LocalFixture()],
  ['vault (KV v2 over mutual TLS)', new VaultFixture({mode: 'kv2-mtls'})],
  ['aws', new AwsFixture()],
  ['azure', new AzureFixture()],
]
forEachFixture('error matrix', fixtures, errorMatrix)
