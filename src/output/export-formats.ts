import {randomBytes} from 'node:crypto'
import {stringify} from 'yaml'

import {SecretsError} from '../errors.js'

/** A variable ready to be written out: its name and its value as text. */
export interface ExportEntry {
  name: string
  value: string
}

export const EXPORT_FORMATS = ['dotenv', 'json', 'yaml', 'shell', 'github'] as const
export type ExportFormat = (typeof EXPORT_FORMATS)[number]

function unrepresentable(name: string, format: string, why: string): SecretsError {
  return new SecretsError(
    'UNSUPPORTED',
    `The value of ${name} cannot be written exactly in ${format} format: ${why}.`,
    {
      ref: name,
      suggestions: ['Use --format json or --format shell, which can hold any text.'],
    },
  )
}

/**
 * One dotenv line that the `dotenv` package and Node's own `--env-file` parser read back exactly:
 * single quotes when possible (fully literal), else backticks (also literal), else double quotes with
 * `\n` escapes. Values those parsers cannot hold exactly are refused, not mangled.
 */
export function dotenvLine({name, value}: ExportEntry): string {
  if (value.includes('\r'))
    throw unrepresentable(
      name,
      'dotenv',
      'it holds a carriage return, which dotenv parsers turn into a plain line break',
    )
  if (!value.includes("'")) return `${name}='${value}'`
  if (!value.includes('`')) return `${name}=\`${value}\``
  if (value.includes('"')) throw unrepresentable(name, 'dotenv', 'it holds all three quote characters')
  if (/\\n/.test(value))
    throw unrepresentable(
      name,
      'dotenv',
      'it needs double quotes, where a backslash followed by "n" means a line break',
    )
  return `${name}="${value.replaceAll('\n', '\\n')}"`
}

/** POSIX shell single-quoting: everything literal, `'` written as `'\''`. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`
}

/**
 * The `$GITHUB_ENV` heredoc block for one variable, with a random delimiter that does not occur in the
 * value (as GitHub's own toolkit does).
 */
export function githubEnvBlock({name, value}: ExportEntry): string {
  let delimiter: string
  do delimiter = `ghadelimiter_${randomBytes(16).toString('hex')}`
  while (value.includes(delimiter))
  return `${name}<<${delimiter}\n${value}\n${delimiter}\n`
}

/** `::add-mask::` commands for a value: one per non-empty line, since GitHub masks line by line. */
export function githubMasks(value: string): string {
  const escape = (s: string) => s.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A')
  const lines = value.split(/\r?\n/).filter((l) => l.trim() !== '')
  return lines.map((l) => `::add-mask::${escape(l)}\n`).join('')
}

/** Render entries in one of the text formats (github is handled by the caller: it has two outputs). */
export function formatEntries(entries: ExportEntry[], format: Exclude<ExportFormat, 'github'>): string {
  switch (format) {
    case 'dotenv': {
      return entries.map((e) => `${dotenvLine(e)}\n`).join('')
    }
    case 'json': {
      return `${JSON.stringify(Object.fromEntries(entries.map((e) => [e.name, e.value])), null, 2)}\n`
    }
    case 'yaml': {
      return entries.length === 0
        ? '{}\n'
        : stringify(Object.fromEntries(entries.map((e) => [e.name, e.value])), {lineWidth: 0})
    }
    case 'shell': {
      return entries.map((e) => `export ${e.name}=${shellQuote(e.value)}\n`).join('')
    }
  }
}
