import {existsSync, readFileSync, statSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname, join, resolve} from 'node:path'
import {CORE_SCHEMA, load as loadYaml} from 'js-yaml'
import type * as Yaml from 'yaml'

import {SecretsError, fsError} from '../../errors.js'
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
    if (statSync(file).isDirectory()) {
      throw new SecretsError('CONFIG_INVALID', `${file} is a directory, not a ${CONFIG_FILE_NAME} file.`, {
        suggestions: ['Point --config or SECRETS_CONFIG at the file itself.'],
      })
    }
    return readFileSync(file, 'utf8')
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

/** Parse and validate config text; every error names the file, line and field. */
export function parseConfig(text: string, file: string): ProjectConfig {
  let root: unknown
  try {
    root = loadYaml(text, {schema: CORE_SCHEMA, filename: file})
  } catch {
    root = fullDocument(text, file).doc.toJS()
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
    full.doc.toJS(),
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
  const doc = parseDocument(text, {lineCounter, uniqueKeys: true, prettyErrors: false})
  const firstError = doc.errors[0]
  if (firstError) {
    const line = lineCounter.linePos(firstError.pos[0]).line
    const message = firstError.message.split('\n')[0]
    throw new SecretsError('CONFIG_INVALID', `${file}:${line}: invalid YAML: ${message}`, {
      suggestions: [`Fix the YAML syntax at line ${line} of ${file}.`],
    })
  }
  return {doc, lineCounter}
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
