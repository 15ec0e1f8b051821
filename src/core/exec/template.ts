import {realpathSync} from 'node:fs'
import {isAbsolute, relative} from 'node:path'

import {SecretsError, fsError} from '../../errors.js'
import {writeOutputFile} from '../lib/output-file.js'
import {READ_LIMITS, readRegularFile} from '../lib/read-input.js'
import type {FileEntry} from '../config/types.js'
import type {Reference} from '../reference.js'
import type {Resolved, ResolvedFile, Unresolved} from '../resolved.js'
import {SecretValue} from '../secret-value.js'
import {closestNames, didYouMean} from '../suggest.js'

/** What templates need from the session: names turned into references, the project's folder, resolution. */
export interface TemplateSession {
  readonly config: {readonly dir: string}
  toReference(input: string): Reference
  readonly environment?: string
  references(environment?: string): Promise<Map<string, Reference>>
  resolve(vars: Map<string, Reference>): Promise<{resolved: Resolved[]; missing: Unresolved[]}>
}

/**
 * Templates: text with `{{ ref "REFERENCE" }}`, `{{ env "VAR" }}` and `{{ "literal" }}` placeholders.
 * The parser is strict on purpose: an unknown function, a missing quote or a placeholder left open is
 * CONFIG_INVALID naming file:line:column, never text passed through as it is.
 */
export type TemplatePart = {kind: 'text'; text: string} | {kind: 'ref' | 'env'; arg: string; line: number; col: number}

const FUNCTIONS = ['ref', 'env'] as const

function position(text: string, index: number): {line: number; col: number} {
  const before = text.slice(0, index)
  const line = before.split('\n').length
  return {line, col: index - before.lastIndexOf('\n')}
}

/** Parse a template; `file` is the name used in messages. */
export function parseTemplate(text: string, file: string): TemplatePart[] {
  const parts: TemplatePart[] = []
  const fail = (index: number, what: string): never => {
    const {line, col} = position(text, index)
    throw new SecretsError('CONFIG_INVALID', `${file}:${line}:${col}: ${what}.`, {
      suggestions: [
        'Placeholders are {{ ref "vault://secret/app#key" }}, {{ env "NAME" }} or {{ "literal text" }}; fix the template.',
      ],
    })
  }
  let i = 0
  for (;;) {
    const open = text.indexOf('{{', i)
    if (open === -1) {
      if (i < text.length) parts.push({kind: 'text', text: text.slice(i)})
      return parts
    }
    if (open > i) parts.push({kind: 'text', text: text.slice(i, open)})
    const close = text.indexOf('}}', open + 2)
    if (close === -1) fail(open, 'unterminated placeholder: "{{" without a closing "}}"')
    let j = open + 2
    const skip = () => {
      while (j < close && /\s/.test(text[j])) j++
    }
    const literal = (): string => {
      if (text[j] !== '"') fail(j, `expected a quoted string, found ${j >= close ? '"}}"' : JSON.stringify(text[j])}`)
      let out = ''
      const start = j++
      for (;;) {
        if (j >= close) fail(start, 'unterminated string in a placeholder')
        const ch = text[j]
        if (ch === '"') {
          j++
          return out
        }
        if (ch === '\\') {
          const next = text[j + 1]
          if (next !== '"' && next !== '\\') fail(j, 'unknown escape in a string (only \\" and \\\\)')
          out += next
          j += 2
          continue
        }
        if (ch === '\n') fail(start, 'unterminated string in a placeholder')
        out += ch
        j++
      }
    }
    skip()
    if (text[j] === '"') {
      parts.push({kind: 'text', text: literal()})
    } else {
      const nameStart = j
      while (j < close && /[A-Za-z0-9_]/.test(text[j])) j++
      const name = text.slice(nameStart, j)
      if (name === '') fail(nameStart, `expected a function (${FUNCTIONS.join(', ')}) or a quoted string`)
      if (!(FUNCTIONS as readonly string[]).includes(name))
        fail(nameStart, `unknown function ${JSON.stringify(name)} in a placeholder (known: ${FUNCTIONS.join(', ')})`)
      const argStart = j
      skip()
      if (j === argStart) fail(j, `expected a space and a quoted argument after ${name}`)
      const {line, col} = position(text, nameStart)
      parts.push({kind: name as 'ref' | 'env', arg: literal(), line, col})
    }
    skip()
    if (j !== close) fail(j, `unexpected ${JSON.stringify(text[j])}, expected "}}"`)
    i = close + 2
  }
}

/** Read and parse a template file. */
export function loadTemplate(file: string, display: string): TemplatePart[] {
  let text: string
  try {
    text = readRegularFile(file, {
      what: 'the template',
      display,
      maxBytes: READ_LIMITS.template,
      code: 'CONFIG_INVALID',
    }).toString('utf8')
  } catch (error) {
    if (error instanceof SecretsError) throw error
    const e = fsError(error, display, 'reading the template')
    if (e instanceof SecretsError && e.code === 'NOT_FOUND') {
      throw new SecretsError('CONFIG_INVALID', `The template ${display} does not exist.`, {
        suggestions: ['Fix the `template:` path (relative to secrets.yaml) or create the file.'],
      })
    }
    throw e
  }
  return parseTemplate(text, display)
}

/**
 * A `template:` of secrets.yaml must stay inside the project (the folder of secrets.yaml) once symlinks
 * are resolved: a committed config must not make exec read, and inject, any file of the user's.
 */
function assertInProject(session: TemplateSession, entry: FileEntry, display: string): void {
  let real: string
  let root: string
  try {
    real = realpathSync(entry.template!)
    root = realpathSync(session.config.dir)
  } catch {
    return // A missing template is reported by loadTemplate, with its own message.
  }
  const rel = relative(root, real)
  if (rel === '..' || rel.startsWith('../') || isAbsolute(rel)) {
    throw new SecretsError(
      'CONFIG_INVALID',
      `files.${entry.name}.template: ${display} is outside the project (${root})${real === entry.template ? '' : `: it resolves to ${real}`}.`,
      {
        suggestions: [
          'Keep templates inside the folder of secrets.yaml (no absolute paths, no ../, no symlinks out of it).',
        ],
      },
    )
  }
}

/**
 * An {{ env "VAR" }} must name a set variable, and not one of SECRETS_*: those configure secrets itself
 * (SECRETS_AGE_KEY is an identity key), and a template must not copy them into a file.
 */
function checkEnvPart(display: string, part: {arg: string; line: number; col: number}, env: NodeJS.ProcessEnv): void {
  const at = `${display}:${part.line}:${part.col}: {{ env "${part.arg}" }}`
  if (part.arg.startsWith('SECRETS_')) {
    throw new SecretsError(
      'CONFIG_INVALID',
      `${at}: SECRETS_* variables configure secrets itself (SECRETS_AGE_KEY is an identity key), so templates never read them.`,
      {suggestions: ['Store the value as a secret and use {{ ref "NAME" }} instead.']},
    )
  }
  if (env[part.arg] === undefined) {
    throw new SecretsError('NOT_FOUND', `${at}: the variable ${part.arg} is not set.`, {
      suggestions: [`Set ${part.arg}, or remove the placeholder from the template.`],
    })
  }
}

/** A template whose references are being resolved. */
interface Pending {
  entry: FileEntry
  display: string
  parts: TemplatePart[]
  /** Reference text -> the label it is resolved under. */
  labels: Map<string, string>
}

/** How `prepareTemplates` reads and checks the templates. */
export interface TemplateOptions {
  /** How a template's path reads in messages (default: relative to the project). */
  displayOf?: (file: string) => string
  /** Refuse templates outside the project (a committed config's `template:`); off for `render FILE`. */
  confine?: boolean
  /** The environment's variables, for bare NAMEs (default: `vars`). */
  names?: Map<string, Reference>
}

/**
 * Parse templates and add their references to `vars` under labels (`DB_CONFIG (db.json.tpl:3:9)`),
 * so they resolve with everything else, failing closed. `finish` renders them from the results.
 * A bare NAME in `{{ ref "NAME" }}` is the environment's variable (`names`) before the local secret.
 */
export function prepareTemplates(
  session: TemplateSession,
  entries: FileEntry[],
  vars: Map<string, Reference>,
  parentEnv: NodeJS.ProcessEnv,
  o: TemplateOptions = {},
): {
  finish(resolved: Resolved[], missing: Unresolved[]): ResolvedFile[]
  labels: Set<string>
} {
  const {displayOf = (file: string) => displayPath(session, file), confine = true, names = vars} = o
  const pending: Pending[] = []
  const labels = new Set<string>()
  for (const entry of entries) {
    const display = displayOf(entry.template!)
    if (confine) assertInProject(session, entry, display)
    const parts = loadTemplate(entry.template!, display)
    const p: Pending = {entry, display, parts, labels: new Map()}
    for (const part of parts) {
      if (part.kind === 'env') checkEnvPart(display, part, parentEnv)
      if (part.kind !== 'ref' || p.labels.has(part.arg)) continue
      let ref: Reference
      try {
        ref = names.get(part.arg) ?? session.toReference(part.arg)
      } catch (error) {
        if (!(error instanceof SecretsError)) throw error
        throw new SecretsError('CONFIG_INVALID', `${display}:${part.line}:${part.col}: ${error.message}`, {
          suggestions: error.suggestions,
          cause: error,
        })
      }
      const label = `${entry.name} (${display}:${part.line}:${part.col})`
      p.labels.set(part.arg, label)
      labels.add(label)
      vars.set(label, ref)
    }
    pending.push(p)
  }
  return {
    labels,
    finish(resolved, missing) {
      const lost = missing.filter((m) => labels.has(m.name))
      if (lost.length > 0) {
        throw new SecretsError(
          'NOT_FOUND',
          `A template needs ${lost.map((m) => `${m.ref.raw} at ${m.name}`).join(', ')}, which does not exist; nothing was rendered.`,
          {ref: lost[0].ref.raw},
        )
      }
      const byLabel = new Map(resolved.filter((r) => labels.has(r.name)).map((r) => [r.name, r]))
      return pending.map((p) => {
        const masks: Resolved[] = []
        const chunks = p.parts.map((part) => {
          if (part.kind === 'text') return Buffer.from(part.text, 'utf8')
          if (part.kind === 'env') {
            // An environment value in a rendered file may be a credential (a token from CI): masked too.
            const value = Buffer.from(parentEnv[part.arg] ?? '', 'utf8')
            const ref: Reference = {alias: 'env', path: part.arg, params: {}, raw: `env:${part.arg}`}
            if (value.length > 0) masks.push({name: p.entry.name, ref, provider: 'env', value: new SecretValue(value)})
            return value
          }
          const r = byLabel.get(p.labels.get(part.arg)!)!
          masks.push({...r, name: p.entry.name})
          return r.value.reveal()
        })
        const ref: Reference = {alias: 'template', path: p.display, params: {}, raw: p.display}
        return {
          name: p.entry.name,
          ref,
          provider: 'template',
          value: new SecretValue(Buffer.concat(chunks)),
          entry: p.entry,
          masks,
        }
      })
    },
  }
}

function displayPath(session: TemplateSession, file: string): string {
  const rel = relative(session.config.dir, file)
  return rel.startsWith('..') ? file : rel
}

/**
 * `secrets render TEMPLATE`: resolve every reference of one template (failing closed) and return the
 * rendered bytes.
 */
export async function renderTemplate(
  session: TemplateSession,
  file: string,
  display: string,
  parentEnv: NodeJS.ProcessEnv,
): Promise<{value: SecretValue; refs: string[]}> {
  const vars = new Map<string, Reference>()
  const entry: FileEntry = {name: 'TEMPLATE', template: file, mode: 0o600, fileName: 'TEMPLATE'}
  // The environment is listed only when a placeholder names a bare NAME: a template of references needs no store opened.
  const bareNames = loadTemplate(file, display).flatMap((p) =>
    p.kind === 'ref' && !p.arg.includes('://') ? [p.arg] : [],
  )
  const names = bareNames.length > 0 ? await session.references(session.environment) : new Map<string, Reference>()
  // The template named on the command line may be anywhere: the user chose it, not a committed config.
  const prepared = prepareTemplates(session, [entry], vars, parentEnv, {
    displayOf: () => display,
    confine: false,
    names,
  })
  let outcome: {resolved: Resolved[]; missing: Unresolved[]}
  try {
    outcome = await session.resolve(vars)
  } catch (error) {
    throw withNameSuggestions(error, bareNames, names)
  }
  const {resolved, missing} = outcome
  const [rendered] = prepared.finish(resolved, missing)
  return {value: rendered.value, refs: [...new Set([...vars.values()].map((r) => r.raw))]}
}

/** A missing bare NAME of a template (no variable, no local secret): add the closest variables to the error. */
function withNameSuggestions(error: unknown, bareNames: string[], names: Map<string, Reference>): unknown {
  if (!(error instanceof SecretsError) || error.code !== 'NOT_FOUND') return error
  const unknown = bareNames.filter((n) => !names.has(n) && error.message.includes(`://${n} (provider`))
  const near = [...new Set(unknown.flatMap((n) => closestNames(n, names.keys())))]
  if (near.length === 0) return error
  return new SecretsError(error.code, error.message, {
    ref: error.ref,
    suggestions: [didYouMean(near), ...error.suggestions],
    cause: error,
  })
}

/**
 * Write a rendered template with mode 0600 (atomically for a file, in place for a pipe), refusing a
 * file that git tracks: a rendered file holds secrets and must never be committed.
 */
export function writeRendered(file: string, value: SecretValue, warn: (m: string) => void): void {
  writeOutputFile(file, value.reveal(), {holds: 'a rendered template', secrets: 'rendered secrets', warn})
}
