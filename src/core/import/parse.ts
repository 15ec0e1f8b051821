import {closeSync, constants, fstatSync, openSync, readSync} from 'node:fs'
import {basename, extname} from 'node:path'
import {parseEnv} from 'node:util'

import {SecretsError, fsError} from '../../errors.js'
import {ENV_NAME_PATTERN} from '../reference.js'

export const IMPORT_FORMATS = ['dotenv', 'json', 'yaml'] as const
export type ImportFormat = (typeof IMPORT_FORMATS)[number]

/** One variable of the file, in file order. */
export interface ImportEntry {
  name: string
  value: string
  /** The value was a dotenvx `encrypted:` value (decrypted with the file's private key). */
  encrypted?: boolean
}

/** A file to import holds names and values only: far below this, and reading stops there. */
export const MAX_IMPORT_BYTES = 16 * 1024 * 1024

/** The file's bytes: a regular file only (never a FIFO or a device, which could block or never end), size-capped. */
export function readImportFile(path: string): Buffer {
  let fd: number
  try {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer before fstat can refuse it.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (error) {
    throw fsError(error, path, 'reading')
  }
  try {
    const st = fstatSync(fd)
    if (!st.isFile())
      throw new SecretsError(
        'USAGE',
        `${path} is not a regular file (a directory, FIFO or device); nothing was imported.`,
        {
          suggestions: ['Name the .env, JSON or YAML file to import.'],
        },
      )
    if (st.size > MAX_IMPORT_BYTES)
      throw new SecretsError(
        'USAGE',
        `${path} is larger than ${MAX_IMPORT_BYTES / 1024 / 1024} MB; nothing was imported.`,
        {
          suggestions: ['A file of names and values is far smaller: check that this is the file you meant.'],
        },
      )
    const bytes = Buffer.alloc(st.size)
    let off = 0
    while (off < bytes.length) {
      const n = readSync(fd, bytes, off, bytes.length - off, off)
      if (n === 0) break
      off += n
    }
    return bytes.subarray(0, off)
  } finally {
    closeSync(fd)
  }
}

/** The format from the name, then from the content: `{` starts JSON, `KEY: value` lines YAML, the rest dotenv. */
export function detectFormat(path: string, text: string): ImportFormat {
  const ext = extname(path).toLowerCase()
  if (ext === '.json') return 'json'
  if (ext === '.yaml' || ext === '.yml') return 'yaml'
  if (basename(path).startsWith('.env') || ext === '.env') return 'dotenv'
  const first = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l !== '' && !l.startsWith('#'))
  if (first === undefined) return 'dotenv'
  if (first.startsWith('{')) return 'json'
  if (/^[A-Za-z_][A-Za-z0-9_]*:(\s|$)/.test(first) || first === '---') return 'yaml'
  return 'dotenv'
}

export function decodeText(bytes: Buffer, path: string): string {
  try {
    return new TextDecoder('utf-8', {fatal: true}).decode(bytes)
  } catch {
    throw new SecretsError('USAGE', `${path} is not UTF-8 text; nothing was imported.`, {
      suggestions: [
        'Import text files only (.env, JSON or YAML); store a binary value with `secrets set NAME --from-file F`.',
      ],
    })
  }
}

function notMapping(path: string, format: ImportFormat, what: string): never {
  throw new SecretsError(
    'USAGE',
    `${path} is not a flat ${format} mapping of names to values: ${what}; nothing was imported.`,
    {
      suggestions: [
        format === 'json'
          ? 'Import a JSON object such as {"DB_URL": "...", "API_KEY": "..."} (what `doppler secrets download --format json` writes).'
          : 'Import a YAML mapping such as `DB_URL: ...` with one value per name.',
      ],
    },
  )
}

function parseJson(text: string, path: string): Array<[string, unknown]> {
  let root: unknown
  try {
    root = JSON.parse(text)
  } catch {
    // V8's message quotes the text around the error, which may be a value: it is not shown.
    throw new SecretsError('USAGE', `${path} is not valid JSON; nothing was imported.`, {
      suggestions: [
        'Check it with `jq . FILE >/dev/null` (which prints where it fails), or import it with --format dotenv or yaml.',
      ],
    })
  }
  if (typeof root !== 'object' || root === null || Array.isArray(root))
    notMapping(path, 'json', 'the top level is not an object')
  return Object.entries(root)
}

/** A YAML file's data with every scalar a string (failsafe schema) and no aliases, or USAGE naming the line. */
export async function loadYamlData(text: string, path: string): Promise<unknown> {
  const {parseDocument} = await import('yaml')
  // The failsafe schema keeps every scalar exactly as written (`PORT: 0123` stays "0123", `ON: yes` "yes").
  const doc = parseDocument(text, {schema: 'failsafe', uniqueKeys: true})
  if (doc.errors.length > 0) {
    const e = doc.errors[0]
    throw new SecretsError(
      'USAGE',
      `${path} is not valid YAML (line ${e.linePos?.[0].line ?? '?'}: ${e.code}); nothing was imported.`,
    )
  }
  // No aliases: a flat file of names and values has no use for them, and they are how alias bombs grow.
  let root: unknown
  try {
    root = doc.toJS({maxAliasCount: 0})
  } catch {
    throw new SecretsError('USAGE', `${path} uses YAML aliases (\`&name\` / \`*name\`); nothing was imported.`, {
      suggestions: ['Write each value out in full: a file of names and values needs no aliases.'],
    })
  }
  return root
}

async function parseYaml(text: string, path: string): Promise<Array<[string, unknown]>> {
  const root = await loadYamlData(text, path)
  if (root === null || root === undefined) return []
  if (typeof root !== 'object' || Array.isArray(root)) notMapping(path, 'yaml', 'the top level is not a mapping')
  return Object.entries(root)
}

/** Names and values of the file, checked: variable names only, text values only, no name twice. */
export async function parseImport(
  path: string,
  format: ImportFormat | undefined,
  bytes: Buffer,
): Promise<{format: ImportFormat; entries: ImportEntry[]; empty: string[]}> {
  const text = decodeText(bytes, path)
  const f = format ?? detectFormat(path, text)
  const pairs: Array<[string, unknown]> =
    f === 'dotenv' ? Object.entries(parseEnv(text)) : f === 'json' ? parseJson(text, path) : await parseYaml(text, path)
  const badNames = pairs.map(([n]) => n).filter((n) => !ENV_NAME_PATTERN.test(n))
  if (badNames.length > 0)
    throw new SecretsError(
      'USAGE',
      `${path} has names that are not variable names: ${badNames.map((n) => JSON.stringify(n)).join(', ')}; nothing was imported.`,
      {
        suggestions: [
          'Variable names are letters, digits and "_", not starting with a digit: rename them in the file (or a copy of it).',
        ],
      },
    )
  const reserved = pairs.map(([n]) => n).filter((n) => n.startsWith('SECRETS_'))
  if (reserved.length > 0)
    throw new SecretsError(
      'USAGE',
      `${path} has names starting with SECRETS_, which configure secrets itself: ${reserved.join(', ')}; nothing was imported.`,
      {
        suggestions: ['Remove them from the file (or a copy of it), or rename them.'],
      },
    )
  const notText = pairs.filter(([, v]) => typeof v !== 'string').map(([n]) => n)
  if (notText.length > 0) notMapping(path, f, `the value of ${notText.join(', ')} is not a string`)
  const binary = pairs.filter(([, v]) => (v as string).includes('\0')).map(([n]) => n)
  if (binary.length > 0)
    throw new SecretsError(
      'USAGE',
      `The value of ${binary.join(', ')} in ${path} holds a NUL byte (binary); nothing was imported.`,
      {
        suggestions: ['Store a binary value with `secrets set NAME --from-file F`, or base64-encode it.'],
      },
    )
  // A store holds no empty values (`set` refuses them too): such names are left out and named.
  const empty = pairs.filter(([, v]) => v === '').map(([n]) => n)
  const entries = pairs.filter(([, v]) => v !== '').map(([name, value]) => ({name, value: value as string}))
  return {format: f, entries, empty}
}
