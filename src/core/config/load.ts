import {existsSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname, join, resolve} from 'node:path'
import {CORE_SCHEMA, load as loadYaml} from 'js-yaml'
import type * as Yaml from 'yaml'

import {SecretsError, fsError} from '../../errors.js'
import {READ_LIMITS, readRegularFile} from '../lib/read-input.js'
import type {ProjectConfig} from './types.js'
import {validateConfig} from './validate.js'
import type {LineOf} from './validator.js'

export const CONFIG_FILE_NAME = 'secrets.yaml'

/** Find `secrets.yaml` by walking up from `start`. */
export function findConfigFile(start: string): string | undefined {
  let dir = resolve(start)
  for (;;) {
    const candidate = join(dir, CONFIG_FILE_NAME)
    if (existsSync(candidate)) return candidate
    const parent = dirname(dir)
    if (parent === dir) return undefined
    dir = parent
  }
}

/** Where to look for the config file. */
export interface ConfigLocation {
  /** `--config` flag value. */
  flag?: string
  cwd: string
  env: NodeJS.ProcessEnv
}

/** Where the config file is: flag > SECRETS_CONFIG > walking up from cwd. */
export function locateConfig(loc: ConfigLocation): string | undefined {
  const explicit = loc.flag ?? (loc.env.SECRETS_CONFIG || undefined)
  if (explicit) return resolve(loc.cwd, explicit)
  return findConfigFile(loc.cwd)
}

/** Load and validate the project config; a missing file is CONFIG_NOT_FOUND. */
export function loadConfig(loc: ConfigLocation): ProjectConfig {
  const file = locateConfig(loc)
  if (file === undefined) {
    throw new SecretsError(
      'CONFIG_NOT_FOUND',
      `No ${CONFIG_FILE_NAME} found in ${resolve(loc.cwd)} or any parent directory.`,
      {
        suggestions: ['Run `secrets init` to create one here, or pass --config PATH (or set SECRETS_CONFIG).'],
      },
    )
  }
  return parseConfig(readConfigFile(file), file)
}

function readConfigFile(file: string): string {
  try {
    return decodeUtf8(
      readRegularFile(file, {what: 'the config file', maxBytes: READ_LIMITS.config, code: 'CONFIG_INVALID'}),
      file,
    )
  } catch (error) {
    if (error instanceof SecretsError) throw error
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new SecretsError('CONFIG_NOT_FOUND', `Config file ${file} does not exist.`, {
        suggestions: ['Check the --config flag or SECRETS_CONFIG, or run `secrets init` to create one.'],
      })
    }
    throw fsError(error, file, 'reading')
  }
}

/**
 * The config as text, refusing bytes that are not UTF-8 (decoding would silently turn them into U+FFFD,
 * changing a name or a path without a word), naming the first bad line.
 */
function decodeUtf8(bytes: Buffer, file: string): string {
  try {
    return new TextDecoder('utf-8', {fatal: true}).decode(bytes)
  } catch {
    let line = 1
    let start = 0
    for (;;) {
      const end = bytes.indexOf(0x0a, start)
      const chunk = bytes.subarray(start, end === -1 ? bytes.length : end)
      if (!Buffer.from(chunk.toString('utf8'), 'utf8').equals(chunk) || end === -1) break
      line++
      start = end + 1
    }
    throw new SecretsError('CONFIG_INVALID', `${file}:${line}: invalid UTF-8: the file must be UTF-8 text.`, {
      suggestions: [
        `Re-save ${file} as UTF-8 (for example with \`iconv -f latin1 -t utf-8\`), or remove the bytes at line ${line}.`,
      ],
    })
  }
}

/** Parse and validate config text; every error names the file, line and field. */
export function parseConfig(text: string, file: string): ProjectConfig {
  let root: unknown
  try {
    root = loadYaml(text, {schema: CORE_SCHEMA, filename: file})
  } catch {
    root = documentToJs(fullDocument(text, file), file)
  }
  return validateConfig(
    root,
    lineFinder(() => fullDocument(text, file)),
    file,
  )
}

/** The same, always through the `yaml` library (the reference the fast path is tested against). */
export function parseConfigFull(text: string, file: string): ProjectConfig {
  const full = fullDocument(text, file)
  return validateConfig(
    documentToJs(full, file),
    lineFinder(() => full),
    file,
  )
}

/**
 * The `yaml` library keeps every node's position, so errors can name the line; it is also about 20 ms
 * of every start. Configs are therefore read with the small js-yaml (YAML 1.2 core schema, like
 * `yaml`'s default), and `yaml` is loaded, synchronously, only when a line number is needed: for an
 * error message, or when a caller reads an entry's `line`. A file js-yaml refuses goes through `yaml`,
 * which reports the located syntax error (test/unit/config/load.test.ts checks both agree).
 */
const requireYaml = (): typeof Yaml => createRequire(import.meta.url)('yaml')

interface FullDocument {
  doc: Yaml.Document
  lineCounter: Yaml.LineCounter
}

function fullDocument(text: string, file: string): FullDocument {
  const {LineCounter, parseDocument} = requireYaml()
  const lineCounter = new LineCounter()
  // resolveKnownTags: false makes YAML 1.1's !!binary, !!set, !!timestamp... unknown too, as they are to js-yaml.
  const doc = parseDocument(text, {lineCounter, uniqueKeys: true, prettyErrors: false, resolveKnownTags: false})
  // A warning is an error here too: an unknown tag (`!custom`, `!!binary`) would otherwise be dropped silently.
  const firstError = doc.errors[0] ?? doc.warnings[0]
  if (firstError) {
    const line = lineCounter.linePos(firstError.pos[0]).line
    const message = firstError.message.split('\n')[0]
    throw new SecretsError('CONFIG_INVALID', `${file}:${line}: invalid YAML: ${message}`, {
      suggestions: [`Fix the YAML syntax at line ${line} of ${file}.`],
    })
  }
  return {doc, lineCounter}
}

/**
 * The document as plain values. Aliases are expanded here, so a "billion laughs" document (aliases of
 * aliases) is cut off by the library's alias budget and refused, naming the line of the first alias.
 */
function documentToJs({doc, lineCounter}: FullDocument, file: string): unknown {
  try {
    return doc.toJS({maxAliasCount: 100})
  } catch (error) {
    if (!(error instanceof ReferenceError)) throw error
    const {visit} = requireYaml()
    let line: number | undefined
    visit(doc, {
      Alias(_, node) {
        if (node.range) line = lineCounter.linePos(node.range[0]).line
        return visit.BREAK
      },
    })
    throw new SecretsError(
      'CONFIG_INVALID',
      `${file}${line === undefined ? '' : `:${line}`}: invalid YAML: its aliases (*name) expand to too many nodes.`,
      {suggestions: [`Write the repeated entries out instead of nesting aliases of aliases in ${file}.`]},
    )
  }
}

/** Line numbers from the full document, parsed on the first call. */
function lineFinder(document: () => FullDocument): LineOf {
  let full: FullDocument | undefined
  return (path) => {
    full ??= document()
    return lineOf(full, path)
  }
}

function lineOf({doc, lineCounter}: FullDocument, path: string[]): number | undefined {
  const {isMap, isScalar} = requireYaml()
  for (let depth = path.length; depth >= 0; depth--) {
    const sub = path.slice(0, depth)
    // Prefer the key's position: it is where a reader looks for the field.
    const parent = sub.length === 0 ? doc.contents : doc.getIn(sub.slice(0, -1), true)
    if (sub.length > 0 && isMap(parent)) {
      const pair = parent.items.find((item) => isScalar(item.key) && String(item.key.value) === sub.at(-1))
      const range = (pair?.key as {range?: [number, number, number]} | undefined)?.range
      if (range) return lineCounter.linePos(range[0]).line
    }
    const node = sub.length === 0 ? doc.contents : doc.getIn(sub, true)
    const range = (node as {range?: [number, number, number]} | null)?.range
    if (range) return lineCounter.linePos(range[0]).line
  }
  return undefined
}
