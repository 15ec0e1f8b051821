import {createHmac, webcrypto} from 'node:crypto'
import {closeSync, fstatSync, openSync, readSync} from 'node:fs'

import {edgeLine, readLine} from './chain-line.js'
import {fastMac, loadAuditKeys, type AuditKeys} from './key.js'
import {lineChunks, type AuditSnapshot, type SegmentSnapshot} from './read.js'
import {SecretsError} from '../../errors.js'
import {GENESIS, headMac, segmentName} from './record.js'

// Seals and the head file. A seal is the HMAC of a whole sealed segment, made at rollover after checking
// its chain and carried by the next segment's first record, so the chain check can take a sealed segment
// in one pass. Neither is needed on an ordinary append, so none of this loads on exec's path.

/** The head file's content: the last sequence number and a MAC over it and the last record's link. */
export interface Head {
  kid: string
  seq: number
  mac: string
}

export function parseHead(text: string, file: string): Head {
  try {
    const h = JSON.parse(text) as Partial<Record<keyof Head, unknown>>
    if (typeof h.kid === 'string' && Number.isSafeInteger(h.seq) && typeof h.mac === 'string') return h as Head
  } catch {
    // Reported below.
  }
  throw new SecretsError('INTEGRITY', `The access log's head file ${file} is corrupt.`, {
    suggestions: ['It holds the last sequence number and link; restore it from a backup of the log.'],
  })
}

/** The segment number and the predecessor's seal that the first record of a file carries, if any. */
export function firstInfo(seg: SegmentSnapshot): {seg?: number; seal?: string} {
  const buf = Buffer.alloc(Math.min(seg.size, 4096))
  readSync(seg.fd, buf, 0, buf.length, 0)
  const nl = buf.indexOf(10)
  try {
    const r = JSON.parse(buf.toString('utf8', 0, nl === -1 ? buf.length : nl)) as {seg?: unknown; seal?: unknown}
    return {
      seg: Number.isSafeInteger(r.seg) ? (r.seg as number) : undefined,
      seal: typeof r.seal === 'string' ? r.seal : undefined,
    }
  } catch {
    return {}
  }
}

/** HMAC-SHA256 of a whole segment file under the seal key. */
export function segmentSeal(keys: AuditKeys, seg: SegmentSnapshot): string {
  const h = createHmac('sha256', keys.seal)
  const buf = Buffer.alloc(Math.min(8 * 1024 * 1024, Math.max(seg.size, 1)))
  for (let pos = 0; pos < seg.size;) {
    const n = readSync(seg.fd, buf, 0, Math.min(buf.length, seg.size - pos), pos)
    if (n === 0) break
    h.update(buf.subarray(0, n))
    pos += n
  }
  return h.digest('hex')
}

/** Sealed segments up to this size are read whole and hashed on the thread pool; bigger ones stream. */
const PARALLEL_SEAL_BYTES = 64 * 1024 * 1024

/**
 * The seals of the sealed segments, computed before the chain walk: hashing the sealed segments is most
 * of the chain check's work (one HMAC-SHA256 pass over the log), and WebCrypto runs it on libuv's thread pool, so
 * two segments at a time use both cores. Identical to segmentSeal(); any failure here (a key that cannot
 * be read, ...) leaves the map empty, and checkSnapshot reports it in its own order.
 */
export async function precomputeSeals(
  snapshot: AuditSnapshot,
  env: NodeJS.ProcessEnv,
): Promise<Map<SegmentSnapshot, string>> {
  const out = new Map<SegmentSnapshot, string>()
  const sealed = snapshot.segments.filter((s) => s.n !== undefined && s.size > 0 && s.size <= PARALLEL_SEAL_BYTES)
  if (sealed.length < 2) return out
  let key: webcrypto.CryptoKey
  try {
    key = await webcrypto.subtle.importKey(
      'raw',
      loadAuditKeys(env, {create: false, logExists: true}).seal,
      {name: 'HMAC', hash: 'SHA-256'},
      false,
      ['sign'],
    )
  } catch {
    return out
  }
  let next = 0
  const lane = async () => {
    while (next < sealed.length) {
      const seg = sealed[next++]
      const buf = Buffer.allocUnsafe(seg.size)
      let pos = 0
      for (let n = 1; pos < seg.size && n > 0; pos += n) n = readSync(seg.fd, buf, pos, seg.size - pos, pos)

      out.set(seg, Buffer.from(await webcrypto.subtle.sign('HMAC', key, buf.subarray(0, pos))).toString('hex'))
    }
  }
  await Promise.all([lane(), lane()])
  return out
}

/**
 * At rollover, under the lock: the seal for the active file, if its whole chain holds, from the link to
 * the previous segment's last record through to the head; otherwise none, and the chain check then takes
 * that segment record by record (and reports what is wrong with it).
 */
export function sealIfIntact(
  log: string,
  seg: SegmentSnapshot,
  keys: AuditKeys,
  headText: string | undefined,
): string | undefined {
  const mac = fastMac(keys.chain)
  const {seg: n} = firstInfo(seg)
  if (n === undefined) return undefined
  let expectedPrev = GENESIS
  let expectedSeq = 1
  if (n > 1) {
    let fd: number
    try {
      fd = openSync(segmentName(log, n - 1), 'r')
    } catch {
      return undefined
    }
    try {
      const before = edgeLine({file: segmentName(log, n - 1), fd, size: fstatSync(fd).size}, 'last', mac)
      if (before === undefined) return undefined
      expectedPrev = before.link
      expectedSeq = before.seq + 1
    } finally {
      closeSync(fd)
    }
  }
  const chunks = lineChunks(seg)
  let step = chunks.next()
  while (!step.done) {
    const {buf, end} = step.value
    for (let start = 0; start < end;) {
      const nl = buf.indexOf(10, start)
      const line = readLine(buf, start, nl, seg.file, 0, mac, false)
      start = nl + 1
      if ('corrupt' in line || line.v !== 2 || line.prev !== expectedPrev || line.seq !== expectedSeq) return undefined
      expectedPrev = line.link
      expectedSeq += 1
    }
    step = chunks.next()
  }
  if (step.value.torn > 0 || headText === undefined) return undefined
  try {
    const head = parseHead(headText, '')
    if (head.kid !== keys.kid || head.seq !== expectedSeq - 1 || headMac(keys, head.seq, expectedPrev) !== head.mac)
      return undefined
  } catch {
    return undefined
  }
  return segmentSeal(keys, seg)
}
