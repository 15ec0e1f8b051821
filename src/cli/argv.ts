/** The flags every command accepts, which may also come before the command (`secrets --config X list`). */
const GLOBAL_WITH_VALUE = new Set(['--config', '--env'])
const GLOBAL_BOOLEAN = new Set(['--json'])

function globalLength(argv: readonly string[], i: number): number {
  const arg = argv[i]
  if (GLOBAL_BOOLEAN.has(arg)) return 1
  if (GLOBAL_WITH_VALUE.has(arg)) return i + 1 < argv.length ? 2 : 0
  const eq = arg.indexOf('=')
  return eq > 0 && GLOBAL_WITH_VALUE.has(arg.slice(0, eq)) ? 1 : 0
}

/** Whether the command line starts with a global flag (the only case `hoistGlobalFlags` changes). */
export function startsWithGlobalFlag(argv: readonly string[]): boolean {
  return argv.length > 0 && globalLength(argv, 0) > 0
}

/**
 * oclif takes the first word as the command, so global flags given first are moved after the command's
 * name: the longest run of leading words that `isCommand` accepts (`key add`), or else the first word,
 * so an unknown command still sees `--json`. Anything else is left where it is.
 */
export function hoistGlobalFlags(argv: readonly string[], isCommand: (id: string) => boolean): string[] {
  const globals: string[] = []
  let i = 0
  for (let n = globalLength(argv, i); n > 0 && i < argv.length; n = i < argv.length ? globalLength(argv, i) : 0) {
    globals.push(...argv.slice(i, i + n))
    i += n
  }
  const rest = argv.slice(i)
  let words = 0
  while (words < rest.length && !rest[words].startsWith('-')) words++
  if (words === 0) return [...argv]
  let name = 0
  for (let k = 1; k <= words; k++) if (isCommand(rest.slice(0, k).join(':'))) name = k
  const at = name || 1
  return [...rest.slice(0, at), ...globals, ...rest.slice(at)]
}
