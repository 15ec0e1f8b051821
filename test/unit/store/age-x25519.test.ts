import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {describe, it} from 'node:test'
import * as age from 'age-encryption'

import {bech32Decode, bech32Encode, decryptX25519, parseX25519Identity} from '../../../src/core/store/age-x25519.js'

async function encryptTo(data: Uint8Array, ...recipients: string[]): Promise<Buffer> {
  const e = new age.Encrypter()
  for (const r of recipients) e.addRecipient(r)
  return Buffer.from(await e.encrypt(data))
}

describe('age X25519 on node:crypto, checked against the age library', () => {
  it('derives the same recipient as the age library for random identities', async () => {
    for (let i = 0; i < 20; i++) {
      const identity = await age.generateIdentity()

      assert.equal(parseX25519Identity(identity).recipient, await age.identityToRecipient(identity))
    }
  })

  it('round-trips bech32 and rejects a flipped character', () => {
    const bytes = randomBytes(32)
    const text = bech32Encode('age', bytes)
    assert.deepEqual(bech32Decode(text), {hrp: 'age', bytes})
    const flipped = text.slice(0, 10) + (text[10] === 'q' ? 'p' : 'q') + text.slice(11)
    assert.throws(() => bech32Decode(flipped), /bad checksum/)
    assert.throws(() => bech32Decode(text.slice(0, 8) + text.slice(8).toUpperCase()), /mixed case/)
  })

  it('opens files the age library wrote, of every size around the 64 KiB chunk boundary', async () => {
    const identity = await age.generateIdentity()
    const other = await age.generateIdentity()
    const mine = parseX25519Identity(identity)
    for (const size of [0, 1, 32, 65_535, 65_536, 65_537, 131_072, 200_000]) {
      const data = randomBytes(size)

      const file = await encryptTo(data, await age.identityToRecipient(other), mine.recipient)
      assert.deepEqual(decryptX25519(file, mine), data, `size ${size}`)
    }
  })

  it('returns undefined for a file not encrypted to the identity', async () => {
    const file = await encryptTo(randomBytes(32), await age.identityToRecipient(await age.generateIdentity()))
    assert.equal(decryptX25519(file, parseX25519Identity(await age.generateIdentity())), undefined)
  })

  it('refuses a tampered header, a tampered payload and a truncated file', async () => {
    const identity = parseX25519Identity(await age.generateIdentity())
    const file = await encryptTo(randomBytes(100), identity.recipient)
    const headerEnd = file.indexOf('\n---') + 1
    const badMac = Buffer.from(file)
    badMac[headerEnd + 5] ^= badMac[headerEnd + 5] === 0x41 ? 0x02 : 0x01
    assert.throws(() => decryptX25519(badMac, identity), /age:/)
    const badPayload = Buffer.from(file)
    badPayload[file.length - 3] ^= 1
    assert.throws(() => decryptX25519(badPayload, identity), /payload authentication failed/)
    assert.throws(() => decryptX25519(file.subarray(0, file.length - 20), identity), /payload authentication failed/)
    assert.throws(() => decryptX25519(file.subarray(0, 30), identity), /truncated header/)
  })
})
