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
