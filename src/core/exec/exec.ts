import {readFileSync} from 'node:fs'
import {constants} from 'node:os'
import {isatty} from 'node:tty'

import {SecretsError} from '../../errors.js'
import {
  exitStatus,
  findExecutable,
  loadPty,
  spawnChild,
  type ChildExit,
  type ChildHandle,
  type IoMode,
} from './child.js'
import {childEnvironment, clashWarning} from './child-env.js'
import type {Interaction} from '../interaction.js'
import type {LeaseKeeper} from '../lease/keeper.js'
import {Matcher, patternsFor, type RedactPattern} from './redact-stream.js'
import type {Resolved} from '../resolved.js'
import {firstResolution, resolveSnapshot, type ResolutionOptions, type Snapshot} from './resolve.js'
import {SecretFilesDir} from './secret-files.js'
import type {Session} from '../session.js'

// Rotation's verify command imports exec's environment from here: one module graph, so the build keeps
// exec's chunks as they were (bench/exec-vs-base.mjs).
export {childEnvironment} from './child-env.js'

/**
 * Signals forwarded to the child: every catchable one whose default action ends a process (each is
 * handled as SIGTERM is: forwarded, the child awaited, the files directory removed), plus SIGWINCH.
 * Not SIGPIPE (Node ignores it) nor the synchronous faults (SIGSEGV, SIGBUS, SIGFPE, SIGILL).
 */
export const FORWARDED_SIGNALS = (
  [
    'SIGINT',
    'SIGTERM',
    'SIGHUP',
    'SIGQUIT',
    'SIGUSR1',
    'SIGUSR2',
    'SIGALRM',
    'SIGXCPU',
    'SIGXFSZ',
    'SIGVTALRM',
    'SIGPROF',
    'SIGIO',
    'SIGPWR',
    'SIGSYS',
    'SIGTRAP',
    'SIGWINCH',
  ] as const
).filter((sig) => sig in constants.signals)

/** Signals that do not end a --watch run. */
const NON_STOPPING_SIGNALS = new Set<NodeJS.Signals>(['SIGUSR1', 'SIGUSR2', 'SIGWINCH'])

/**
 * True when we are in the foreground process group of our terminal (/proc/self/stat: pgrp is tpgid).
 * Then a child sharing our group (--no-redact) got a Ctrl-C or Ctrl-\\ from the terminal itself.
 */
export function inForegroundOfTerminal(): boolean {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(fields[2]) > 0 && fields[2] === fields[5]
  } catch {
    return isatty(0)
  }
}

/** Parse an interval such as `30s`, `5m`, `1h`, `1500ms` or a plain number of seconds; at least 1 s. */
export function parseInterval(text: string, flag = '--interval'): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim())
  if (m === null) {
    throw new SecretsError('USAGE', `${flag} ${JSON.stringify(text)} is not a duration.`, {
      suggestions: [`Write it as a number with a unit, e.g. ${flag} 30s, 5m or 1h.`],
    })
  }
  const ms = Number(m[1]) * {ms: 1, s: 1000, m: 60_000, h: 3_600_000}[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h']
  if (ms < 1000)
    throw new SecretsError('USAGE', `${flag} ${text} is shorter than 1s.`, {
      suggestions: ['Poll at most once a second; providers rate-limit reads.'],
    })
  return ms
}

/** A signal name as a flag value: `HUP`, `SIGHUP` or a number. */
export function parseSignal(text: string, flag = '--reload-signal'): NodeJS.Signals {
  const upper = text.trim().toUpperCase()
  const name = (upper.startsWith('SIG') ? upper : `SIG${upper}`) as NodeJS.Signals
  if (Object.hasOwn(constants.signals, name) && name !== 'SIGKILL' && name !== 'SIGSTOP') return name
  const byNumber = Object.entries(constants.signals).find(([, n]) => String(n) === upper)?.[0] as
    NodeJS.Signals | undefined
  if (byNumber !== undefined && byNumber !== 'SIGKILL' && byNumber !== 'SIGSTOP') return byNumber
  throw new SecretsError('USAGE', `${flag} ${JSON.stringify(text)} is not a signal a process can handle.`, {
    suggestions: [`Use a name such as ${flag} HUP or ${flag} USR1.`],
  })
}

export interface ExecOptions extends ResolutionOptions {
  /** The command and its arguments (everything after `--`). */
  command: string[]
  pristine?: boolean
  /** Mask secret values in the child's output (default) or hand it our stdio as it is. */
  redact: boolean
  killTimeoutMs: number
  watch?: {intervalMs: number; reloadSignal?: NodeJS.Signals}
  parentEnv: NodeJS.ProcessEnv
}

function changedNames(a: Map<string, string>, b: Map<string, string>): string[] {
  const names = new Set([...a.keys(), ...b.keys()])
  return [...names].filter((n) => a.get(n) !== b.get(n)).sort()
}

/** Which I/O mode to use: a pty when we are on a terminal (and node-pty loads), pipes otherwise. */
async function chooseMode(redact: boolean, ui: Interaction): Promise<IoMode> {
  if (!redact) return 'inherit'
  // isatty(0) rather than process.stdin.isTTY, which would build a stdin stream that pipe mode never uses.
  if (!(isatty(0) && process.stdout.isTTY)) return 'pipe'
  if (await loadPty()) return 'pty'
  ui.warn(
    'node-pty could not be loaded, so the command runs without a terminal (output is still masked); use --no-redact to give it your terminal.',
  )
  return 'pipe'
}

/**
 * The child's side of each start: its environment, its secret files, and the masking patterns for its
 * output (which keep every value seen in the run).
 */
class ChildSetup {
  private filesDir: SecretFilesDir | undefined
  private readonly everSeen = new Map<string, Resolved>()
  private patterns: RedactPattern[] = []
  private matcher: Matcher | undefined
  /** Built on first output (a command that prints nothing never pays for it), rebuilt when --watch adds values. */
  readonly currentMatcher = () => (this.matcher ??= new Matcher(this.patterns))

  constructor(
    private readonly command: string,
    private readonly mode: IoMode,
    private readonly o: ExecOptions,
  ) {}

  /** The environment for one start; also checks the command exists before anything is written. */
  prepare(snap: Snapshot, warn: boolean): Record<string, string> {
    const {o} = this
    const {env, clashes} = childEnvironment(o.parentEnv, snap.resolved, {pristine: o.pristine, only: o.only})
    for (const f of snap.files) if (Object.hasOwn(env, f.name)) clashes.push(f.name)
    if (warn) for (const name of clashes) o.ui.warn(clashWarning(name))
    findExecutable(this.command, env)
    if (snap.files.length > 0) {
      this.filesDir ??= new SecretFilesDir(o.parentEnv)
      for (const [name, path] of this.filesDir.write(snap.files)) env[name] = path
    }
    if (this.mode !== 'inherit') this.mask(snap, warn)
    return env
  }

  private mask(snap: Snapshot, warn: boolean): void {
    // Values seen earlier in a --watch run stay masked: the child may still print an old value.
    // A rendered template is masked by the secret values in it, not by its whole text.
    for (const r of [...snap.resolved, ...snap.files.flatMap((f) => f.masks ?? [f])])
      this.everSeen.set(`${r.name}\u0000${r.value.reveal().toString('base64')}`, r)
    const found = patternsFor([...this.everSeen.values()].map((r) => ({name: r.name, value: r.value.reveal()})))
    if (warn)
      for (const name of found.tooShort)
        this.o.ui.warn(`${name} is shorter than 4 characters, so it is not masked in the command's output.`)
    this.patterns = found.patterns
    this.matcher = undefined
  }

  remove(): void {
    this.filesDir?.remove()
  }
}

/**
 * The supervisor's signal handling: signals reach the current child (held while none runs), a second
 * SIGTERM or the kill timeout escalates to SIGKILL, and a stopping signal ends a --watch run.
 */
class SignalForwarder {
  child: ChildHandle | undefined
  /** A stopping signal arrived: a --watch run ends with the child instead of restarting it. */
  stopping = false
  private readonly pending: NodeJS.Signals[] = []
  private terms = 0
  private killTimer: NodeJS.Timeout | undefined
  private readonly handlers = new Map<NodeJS.Signals, () => void>()

  constructor(private readonly killTimeoutMs: number) {
    // Handlers go in before the child exists: a signal that arrives while it starts is held, then
    // forwarded, instead of killing us with the default action and orphaning the child.
    for (const sig of FORWARDED_SIGNALS) {
      const handler = () => this.deliver(sig)
      this.handlers.set(sig, handler)
      process.on(sig, handler)
    }
    const tstp = () => this.suspend()
    const cont = () => this.continued()
    this.handlers.set('SIGTSTP', tstp)
    this.handlers.set('SIGCONT', cont)
    process.on('SIGTSTP', tstp)
    process.on('SIGCONT', cont)
  }

  /** A new child runs: it gets the signals held while none ran. */
  started(handle: ChildHandle): void {
    this.child = handle
    for (const sig of this.pending.splice(0)) this.deliver(sig)
  }

  /** Before a restart: the next child starts with no SIGTERM counted. */
  reset(): void {
    this.terms = 0
    clearTimeout(this.killTimer)
    this.killTimer = undefined
  }

  /** SIGTERM, then SIGKILL after the kill timeout. */
  stop(target: ChildHandle): void {
    target.kill('SIGTERM')
    const timer = setTimeout(() => target.kill('SIGKILL'), this.killTimeoutMs)
    void target.done.then(() => clearTimeout(timer))
  }

  private deliver(sig: NodeJS.Signals): void {
    const {child} = this
    if (child === undefined) {
      this.pending.push(sig)
      return
    }
    if (!NON_STOPPING_SIGNALS.has(sig)) this.stopping = true
    // The pty tells the child about size changes itself (resize sends SIGWINCH to its process group).
    if (child.mode === 'pty' && sig === 'SIGWINCH') return
    // Only with --no-redact does the child share our process group: a Ctrl-C or Ctrl-\ typed on the
    // terminal we are the foreground of reached it already. In pipe mode it leads its own group and in
    // pty mode the keys go to its pty, so whatever we receive is forwarded, once.
    if (child.mode === 'inherit' && (sig === 'SIGINT' || sig === 'SIGQUIT') && inForegroundOfTerminal()) return
    if (sig !== 'SIGINT' && sig !== 'SIGQUIT' && sig !== 'SIGHUP' && !NON_STOPPING_SIGNALS.has(sig)) {
      this.terms++
      if (this.terms > 1) {
        child.kill('SIGKILL')
        return
      }
      this.killTimer ??= setTimeout(() => child.kill('SIGKILL'), this.killTimeoutMs)
    }
    child.kill(sig)
  }

  /**
   * Ctrl-Z (SIGTSTP from the terminal, or a pty's suspend key): stop the child's group, then
   * ourselves; on SIGCONT (`fg`, `bg`) continue the child. A child leading its own group or session
   * is in an orphaned process group, where the kernel drops SIGTSTP, so it is stopped with SIGSTOP.
   */
  suspend(): void {
    const {child} = this
    if (child !== undefined && child.mode !== 'inherit') child.kill('SIGSTOP')
    child?.suspendTerminal?.()
    process.kill(process.pid, 'SIGSTOP')
  }

  private continued(): void {
    const {child} = this
    if (child !== undefined && child.mode !== 'inherit') child.kill('SIGCONT')
    child?.resumeTerminal?.()
  }

  remove(): void {
    for (const [sig, h] of this.handlers) process.removeListener(sig, h)
    clearTimeout(this.killTimer)
  }
}

/**
 * `secrets exec`: resolve everything first (fail closed), then run the command with the secrets in its
 * environment and files, masking values in its output, forwarding signals, and (with --watch)
 * restarting it when a value changes. Resolves with the exit status to use.
 */
export async function runExec(session: Session, o: ExecOptions): Promise<number> {
  const [command, ...args] = o.command
  session.child = command
  const {snapshot, prepared} = await firstResolution(session, o, async (snap) => ({
    mode: await chooseMode(o.redact, o.ui),
    leases: await keepLeases(session, snap, o),
  }))
  const {mode, leases} = prepared
  const setup = new ChildSetup(command, mode, o)
  const signals = new SignalForwarder(o.killTimeoutMs)
  const start = async (snap: Snapshot, first: boolean): Promise<ChildHandle> => {
    let env: Record<string, string>
    try {
      env = setup.prepare(snap, first)
    } catch (error) {
      await session.releaseReads(error)
      throw error
    }
    await session.releaseReads()
    const handle = await spawnChild({
      command,
      args,
      env,
      mode,
      matcher: setup.currentMatcher,
      onSuspendKey: () => signals.suspend(),
    })
    signals.started(handle)
    return handle
  }
  try {
    const current = await start(snapshot, true)
    if (o.watch === undefined) return exitStatus(await current.done)
    return await watch({session, o, setup, signals, start, leases}, snapshot, current, o.watch)
  } finally {
    signals.remove()
    setup.remove()
    // Whichever way the child ended (or secrets failed), its leases end with it.
    await leases?.stop()
  }
}

/** Dynamic credentials of the snapshot: in the ledger before the child starts, renewed while it runs. */
async function keepLeases(session: Session, snap: Snapshot, o: ExecOptions): Promise<LeaseKeeper | undefined> {
  const all = [...snap.resolved, ...snap.files]
  if (!all.some((r) => r.lease !== undefined)) return undefined
  const {LeaseKeeper} = await import('../lease/keeper.js')
  // With --watch, a lease that cannot be renewed is revoked, and the next poll restarts with a fresh one.
  const keeper = new LeaseKeeper(session, {warn: (m) => o.ui.warn(m), onLost: o.watch ? () => undefined : undefined})
  try {
    await keeper.adopt(all)
  } catch (error) {
    await keeper.stop()
    throw error
  }
  return keeper
}

interface Run {
  session: Session
  o: ExecOptions
  setup: ChildSetup
  signals: SignalForwarder
  start: (snap: Snapshot, first: boolean) => Promise<ChildHandle>
  leases?: LeaseKeeper
}

/**
 * --watch: poll the secrets (with jitter) while the child runs; when a value changes, restart the
 * child, or only rewrite its files and send it the reload signal if files alone changed.
 */
async function watch(
  run: Run,
  first: Snapshot,
  firstChild: ChildHandle,
  {intervalMs, reloadSignal}: NonNullable<ExecOptions['watch']>,
): Promise<number> {
  const {o, signals} = run
  let snapshot = first
  let current = firstChild
  for (;;) {
    const ended = await waitOrEnd(current, intervalMs * (0.9 + 0.2 * Math.random()))
    if (ended !== undefined || signals.stopping) return exitStatus(ended ?? (await current.done))
    let next: Snapshot
    try {
      next = await resolveSnapshot(run.session, o)
    } catch (error) {
      const e = error instanceof SecretsError ? error : new SecretsError('INTERNAL', String(error))
      o.ui.warn(
        `--watch could not re-resolve the secrets [${e.code}] ${e.message.split('\n')[0]}; the command keeps running with the values it has.`,
      )
      continue
    }
    // The child may have ended while we were resolving: then its status is ours, not a restart.
    const endedMeanwhile = await Promise.race([current.done, Promise.resolve(undefined)])
    if (endedMeanwhile !== undefined) return exitStatus(endedMeanwhile)
    const changed = changedNames(snapshot.fingerprint, next.fingerprint)
    if (changed.length === 0 || signals.stopping) continue
    await run.leases?.adopt([...next.resolved, ...next.files])
    const fileNames = new Set(next.files.map((f) => f.name))
    const onlyFiles = changed.every((n) => fileNames.has(n) && snapshot.fingerprint.has(n))
    if (reloadSignal !== undefined && onlyFiles) {
      o.ui.info(`${changed.join(', ')} changed: rewrote the file(s) and sent ${reloadSignal} to the command.`)
      run.setup.prepare(next, false)
      snapshot = next
      current.kill(reloadSignal, {group: false})
      continue
    }
    o.ui.info(`${changed.join(', ')} changed: restarting the command.`)
    snapshot = next
    signals.stop(current)
    const previous: ChildExit = await current.done
    if (signals.stopping) return exitStatus(previous)
    signals.reset()
    current = await run.start(snapshot, false)
  }
}

/** The child's exit if it ends within `ms`, else undefined. */
async function waitOrEnd(child: ChildHandle, ms: number): Promise<ChildExit | undefined> {
  let timer: NodeJS.Timeout | undefined
  const ended = await Promise.race([
    child.done,
    new Promise<undefined>((r) => {
      timer = setTimeout(() => r(undefined), ms)
    }),
  ])
  clearTimeout(timer)
  return ended
}
