// Reading values: plain references go through BatchGetSecretValue (20 ids a call, several calls in flight),
// a stage or version id through GetSecretValue, and a denied batch falls back to one call per secret.
import {BatchGetSecretValueCommand, GetSecretValueCommand, type SecretValueEntry} from '@aws-sdk/client-secrets-manager'

import {checkParams, type Reference} from '../../core/reference.js'
import {SecretValue} from '../../core/secret-value.js'
import {SecretsError} from '../../errors.js'
import type {ReadOutcome} from '../types.js'
import {awsError, errorName} from './errors.js'
import type {AwsRotationHost} from './rotation.js'

/** BatchGetSecretValue takes at most this many secret ids per call (the API's limit). */
export const BATCH_LIMIT = 20
const STAGES = ['AWSCURRENT', 'AWSPREVIOUS', 'AWSPENDING']
export const READ_PARAMS = ['stage', 'version', 'versionId', 'encoding']

/** What one reference asks AWS for. */
export interface Want {
  secretId: string
  versionId?: string
  stage?: string
  base64: boolean
}

type Fetched = {ok: true; entry: SecretValueEntry} | {ok: false; error: SecretsError}

function want(ref: Reference): Want {
  checkParams(ref, READ_PARAMS)
  const {stage, encoding} = ref.params
  const versionId = ref.params.versionId ?? ref.params.version
  if (ref.params.versionId !== undefined && ref.params.version !== undefined) {
    throw new SecretsError('REFERENCE_INVALID', `Invalid reference ${ref.raw}: give version or versionId, not both.`, {
      ref: ref.raw,
    })
  }
  if (stage !== undefined && !/^[\w.-]{1,256}$/.test(stage)) {
    throw new SecretsError(
      'REFERENCE_INVALID',
      `Invalid reference ${ref.raw}: stage must be a staging label such as ${STAGES.join(', ')}.`,
      {ref: ref.raw},
    )
  }
  if (versionId !== undefined && !/^[\w-]{32,64}$/.test(versionId)) {
    throw new SecretsError(
      'REFERENCE_INVALID',
      `Invalid reference ${ref.raw}: an AWS version id is 32 to 64 letters, digits and "-" (a UUID).`,
      {ref: ref.raw},
    )
  }
  if (encoding !== undefined && encoding !== 'base64') {
    throw new SecretsError('REFERENCE_INVALID', `Invalid reference ${ref.raw}: encoding can only be base64.`, {
      ref: ref.raw,
    })
  }
  return {secretId: ref.path, versionId, stage, base64: encoding === 'base64'}
}

/** Run `fn` over `items` with at most `limit` calls in flight. */
async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = Array.from({length: items.length})
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++

      out[i] = await fn(items[i])
    }
  }
  await Promise.all(Array.from({length: Math.min(limit, items.length)}, worker))
  return out
}

/** Whether a reference asks for the current version (the only one BatchGetSecretValue returns). */
function isCurrent(w: Want): boolean {
  return w.versionId === undefined && (w.stage === undefined || w.stage === 'AWSCURRENT')
}

const key = (w: Want) => `${w.secretId}\u0000${w.versionId ?? ''}\u0000${w.stage ?? ''}`
const plain = (secretId: string): Want => ({secretId, base64: false})

export function toValue(entry: SecretValueEntry, base64: boolean): SecretValue {
  if (entry.SecretString !== undefined)
    return new SecretValue(base64 ? Buffer.from(entry.SecretString).toString('base64') : entry.SecretString)
  const bytes = Buffer.from(entry.SecretBinary ?? new Uint8Array())
  return new SecretValue(base64 ? bytes.toString('base64') : bytes)
}

/** The outcome of one reference, from what was fetched for it; the error is re-made to name this reference. */
function outcome(ref: Reference, w: Want, f: Fetched | undefined): ReadOutcome {
  if (f === undefined)
    return {
      ok: false,
      ref,
      error: new SecretsError('INTERNAL', `No answer was kept for ${ref.raw}.`, {ref: ref.raw}),
    }
  if (!f.ok)
    return {
      ok: false,
      ref,
      error: new SecretsError(f.error.code, f.error.message, {
        ref: ref.raw,
        suggestions: f.error.suggestions,
        retryable: f.error.retryable,
        cause: f.error.cause,
      }),
    }
  return {ok: true, ref, value: toValue(f.entry, w.base64), version: f.entry.VersionId}
}

/** The read side of one provider; it remembers a denied batch for the provider's lifetime. */
export class AwsReader {
  /** Set once BatchGetSecretValue is denied, so later reads go straight to GetSecretValue. */
  private batchDenied = false

  constructor(
    private readonly host: Pick<AwsRotationHost, 'client' | 'ctx'>,
    private readonly concurrency: number,
  ) {}

  async read(refs: Reference[]): Promise<ReadOutcome[]> {
    // A malformed reference fails alone; the others are still read.
    const invalid = new Map<number, SecretsError>()
    const parsed = refs.map((ref, i) => {
      try {
        return want(ref)
      } catch (error) {
        if (!(error instanceof SecretsError)) throw error
        invalid.set(i, error)
        return undefined
      }
    })
    const wants = parsed.filter((w): w is Want => w !== undefined)
    // Plain references (the current version) can be batched; a stage or a version id needs GetSecretValue.
    const batchable = [...new Set(wants.filter((w) => isCurrent(w)).map((w) => w.secretId))]
    const single = new Map<string, Want>()
    for (const w of wants) if (!isCurrent(w)) single.set(key(w), w)
    const fetched = new Map<string, Fetched>()
    if (batchable.length > 1) {
      const chunks: string[][] = []
      for (let i = 0; i < batchable.length; i += BATCH_LIMIT) chunks.push(batchable.slice(i, i + BATCH_LIMIT))
      const leftovers = (await mapLimited(chunks, this.concurrency, (chunk) => this.batch(chunk, fetched))).flat()
      for (const id of leftovers) single.set(key(plain(id)), plain(id))
    } else {
      for (const id of batchable) single.set(key(plain(id)), plain(id))
    }
    await mapLimited([...single.entries()], this.concurrency, async ([k, w]) => {
      fetched.set(k, await this.getOne(w))
    })
    return refs.map((ref, i): ReadOutcome => {
      const w = parsed[i]
      if (w === undefined) return {ok: false, ref, error: invalid.get(i)!}
      return outcome(ref, w, fetched.get(isCurrent(w) ? key(plain(w.secretId)) : key(w)))
    })
  }

  /** One BatchGetSecretValue call; returns the ids it did not answer for (to be fetched one by one). */
  private async batch(ids: string[], into: Map<string, Fetched>): Promise<string[]> {
    if (this.batchDenied) return ids
    let out
    try {
      out = await this.host.client.send(new BatchGetSecretValueCommand({SecretIdList: ids}))
    } catch (error) {
      if (errorName(error) === 'AccessDeniedException') {
        // Allowed to read each secret but not to batch: fall back to GetSecretValue per secret.
        this.batchDenied = true
        return ids
      }
      const err = awsError(error, this.host.ctx('BatchGetSecretValue'))
      for (const id of ids) into.set(`${id}\u0000\u0000`, {ok: false, error: err})
      return []
    }
    const left = new Set(ids)
    for (const entry of out.SecretValues ?? []) {
      const id = ids.find(
        (x) => left.has(x) && (x === entry.Name || x === entry.ARN || (entry.ARN?.startsWith(`${x}-`) ?? false)),
      )
      if (id === undefined) continue
      left.delete(id)
      into.set(`${id}\u0000\u0000`, {ok: true, entry})
    }
    for (const e of out.Errors ?? []) {
      if (e.SecretId === undefined || !left.has(e.SecretId)) continue
      left.delete(e.SecretId)
      const err = awsError(
        {name: e.ErrorCode, message: e.Message, $fault: 'client'},
        this.host.ctx('GetSecretValue', e.SecretId),
      )
      into.set(`${e.SecretId}\u0000\u0000`, {ok: false, error: err})
    }
    return [...left]
  }

  async getOne(w: Want): Promise<Fetched> {
    try {
      const entry = await this.host.client.send(
        new GetSecretValueCommand({
          SecretId: w.secretId,
          ...(w.versionId === undefined ? {} : {VersionId: w.versionId}),
          ...(w.stage === undefined ? {} : {VersionStage: w.stage}),
        }),
      )
      return {ok: true, entry}
    } catch (error) {
      return {ok: false, error: awsError(error, this.host.ctx('GetSecretValue', w.secretId))}
    }
  }
}
