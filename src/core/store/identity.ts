import {existsSync, readFileSync, statSync} from 'node:fs'
import {homedir} from 'node:os'
import {dirname, join} from 'node:path'

import {SecretsError, fsError} from '../../errors.js'
import {parseX25519Identity, type X25519Identity} from './age-x25519.js'
import {ensureDir, writeFileAtomic} from '../lib/atomic-write.js'

/** The age library, loaded only to generate keys or encrypt (reading needs only node:crypto). */
export const ageLibrary = () => import('age-encryption')

/** An age identity (private key) and where it came from. The key itself never appears in messages. */
export interface AgeIdentity {
  secretKey: string
  recipient: string
  /** The parsed key, for decryption with node:crypto. */
  x25519: X25519Identity
  /** Human description of the source, e.g. `SECRETS_AGE_KEY` or a file path. */
  source: string
}

/** `$XDG_CONFIG_HOME/secrets`, or `~/.config/secrets`. */
export function userConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config'), 'secrets')
}

/** `$XDG_STATE_HOME/secrets`, or `~/.local/state/secrets`. */
export function userStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state'), 'secrets')
}

export function defaultIdentityFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(userConfigDir(env), 'identity.txt')
}

/** Refuse a key file that group or others can access, the way ssh refuses a private key. */
export function assertPrivateFile(file: string, what: string): void {
  let mode: number
  try {
    const st = statSync(file)
    // A directory (SECRETS_IDENTITY=/tmp) is the wrong path, not a file to chmod: say so instead.
    if (st.isDirectory()) {
      throw new SecretsError('USAGE', `${what} ${file} is a directory, not a file.`, {
        suggestions: [`Point the setting that names ${file} at the file itself.`],
      })
    }
    mode = st.mode
  } catch (error) {
    if (error instanceof SecretsError) throw error
    throw fsError(error, file, `checking ${what}`)
  }
  if ((mode & 0o077) !== 0) {
    throw new SecretsError(
      'INSECURE_PERMISSIONS',
      `${what} ${file} is accessible by group or others (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); refusing to use it.`,
      {
        suggestions: [`Run \`chmod 600 ${file}\`, and consider the key compromised if others could read it.`],
      },
    )
  }
}

async function parseIdentityText(text: string, source: string): Promise<AgeIdentity[]> {
  const out: AgeIdentity[] = []
  const lines = text.split(/\r?\n/)
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    if (!line.startsWith('AGE-SECRET-KEY-')) {
      throw new SecretsError(
        'IDENTITY_MISSING',
        `${source}${source.includes('/') ? `:${index + 1}` : ''} is not an age identity (expected a line starting with AGE-SECRET-KEY-).`,
        {
          suggestions: ['Use an identity file made by `secrets init` or `age-keygen`, or unset the variable.'],
        },
      )
    }
    let x25519: X25519Identity
    try {
      x25519 = parseX25519Identity(line)
    } catch {
      throw new SecretsError(
        'IDENTITY_MISSING',
        `${source}${source.includes('/') ? `:${index + 1}` : ''} holds a malformed age identity.`,
        {
          suggestions: ['Check that the key was copied whole (it is one line starting with AGE-SECRET-KEY-).'],
        },
      )
    }
    out.push({secretKey: line, recipient: x25519.recipient, x25519, source})
  }
  return out
}

function identityNotFound(file: string): SecretsError {
  return new SecretsError('IDENTITY_MISSING', `SECRETS_IDENTITY points at ${file}, which does not exist.`, {
    suggestions: ['Fix SECRETS_IDENTITY, or unset it to use the default identity file.'],
  })
}

/**
 * The identities this process may use: `SECRETS_AGE_KEY` (the key itself, for CI), else the file named
 * by `SECRETS_IDENTITY`, else the default identity file. Returns [] when none is configured.
 */
export async function loadIdentities(env: NodeJS.ProcessEnv = process.env): Promise<AgeIdentity[]> {
  if (env.SECRETS_AGE_KEY) return parseIdentityText(env.SECRETS_AGE_KEY, 'SECRETS_AGE_KEY')
  const file = env.SECRETS_IDENTITY || defaultIdentityFile(env)
  if (!env.SECRETS_IDENTITY && !existsSync(file)) return []
  if (!existsSync(file)) throw identityNotFound(file)
  if (statSync(file).isDirectory()) {
    throw new SecretsError(
      'IDENTITY_MISSING',
      `SECRETS_IDENTITY points at ${file}, which is a directory, not an identity file.`,
      {
        suggestions: ['Point SECRETS_IDENTITY at the identity file itself (made by `secrets init` or `age-keygen`).'],
      },
    )
  }
  assertPrivateFile(file, 'Identity file')
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    const e = fsError(error, file, 'reading identity file')
    if (e instanceof SecretsError && e.code === 'NOT_FOUND') throw identityNotFound(file)
    throw e
  }
  return parseIdentityText(text, file)
}

/** Create a new age identity file (0600, in a 0700 directory) in the format `age-keygen` writes. */
export async function createIdentityFile(file: string): Promise<AgeIdentity> {
  if (existsSync(file)) {
    throw new SecretsError('CONFLICT', `Identity file ${file} already exists; not overwriting it.`)
  }
  const age = await ageLibrary()
  const secretKey = await age.generateIdentity()
  const x25519 = parseX25519Identity(secretKey)
  const recipient = x25519.recipient
  ensureDir(dirname(file))
  const text = `# created: ${new Date().toISOString()}\n# public key: ${recipient}\n${secretKey}\n`
  writeFileAtomic(file, text, 0o600)
  return {secretKey, recipient, x25519, source: file}
}

/** Validate an age recipient string (`age1...`). */
export async function checkRecipient(recipient: string): Promise<void> {
  if (recipient.toUpperCase().startsWith('AGE-SECRET-KEY-')) {
    throw new SecretsError(
      'USAGE',
      'That is an age private key, not a recipient; it must not be shared or passed on a command line.',
      {
        suggestions: [
          'Pass the public key (age1...) that `age-keygen -y` prints for it, and treat the private key as exposed if it went into shell history.',
        ],
      },
    )
  }
  const age = await ageLibrary()
  try {
    const e = new age.Encrypter()
    e.addRecipient(recipient)
    await e.encrypt(new Uint8Array(1))
  } catch {
    throw new SecretsError('USAGE', `${JSON.stringify(recipient)} is not a valid age recipient.`, {
      suggestions: [
        'Recipients are public keys starting with age1..., as printed by `age-keygen -y` or `secrets key list`.',
      ],
    })
  }
}
