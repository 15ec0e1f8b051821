import type {ChalkInstance} from 'chalk'

import {terminalSafe} from '../core/lib/terminal-text.js'
import {makeChalk} from './style.js'

export {terminalSafe} from '../core/lib/terminal-text.js'

/** The closing line of a command that did what it was asked: `✓ message`. */
export function successLine(message: string, chalk: ChalkInstance): string {
  return `${chalk.green('✓')} ${terminalSafe(message)}`
}

/** A warning line: `Warning: message`. */
export function warningLine(message: string, chalk: ChalkInstance = makeChalk(process.stderr)): string {
  return `${chalk.yellow('Warning:')} ${terminalSafe(message)}`
}

/** "1 recipient", "2 recipients": a count with its noun spelled for it (plural: the noun plus s unless given). */
export function plural(count: number, noun: string, many = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : many}`
}
