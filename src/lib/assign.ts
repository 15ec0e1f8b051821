import {warningLine} from '../cli/output.js'
import {clashWarning} from '../core/exec/child-env.js'

/** A warning as exec prints it: a `Warning: ...` line on stderr. */
export function warnOnStderr(message: string): void {
  process.stderr.write(`${warningLine(message)}\n`)
}

/** Assign resolved values to process.env with exec's clash rule: the secret wins, with a warning. */
export function assignToProcess(values: Record<string, string>, warn: (message: string) => void): void {
  for (const [name, value] of Object.entries(values)) {
    const current = process.env[name]
    if (current !== undefined && current !== value) warn(clashWarning(name))
    process.env[name] = value
  }
}
