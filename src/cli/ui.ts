import {isatty} from 'node:tty'

import type {Interaction} from '../core/interaction.js'
import {SecretsError} from '../errors.js'
import {terminalSafe, warningLine} from './output.js'
import {makeChalk} from './style.js'

/** The prompt library is loaded only when a prompt is shown: most runs never need it. */
const prompts = () => import('@inquirer/prompts')

/** Whether CI is set (to anything but empty, `false` or `0`). */
export function isCI(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CI !== undefined && env.CI !== '' && env.CI !== 'false' && env.CI !== '0'
}

/** Prompts only when stdin and stderr are terminals and CI is not set. */
export function canPrompt(env: NodeJS.ProcessEnv = process.env): boolean {
  // isatty(0), not process.stdin.isTTY: the getter builds the stdin stream, which most commands never read.
  return isatty(0) && Boolean(process.stderr.isTTY) && !isCI(env)
}

/** The one error for Ctrl-C or end of input: exit 130, rendered as `Cancelled.` (see BaseCommand.catch). */
export function cancelled(): SecretsError {
  return new SecretsError('CANCELLED', 'Cancelled.')
}

// @inquirer/prompts rejects with these on Ctrl-C, a closed terminal or our abort (end of input); by type name,
// since the classes live in @inquirer/core, which is not ours to import.
const PROMPT_CANCELS = new Set(['ExitPromptError', 'AbortPromptError', 'CancelPromptError'])

/**
 * Run one prompt so that Ctrl-C or end of input ends it as CANCELLED. Readline closes itself on Ctrl-D
 * without settling the prompt (the process would then exit 0 with the command half done), so Ctrl-D and
 * a stdin that ends abort it here.
 */
async function ask<T>(
  prompt: (context: {output: NodeJS.WritableStream; signal: AbortSignal}) => Promise<T>,
): Promise<T> {
  const controller = new AbortController()
  const onData = (chunk: Buffer | string) => {
    if (typeof chunk === 'string' ? chunk.includes('\u0004') : chunk.includes(4)) controller.abort()
  }
  const onEnd = () => controller.abort()
  process.stdin.on('data', onData)
  process.stdin.once('end', onEnd)
  try {
    return await prompt({output: process.stderr, signal: controller.signal})
  } catch (error) {
    if (error instanceof Error && PROMPT_CANCELS.has(error.name)) {
      process.stderr.write('\n')
      throw cancelled()
    }
    throw error
  } finally {
    process.stdin.off('data', onData)
    process.stdin.off('end', onEnd)
  }
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']

/** The terminal Interaction: @inquirer/prompts on stderr (stdout stays clean for data), chalk warnings. */
export function terminalInteraction(options: {quiet?: boolean} = {}): Interaction {
  const chalk = makeChalk(process.stderr)
  const interactive = canPrompt()
  const guard = (what: string) => {
    if (!interactive) {
      throw new SecretsError('USAGE', `Cannot ask for ${what}: no terminal (or CI is set).`, {
        suggestions: ['Pass the value with the flag or environment variable the command documents (see --help).'],
      })
    }
  }
  return {
    interactive,
    async password(message, why) {
      guard('a hidden value')
      if (why !== undefined) process.stderr.write(`${warningLine(why, chalk)}\n`)
      const {password} = await prompts()
      // No mask character and no reveal key: the length of a passphrase is not shown either.
      return ask((ctx) => password({message, mask: false, toggleMask: false}, ctx))
    },
    async confirm(message, defaultValue) {
      guard('a confirmation')
      const {confirm} = await prompts()
      return ask((ctx) => confirm({message, default: defaultValue}, ctx))
    },
    async input(message, defaultValue) {
      guard('input')
      const {input} = await prompts()
      return ask((ctx) => input({message, default: defaultValue}, ctx))
    },
    warn(message) {
      if (!options.quiet) process.stderr.write(`${warningLine(message, chalk)}\n`)
    },
    info(message) {
      if (!options.quiet) process.stderr.write(`${chalk.cyan('secrets:')} ${terminalSafe(message)}\n`)
    },
    async progress(label, work) {
      if (!process.stderr.isTTY || options.quiet) return work()
      let i = 0
      const draw = () => process.stderr.write(`\r${chalk.cyan(FRAMES[i++ % FRAMES.length])} ${label}`)
      const timer = setInterval(draw, 80)
      draw()
      try {
        return await work()
      } finally {
        clearInterval(timer)
        process.stderr.write(`\r${' '.repeat(label.length + 2)}\r`)
      }
    },
  }
}
