import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {ROOT} from './cli.js'

interface ManifestFlag {
  name: string
  char?: string
  type: 'boolean' | 'option'
  allowNo?: boolean
  options?: string[]
}

interface ManifestCommand {
  id: string
  aliases: string[]
  strict?: boolean
  args: Record<string, unknown>
  flags: Record<string, ManifestFlag>
}

const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as {
  commands: Record<string, ManifestCommand>
}

/** Command ids (and aliases) as words: `audit:report` is `audit report`. */
const byWords = new Map<string, ManifestCommand>()
for (const c of Object.values(manifest.commands)) {
  for (const id of [c.id, ...c.aliases]) byWords.set(id.replaceAll(':', ' '), c)
}

/**
 * The `secrets ...` command lines of a page: each inline code span that starts with `secrets `, and
 * each line of a code block (a YAML file is one) with its comments dropped, from `secrets` up to a
 * shell operator. A comment's own code spans count too.
 */
export function commandLines(text: string, kind: 'markdown' | 'yaml'): string[] {
  const out: string[] = []
  // From `secrets` up to a shell operator; an expression such as `${{ inputs.x || '' }}` is one word.
  const capture = (body: string) => {
    // `<name>` is a placeholder the reader fills in, not a redirection.
    const text = body.replaceAll(/\$\{\{[\s\S]*?\}\}/g, '$EXPR').replaceAll(/<[\w-]+>/g, '$PLACEHOLDER')
    for (const m of text.matchAll(/(?:^|[\s;&|(])secrets(\s+[^|;&>)`]*)/g)) {
      // Words inside a quoted string (an echo'd message) are text, not a command.
      const before = text.slice(0, m.index)
      const quoted = (q: string) => before.split(q).length % 2 === 0
      if (/^\s+\S/.test(m[1]) && !quoted("'") && !quoted('"')) out.push(`secrets${m[1]}`.trim())
    }
  }
  const spans = (t: string) => {
    for (const m of t.matchAll(/`(secrets [^`]+)`/g)) capture(m[1])
  }
  const code = (line: string) => {
    const comment = /(^|\s)#\s.*$/.exec(line)
    capture(comment ? line.slice(0, comment.index) : line)
    if (comment) spans(comment[0])
  }
  if (kind === 'yaml') {
    for (const line of text.split('\n')) code(line)
    return out
  }
  const blocks = /^```[\w-]*\n([\s\S]*?)^```$/gm
  for (const [, block] of text.matchAll(blocks)) for (const line of block.split('\n')) code(line)
  spans(text.replaceAll(blocks, ''))
  return out
}

/** Shell words, quotes removed; `${{ ... }}` is one word. */
function words(line: string): string[] {
  const out: string[] = []
  for (const m of line.matchAll(/\$\{\{[^}]*\}\}|"[^"]*"|'[^']*'|\S+/g)) {
    out.push(m[0].replace(/^(["'])([\s\S]*)\1$/, '$2'))
  }
  return out
}

/** Whether a word stands for something the reader or the CI fills in: `<name>`, `$VAR`, `${{ }}`, `...`. */
function placeholder(word: string): boolean {
  return /^(<[^>]+>|\$|\.\.\.)/.test(word) || word.endsWith('...')
}

/**
 * What is wrong with a `secrets ...` command line against the committed manifest: an unknown command,
 * an unknown flag, a value a flag does not take, a missing flag value, or a positional argument too many.
 * Undefined when it parses.
 */
export function commandLineProblem(line: string): string | undefined {
  const w = words(line).slice(1)
  let command: ManifestCommand | undefined
  let used = 0
  for (let n = Math.min(3, w.length); n > 0 && !command; n--) {
    command = byWords.get(w.slice(0, n).join(' '))
    if (command) used = n
  }
  if (!command) return `no command "${w.slice(0, 2).join(' ')}"`
  const flags = Object.values(command.flags)
  let positionals = 0
  for (let i = used; i < w.length; i++) {
    const word = w[i]
    if (word === '--') return command.id === 'exec' ? undefined : `${command.id} takes no -- command`
    if (!word.startsWith('-') || placeholder(word)) {
      positionals++
      continue
    }
    const [name, inline] = word.startsWith('--') ? word.slice(2).split(/=(.*)/s) : [word.slice(1), undefined]
    const flag = word.startsWith('--')
      ? (flags.find((f) => f.name === name) ??
        flags.find((f) => f.allowNo && f.type === 'boolean' && `no-${f.name}` === name))
      : flags.find((f) => f.char === name)
    if (!flag) return `${command.id} has no flag ${word}`
    if (flag.type === 'boolean') {
      if (inline !== undefined) return `${command.id} ${word}: a boolean flag takes no value`
      continue
    }
    const value = inline ?? w[++i]
    if (value === undefined) return `${command.id} ${word} needs a value`
    if (flag.options && !placeholder(value) && !flag.options.includes(value))
      return `${command.id} ${word} ${value}: not one of ${flag.options.join(', ')}`
  }
  const max = Object.keys(command.args).length
  if (command.strict !== false && positionals > max)
    return `${command.id} takes ${max} argument(s), ${positionals} given`
  return undefined
}
