// The trail suite (test/suites/trail.ts) for every provider fixture; the ones without a trail skip it.
import {AwsFixture} from '../providers/aws/fixture.js'
import {AzureFixture} from '../providers/azure/fixture.js'
import {LocalFixture} from '../providers/local/fixture.js'
import {VaultFixture} from '../providers/vault/fixture.js'
import {forEachFixture} from './each.js'
import type {ProviderFixture} from './fixture.js'
import {trailSuite} from './trail.js'

const fixtures: Array<[string, ProviderFixture]> = [
  ['local (no trail)', new LocalFixture()],
  ['vault (file audit device)', new VaultFixture({mode: 'kv1'})],
  ['aws (CloudTrail)', new AwsFixture()],
  ['azure (Log Analytics)', new AzureFixture()],
]
forEachFixture('audit trail', fixtures, trailSuite)
