import {resolveEnvironment} from '../environment.js'
import {childEnvironment} from '../exec/exec.js'
import {exitStatus, spawnChild} from '../exec/child.js'
import type {Reference} from '../reference.js'
import {Matcher, patternsFor} from '../exec/redact-stream.js'
import {SecretFilesDir} from '../exec/secret-files.js'
import type {SecretValue} from '../secret-value.js'
import type {Session} from '../session.js'

/**
 * Verification for `rotate`, with exec's own machinery: loaded (one module, one chunk) only when a
 * rotation has a verify command, so neither `exec` nor `rotate` pays for it otherwise.
 */

/** The environment exec would resolve, fail closed, before anything is written. */
export function prepareVerifyCommand(
  session: Session,
  environment: string | undefined,
): ReturnType<typeof resolveEnvironment> {
  return resolveEnvironment(session, {environment, files: true})
}

/** Run `sh -c command` with the new value in its environment (or file), output masked on `output`; true on exit 0. */
export async function runVerifyCommand(o: {
  command: string
  prepared: Awaited<ReturnType<typeof prepareVerifyCommand>>
  name: string
  ref: Reference
  value: SecretValue
  /** The value being replaced, masked too (absent when the rotation adds a field). */
  old?: SecretValue
  parentEnv: NodeJS.ProcessEnv
  output: NodeJS.WritableStream
}): Promise<boolean> {
  const resolved = o.prepared.resolved.filter((r) => r.name !== o.name)
  const files = o.prepared.files.map((f) => (f.name === o.name ? {...f, value: o.value} : f))
  if (!files.some((f) => f.name === o.name))
    resolved.push({name: o.name, ref: o.ref, provider: o.ref.alias, value: o.value})
  const {env} = childEnvironment(o.parentEnv, resolved)
  let dir: SecretFilesDir | undefined
  try {
    if (files.length > 0) {
      dir = new SecretFilesDir(o.parentEnv)
      for (const [name, path] of dir.write(files)) env[name] = path
    }
    // The old value is masked too: a verify script may well print both.
    const {patterns} = patternsFor(
      [...resolved, ...files, ...(o.old === undefined ? [] : [{name: o.name, value: o.old}])].map((r) => ({
        name: r.name,
        value: r.value.reveal(),
      })),
    )
    const matcher = new Matcher(patterns)
    const child = await spawnChild({
      command: '/bin/sh',
      args: ['-c', o.command],
      env,
      mode: 'pipe',
      matcher: () => matcher,
      stdout: o.output as never,
      stderr: o.output as never,
    })
    return exitStatus(await child.done) === 0
  } finally {
    dir?.remove()
  }
}
