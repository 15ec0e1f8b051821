import type {ChalkInstance} from 'chalk'

import {makeChalk} from './style.js'

/** The closing line of a command that did what it was asked: `✓ message`. */
export function successLine(message: string, chalk: ChalkInstance): string {
  return `${chalk.green('✓')} ${message}`
}

/** A warning line: `Warning: message`. */
export function warningLine(message: string, chalk: ChalkInstance = makeChalk(process.stderr)): string {
  return `${chalk.yellow('Warning:')} ${message}`
}
