import {appendFileSync, writeSync} from 'node:fs'

/**
 * Test-only crash points. Crash tests must kill a command at an exact step, every time, on a noisy
 * machine; timing cannot do that. A command calls `checkpoint(step)` at each point where the files on
 * disk change (or could); with none of the variables below set, a checkpoint does nothing.
 *
 * - `SECRETS_TEST_PAUSE_AT=<step>`: on reaching that step, print `secrets-test: paused at <step>` on
 *   stderr and block forever (the test then sends SIGKILL).
 * - `SECRETS_TEST_STEPS_LOG=<file>`: append every step reached to that file, one per line, so a test
 *   learns the full list of steps and can prove it killed the command at each.
 *
 * Not a user feature: documented as test-only, never needed in normal use.
 */
export function checkpoint(step: string, env: NodeJS.ProcessEnv = process.env): void {
  const log = env.SECRETS_TEST_STEPS_LOG
  if (log) appendFileSync(log, `${step}\n`)
  if (env.SECRETS_TEST_PAUSE_AT !== step) return
  writeSync(2, `secrets-test: paused at ${step}\n`)
  // Block the whole process (timers and I/O included), so nothing after this step can run.
  for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)
}
