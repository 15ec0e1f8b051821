import {SecretsError} from '../../errors.js'
import {writeFileAtomic} from '../lib/atomic-write.js'
import {checkRecipient} from './identity.js'
import {ENV_NAME_PATTERN} from '../reference.js'
import type {AuditedReader, Resolved} from '../resolved.js'
import {Keyring} from './keyring.js'
import {emptyStore, openStore} from './open-store.js'

/**
 * An environment as an encrypted file in the local store format (`export --encrypt`), read back by
 * `exec --from-file` with any recipient's identity and no provider connection. One secret per
 * variable, under the variable's name.
 */
export async function writeEncryptedEnv(
  file: string,
  recipients: string[],
  entries: Resolved[],
  actor: string,
): Promise<void> {
  const unique = [...new Set(recipients)]
  if (unique.length === 0) {
    throw new SecretsError('USAGE', '--encrypt needs at least one --recipient (an age public key, age1...).', {
      suggestions: [
        'Pass the public key of every identity that must open the file: --recipient age1... (yours is in `secrets key list`).',
      ],
    })
  }
  for (const r of unique) {
    await checkRecipient(r)
  }
  const store = emptyStore(file)
  for (const r of unique) {
    await store.addRecipient({type: 'age', recipient: r})
  }
  for (const e of entries) store.write(e.name, e.value, actor)
  writeFileAtomic(file, store.serialize(), 0o600)
}

/** The variables of an encrypted environment file, decrypted with the caller's identity; each read is audited (with the value's fingerprint, as every other read). */
export async function readEncryptedEnv(session: AuditedReader, file: string, only?: string[]): Promise<Resolved[]> {
  const store = await openStore(file, new Keyring(session.env, session.ui))
  let names = store
    .names()
    .filter((n) => ENV_NAME_PATTERN.test(n))
    .sort()
  if (only && only.length > 0) {
    const unknown = only.filter((n) => !names.includes(n))
    if (unknown.length > 0) {
      throw new SecretsError(
        'NOT_FOUND',
        `--only names ${unknown.join(', ')}, which ${unknown.length === 1 ? 'is' : 'are'} not in ${file}.`,
        {
          suggestions: [`Variables in ${file}: ${names.join(', ') || 'none'}.`],
        },
      )
    }
    names = names.filter((n) => only.includes(n))
  }
  const resolved = names.map((name): Resolved => {
    const {value, version} = store.read(name)
    return {
      name,
      ref: {alias: 'file', path: name, params: {}, raw: `${file}#${name}`},
      provider: 'file',
      value,
      version: String(version),
    }
  })
  const child = session.child === undefined ? {} : {child: session.child}
  await session.audit(
    resolved.map((r) => ({
      command: session.command,
      ...child,
      action: 'read' as const,
      provider: 'file',
      ref: r.ref.raw,
      version: r.version,
      outcome: 'ok' as const,
      value: r.value,
    })),
  )
  return resolved
}
