// Runs a command on a pseudo-terminal and answers its prompts, for tests of interactive behaviour. It uses
// the same optional pty package as `secrets exec`; where that is not installed, the tests that need a
// terminal are skipped, naming why (skipWithoutPty), never passed.
import type {TestContext} from 'node:test'
import {setTimeout as sleep} from 'node:timers/promises'

import {drainBeforeDestroy, loadPty, PTY_PACKAGE} from '../../src/core/exec/child.js'
import {BIN, type Sandbox} from './cli.js'

/** What a run on a terminal produced: the exit status (-N for signal N) and everything it printed. */
export interface TerminalResult {
  code: number
  output: string
}

/** Prompts to answer in order: wait until `expect` appears (after the last match), then type `send`. */
export type TerminalScript = Array<[expect: string, send: string]>

/** How long to wait for each expected text, and for the whole run; after that the command is killed. */
const EXPECT_MS = 20_000
const TOTAL_MS = 60_000
/** A pause before typing, as a person would: a prompt is printed before it listens for keys. */
const TYPE_DELAY_MS = 150

const pty = await loadPty()

/** Why terminal tests cannot run here, or undefined when they can. */
export const PTY_MISSING = pty === undefined ? `${PTY_PACKAGE} (an optional dependency) is not installed` : undefined

/** Skip the test, naming why, where no pseudo-terminal is available; true when it was skipped. */
export function skipWithoutPty(t: TestContext): boolean {
  if (PTY_MISSING === undefined) return false
  t.skip(`needs a pseudo-terminal: ${PTY_MISSING}`)
  return true
}

/**
 * Run `command args...` on an 80-column pseudo-terminal, typing the script's answers as its prompts
 * appear. A prompt that never appears ends the answering, not the run: the transcript shows where it
 * stopped. Call skipWithoutPty first.
 */
export async function onTerminal(
  command: string,
  args: string[],
  script: TerminalScript,
  o: {cwd: string; env: NodeJS.ProcessEnv; cols?: number},
): Promise<TerminalResult> {
  if (pty === undefined) throw new Error(`onTerminal needs a pseudo-terminal: ${PTY_MISSING}`)
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(o.env)) if (v !== undefined) env[k] = v
  const term = pty.spawn(command, args, {
    name: env.TERM ?? 'xterm',
    cols: o.cols ?? 80,
    rows: 24,
    cwd: o.cwd,
    env,
    encoding: null,
  })
  const chunks: Buffer[] = []
  let changed: () => void = () => undefined
  const push = (d: Buffer | string) => {
    chunks.push(typeof d === 'string' ? Buffer.from(d, 'utf8') : d)
    changed()
  }
  term.onData(push)
  drainBeforeDestroy(term, push)
  let ended = false
  const exit = new Promise<number>((resolve) =>
    term.onExit(({exitCode, signal}) => {
      ended = true
      changed()
      resolve(signal ? -signal : exitCode)
    }),
  )
  const deadline = Date.now() + TOTAL_MS
  const killer = setTimeout(() => term.kill('SIGKILL'), TOTAL_MS)
  try {
    let seen = 0
    for (const [expect, send] of script) {
      const until = Math.min(deadline, Date.now() + EXPECT_MS)
      let at = -1
      for (;;) {
        at = Buffer.concat(chunks).indexOf(expect, seen, 'utf8')
        if (at !== -1 || ended || Date.now() >= until) break
        // Wake on new output or the exit, and at least every 100 ms to look at the clock.
        await new Promise<void>((resolve) => {
          const tick = setTimeout(resolve, 100)
          changed = () => {
            clearTimeout(tick)
            resolve()
          }
        })
      }
      if (at === -1) break
      seen = at + Buffer.byteLength(expect)
      await sleep(TYPE_DELAY_MS)
      if (!ended) term.write(send)
    }
    const code = await exit
    return {code, output: Buffer.concat(chunks).toString('utf8')}
  } finally {
    clearTimeout(killer)
  }
}

/** Run the CLI (`bin/run.js args...`) in the sandbox's project on a pseudo-terminal, with CI unset. */
export function cliOnTerminal(
  sb: Sandbox,
  args: string[],
  script: TerminalScript,
  env: Record<string, string | undefined> = {},
): Promise<TerminalResult> {
  return onTerminal(process.execPath, [BIN, ...args], script, {
    cwd: sb.project,
    env: sb.env({TERM: 'xterm', CI: undefined, ...env}),
  })
}
