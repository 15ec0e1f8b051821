// The key-service suite (test/suites/key-service.ts) for every provider fixture; the ones without a key service skip it.
import {AwsFixture} from '../providers/aws/fixture.js'
import {AzureFixture} from '../providers/azure/fixture.js'
import {LocalFixture} from '../providers/local/fixture.js'
import {VaultFixture} from '../providers/vault/fixture.js'
import {forEachFixture} from './each.js'
import type {ProviderFixture} from './fixture.js'
import {keyServiceSuite} from './key-service.js'

const fixtures: Array<[string, ProviderFixture]> = [
  ['local (no key service)', new LocalFixture()],
  ['vault transit as a store recipient', new VaultFixture({mode: 'kv2-mtls'})],
  ['aws kms as a store recipient', new AwsFixture()],
  ['azure key vault keys as a store recipient', new AzureFixture()],
]
forEachFixture('key service', fixtures, keyServiceSuite)
