import {randomBytes} from 'node:crypto'
import {writeFileSync} from 'node:fs'
import * as age from 'age-encryption'

import {keyIdOf, serializeStore, STORE_FORMAT, type StoreDoc} from '../../src/core/store/format.js'
import {seal} from '../../src/core/store/seal.js'

/**
 * What an attacker who can write a store file but knows only public keys can make: a whole new store,
 * a fresh data key wrapped (with age-encryption) to the victim's public key, values of their choosing,
 * and a valid MAC.
 */
export async function forgeStore(file: string, victim: string, values: Record<string, string>): Promise<void> {
  const dataKey = randomBytes(32)
  const e = new age.Encrypter()
  e.addRecipient(victim)
  const wrapped = Buffer.from(await e.encrypt(dataKey)).toString('base64')
  const created = new Date().toISOString()
  const secrets: StoreDoc['secrets'] = {}
  for (const [name, value] of Object.entries(values)) {
    const sealed = seal(dataKey, name, 1, Buffer.from(value))
    secrets[name] = {current: 1, versions: [{version: 1, created, actor: 'mallory@host', ...sealed}]}
  }
  const recipients = [{type: 'age', recipient: victim, added: created, wrapped}]
  writeFileSync(file, serializeStore({format: STORE_FORMAT, keyId: keyIdOf(dataKey), recipients, secrets}, dataKey))
}
