import {spawn, type ChildProcess} from 'node:child_process'
import {constants} from 'node:os'

import {SecretsError} from '../errors.js'
import type {Resolved} from './session.js'

/** Variables that configure secrets itself: never passed to a child. */
export function isOwnVariable(name: string): boolean {
  return name.startsWith('SECRETS_')
}

/** The minimal environment `--pristine` starts from. */
export const PRISTINE_ALLOWLIST = ['PATH', 'HOME', 'USER', 'LANG', 'TERM', 'TZ'] as const

export interface ChildEnvOptions {
  pristine?: boolean
  only?: string[]
}

/**
 * The child's environment: the parent's (or the pristine allowlist), minus secrets' own variables,
 * plus the secrets. A secret wins over a parent variable of the same name; the clashes are returned
 * so the caller can warn.
 */
export function childEnvironment(parent: NodeJS.ProcessEnv, secrets: Resolved[], o: ChildEnvOptions = {}): {env: Record<string, string>; clashes: string[]} {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(parent)) {
    if (v === undefined || isOwnVariable(k)) continue
    if (o.pristine && !(PRISTINE_ALLOWLIST as readonly string[]).includes(k)) continue
    env[k] = v
  }
  const clashes: string[] = []
  for (const s of secrets) {
    if (o.only && !o.only.includes(s.name)) continue
    if (!s.value.isEnvSafe()) {
      throw new SecretsError('USAGE', `The value of ${s.name} (${s.ref.raw}) is binary or holds a NUL byte, so it cannot be an environment variable.`, {
        ref: s.ref.raw,
        suggestions: ['Store it base64-encoded, or leave it out with --only.'],
      })
    }
    if (Object.hasOwn(env, s.name) && env[s.name] !== s.value.text()) clashes.push(s.name)
    env[s.name] = s.value.text()
  }
  return {env, clashes}
}

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'] as const

/**
 * Run a child with inherited stdio, forward signals to it, and resolve with the exit status to use:
 * the child's own, or 128+N if it died from signal N. A second SIGTERM, or the child outliving
 * `killTimeoutMs` after a forwarded SIGTERM, escalates to SIGKILL.
 */
export function runChild(command: string, args: string[], env: Record<string, string>, o: {killTimeoutMs?: number} = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    let child: ChildProcess | undefined
    const pending: NodeJS.Signals[] = []
    const handlers = new Map<string, () => void>()
    let terms = 0
    let killTimer: NodeJS.Timeout | undefined
    const cleanup = () => {
      for (const [sig, h] of handlers) process.removeListener(sig, h)
      if (killTimer) clearTimeout(killTimer)
    }
    const deliver = (sig: NodeJS.Signals) => {
      if (child === undefined) {
        pending.push(sig)
        return
      }
      // Ctrl-C on a terminal already reaches the child (same process group): do not send it twice.
      if ((sig === 'SIGINT' || sig === 'SIGQUIT') && process.stdin.isTTY) return
      if (sig === 'SIGTERM') {
        terms++
        if (terms > 1) {
          child.kill('SIGKILL')
          return
        }
        killTimer ??= setTimeout(() => child?.kill('SIGKILL'), o.killTimeoutMs ?? 10_000)
      }
      child.kill(sig)
    }
    // Handlers go in before the child exists: a signal that arrives while it starts is held, then
    // forwarded, instead of killing us with the default action and orphaning the child.
    for (const sig of FORWARDED) {
      const handler = () => deliver(sig)
      handlers.set(sig, handler)
      process.on(sig, handler)
    }
    child = spawn(command, args, {env, stdio: 'inherit'})
    child.on('error', (error: NodeJS.ErrnoException) => {
      cleanup()
      if (error.code === 'ENOENT') {
        reject(new SecretsError('COMMAND_NOT_FOUND', `Command not found: ${command}. Nothing was run.`, {suggestions: ['Check the spelling and PATH.']}))
      } else if (error.code === 'EACCES') {
        reject(new SecretsError('COMMAND_NOT_EXECUTABLE', `Cannot execute ${command}: permission denied.`, {suggestions: [`Check that ${command} is executable (chmod +x).`]}))
      } else {
        reject(error)
      }
    })
    child.on('exit', (code, signal) => {
      cleanup()
      if (signal) resolve(128 + (constants.signals[signal] ?? 0))
      else resolve(code ?? 1)
    })
    for (const sig of pending.splice(0)) deliver(sig)
  })
}
