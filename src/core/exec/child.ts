import {spawn, spawnSync} from 'node:child_process'
import {
  accessSync,
  closeSync,
  constants as fsConstants,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  statSync,
} from 'node:fs'
import {Socket} from 'node:net'
import {constants, tmpdir} from 'node:os'
import {delimiter, isAbsolute, join, resolve} from 'node:path'
import type {Writable} from 'node:stream'

import {SecretsError} from '../../errors.js'
import {Matcher, RedactStream} from './redact-stream.js'

/**
 * How the child's output reaches the user:
 * - `inherit`: the child writes straight to our stdout/stderr (`--no-redact`);
 * - `pipe`: through the masking stream, stdin inherited (no terminal on our side, or no pty support);
 * - `pty`: on a pseudo-terminal, so the child still sees a terminal, its output masked on the way out.
 */
export type IoMode = 'inherit' | 'pipe' | 'pty'

/** How a child ended. */
export interface ChildExit {
  code: number | null
  signal: number | null
}

/** A running child: signal it, and wait for it to end with all of its output written. */
export interface ChildHandle {
  readonly pid: number
  readonly mode: IoMode
  /**
   * Send a signal the way a terminal would (to the child's process group); `{group: false}`: to the
   * command alone (a reload signal is for the program asked to reload, not for what it started).
   */
  kill(signal: NodeJS.Signals, o?: {group?: boolean}): void
  readonly done: Promise<ChildExit>
  /** pty mode: give the terminal back its own modes before we stop (Ctrl-Z), and take it again on `fg`. */
  suspendTerminal?(): void
  resumeTerminal?(): void
}

export interface SpawnOptions {
  command: string
  args: string[]
  env: Record<string, string>
  cwd?: string
  mode: IoMode
  /** The masking matcher for `pipe` and `pty`, read at every chunk (so --watch can add values). */
  matcher?: () => Matcher
  stdout?: Writable
  stderr?: Writable
  /** pty mode: the suspend key (Ctrl-Z) was typed while the child's terminal turns it into a signal. */
  onSuspendKey?: () => void
}

/** The exit status to report: the child's own, or 128+N for signal N. */
export function exitStatus(e: ChildExit): number {
  if (e.signal !== null && e.signal > 0) return 128 + e.signal
  return e.code ?? 1
}

function notFound(command: string): SecretsError {
  return new SecretsError('COMMAND_NOT_FOUND', `Command not found: ${command}. Nothing was run.`, {
    suggestions: ['Check the spelling and PATH.'],
  })
}

function notExecutable(command: string): SecretsError {
  return new SecretsError('COMMAND_NOT_EXECUTABLE', `Cannot execute ${command}: permission denied.`, {
    suggestions: [`Check that ${command} is executable (chmod +x).`],
  })
}

/**
 * Find a command the way execvp does (PATH from the child's environment), so a missing or
 * non-executable command is reported as 127/126 before anything starts, in every mode.
 */
export function findExecutable(command: string, env: Record<string, string>, cwd = process.cwd()): string {
  const candidates = command.includes('/')
    ? [isAbsolute(command) ? command : resolve(cwd, command)]
    : (env.PATH ?? '/usr/local/bin:/usr/bin:/bin')
        .split(delimiter)
        .map((dir) => join(dir === '' ? cwd : resolve(cwd, dir), command))
  let sawNonExecutable = false
  for (const file of candidates) {
    let isFile = false
    try {
      isFile = statSync(file).isFile()
    } catch {
      continue
    }
    if (!isFile) {
      sawNonExecutable = true
      continue
    }
    try {
      accessSync(file, fsConstants.X_OK)
      return file
    } catch {
      sawNonExecutable = true
    }
  }
  throw sawNonExecutable ? notExecutable(command) : notFound(command)
}

/**
 * Copy the masker's output to `out` (never ending `out`), with backpressure. If `out` fails (a closed
 * pipe: `secrets exec ... | head`), the rest is discarded and `onGone` runs. Resolves when everything
 * the masker produced has been handed to `out`.
 */
function forward(redact: RedactStream, out: Writable, onGone: () => void): Promise<void> {
  redact.pipe(out, {end: false})
  const gone = () => {
    redact.unpipe(out)
    redact.resume()
    onGone()
  }
  out.once('error', gone)
  return new Promise((resolve) => {
    const finish = () => {
      out.removeListener('error', gone)
      resolve()
    }
    redact.once('end', finish)
    redact.once('error', finish)
  })
}

/** Mask a child's output pipe into `out`. */
function masked(from: NodeJS.ReadableStream & {destroy(): void}, matcher: () => Matcher, out: Writable): Promise<void> {
  const redact = new RedactStream(matcher)
  from.pipe(redact)
  // A pipe destroyed early (see the grace period below) never ends the masker by itself.
  from.once('close', () => {
    if (!redact.writableEnded) redact.end()
  })
  // When our own output is gone, close the child's pipe too, so it gets EPIPE/SIGPIPE exactly as if
  // it had written to the closed pipe itself.
  return forward(redact, out, () => from.destroy())
}

/** How long to wait, after the child exits, for its output pipes to close (a background grandchild may hold them). */
const OUTPUT_GRACE_MS = 500

/**
 * Two real pipes (FIFOs, unlinked at once) for the child's stdout and stderr: Node's own `pipe` stdio
 * is a socket pair, on which a child writing after `secrets exec ... | head` has closed gets
 * ECONNRESET instead of the EPIPE/SIGPIPE every program expects. Returns our read ends and the
 * child's write ends, or undefined where FIFOs cannot be made (then Node's pipes are used).
 */
function realPipes(): {read: [number, number]; write: [number, number]} | undefined {
  let dir: string | undefined
  try {
    dir = mkdtempSync(join(tmpdir(), 'secrets-pipe-'))
    const paths = [join(dir, 'out'), join(dir, 'err')]
    if (spawnSync('mkfifo', ['-m', '600', ...paths], {stdio: 'ignore'}).status !== 0) return undefined
    // Our non-blocking read end first, so opening the write end does not wait for a reader.
    const read = paths.map((p) => openSync(p, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK)) as [number, number]
    const write = paths.map((p) => openSync(p, fsConstants.O_WRONLY)) as [number, number]
    return {read, write}
  } catch {
    return undefined
  } finally {
    if (dir !== undefined) rmSync(dir, {recursive: true, force: true})
  }
}

/** Signal the child's process group (it leads one: everything it started hears it, as from a terminal). */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    try {
      process.kill(pid, signal)
    } catch {
      // Already gone.
    }
  }
}

function spawnPlain(o: SpawnOptions): Promise<ChildHandle> {
  const stdout = o.stdout ?? process.stdout
  const stderr = o.stderr ?? process.stderr
  const pipes = o.mode === 'pipe' ? realPipes() : undefined
  return new Promise((resolvePromise, reject) => {
    let child: ReturnType<typeof spawn>
    try {
      child = spawn(o.command, o.args, {
        env: o.env,
        cwd: o.cwd,
        // In pipe mode the child leads its own process group, so a signal meant for it (Ctrl-C on the
        // terminal, a kill of our group) reaches it once, from us, never also straight from the kernel.
        detached: o.mode === 'pipe',
        stdio: o.mode === 'inherit' ? 'inherit' : ['inherit', pipes?.write[0] ?? 'pipe', pipes?.write[1] ?? 'pipe'],
      })
    } catch (error) {
      if (pipes) for (const fd of [...pipes.read, ...pipes.write]) closeSync(fd)
      reject(spawnError(error as NodeJS.ErrnoException, o))
      return
    }
    if (pipes) for (const fd of pipes.write) closeSync(fd)
    const outs = pipes
      ? pipes.read.map((fd) => new Socket({fd, readable: true, writable: false}))
      : [child.stdout, child.stderr]
    let exited: ChildExit | undefined
    const done = new Promise<ChildExit>((resolveDone) => {
      const outputs: Array<Promise<void>> = []
      if (o.mode === 'pipe' && outs[0] && outs[1]) {
        const none = new Matcher([])
        const matcher = o.matcher ?? (() => none)
        outputs.push(masked(outs[0], matcher, stdout), masked(outs[1], matcher, stderr))
      }
      child.once('exit', (code, signal) => {
        exited = {code, signal: signal ? (constants.signals[signal] ?? 0) : null}
        if (outputs.length === 0) {
          resolveDone(exited)
          return
        }
        const grace = setTimeout(() => {
          for (const out of outs) out?.destroy()
        }, OUTPUT_GRACE_MS)
        grace.unref()
        void Promise.all(outputs).then(() => {
          clearTimeout(grace)
          resolveDone(exited!)
        })
      })
    })
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (exited !== undefined) return
      for (const out of outs) out?.destroy()
      reject(spawnError(error, o))
    })
    child.once('spawn', () => {
      resolvePromise({
        pid: child.pid!,
        mode: o.mode,
        kill: (signal, k) => {
          if (exited !== undefined) return
          if (o.mode === 'pipe' && k?.group !== false) signalGroup(child.pid!, signal)
          else child.kill(signal)
        },
        done,
      })
    })
  })
}

function spawnError(error: NodeJS.ErrnoException, o: SpawnOptions): Error {
  if (error.code === 'ENOENT') return notFound(o.command)
  if (error.code === 'EACCES') return notExecutable(o.command)
  if (error.code === 'E2BIG') return tooBig(o.env)
  return error
}

/** Linux's limit for one `NAME=value` string (MAX_ARG_STRLEN, 32 pages). */
export const MAX_ENV_STRING = 131_072

/** The environment is over the OS limit: name the largest variables, suggest `files:`. */
export function tooBig(env: Record<string, string>): SecretsError {
  const sizes = Object.entries(env)
    .map(([k, v]) => ({name: k, bytes: Buffer.byteLength(k) + Buffer.byteLength(v) + 2}))
    .sort((a, b) => b.bytes - a.bytes)
  const over = sizes.filter((s) => s.bytes > MAX_ENV_STRING)
  const named = (over.length > 0 ? over : sizes.slice(0, 3)).map((s) => `${s.name} (${s.bytes} bytes)`).join(', ')
  return new SecretsError(
    'USAGE',
    over.length > 0
      ? `The environment variable ${named} is over the operating system's limit of ${MAX_ENV_STRING} bytes for one variable (E2BIG). Nothing was run.`
      : `The environment is over the operating system's size limit (E2BIG); the largest variables are ${named}. Nothing was run.`,
    {
      suggestions: [
        'Declare large values under `files:` in secrets.yaml: the variable then holds the path of a file with the value.',
      ],
    },
  )
}

/** Refuse before spawning what execve would refuse with E2BIG for one variable (in every mode, node-pty included). */
export function checkEnvironmentSize(env: Record<string, string>): void {
  for (const [k, v] of Object.entries(env))
    if (Buffer.byteLength(k) + Buffer.byteLength(v) + 2 > MAX_ENV_STRING) throw tooBig(env)
}

/**
 * The part of @lydell/node-pty's API that exec uses. The package is optional (prebuilt binaries for each
 * platform, in optional packages of their own), so the type checker may not find it: it is loaded by a
 * name held in a variable and typed through these interfaces, and `tsc` passes with or without it.
 */
export interface PtyModule {
  spawn(
    file: string,
    args: string[],
    options: {name: string; cols: number; rows: number; cwd?: string; env: Record<string, string>; encoding: null},
  ): PtyProcess
}

/** A child on a pseudo-terminal, as @lydell/node-pty's `IPty`. */
export interface PtyProcess {
  readonly pid: number
  onData(listener: (data: Buffer | string) => void): void
  onExit(listener: (e: {exitCode: number; signal?: number}) => void): void
  write(data: string | Buffer): void
  resize(cols: number, rows: number): void
  kill(signal?: string): void
}

/** The optional package that provides pseudo-terminals; scripts/build.mjs keeps it external. */
export const PTY_PACKAGE: string = '@lydell/node-pty'

let ptyModule: Promise<PtyModule | undefined> | undefined

/** The pty package has a native part and may be missing: load it only when a terminal needs it. */
export function loadPty(): Promise<PtyModule | undefined> {
  ptyModule ??= import(PTY_PACKAGE).then(
    (m: {default?: PtyModule} & Partial<PtyModule>) => m.default ?? (m as PtyModule),
    () => undefined,
  )
  return ptyModule
}

async function spawnPty(o: SpawnOptions): Promise<ChildHandle> {
  const pty = await loadPty()
  if (pty === undefined) throw new Error(`${PTY_PACKAGE} is not available`)
  const file = findExecutable(o.command, o.env, o.cwd)
  const stdout = (o.stdout ?? process.stdout) as Writable & {columns?: number; rows?: number}
  const stdin = process.stdin
  const term = pty.spawn(file, o.args, {
    name: o.env.TERM || 'xterm-256color',
    cols: stdout.columns || 80,
    rows: stdout.rows || 24,
    cwd: o.cwd,
    env: o.env,
    encoding: null,
  })
  const none = new Matcher([])
  const redact = new RedactStream(o.matcher ?? (() => none))
  const written = forward(redact, stdout, () => undefined)
  term.onData((d) => redact.write(typeof d === 'string' ? Buffer.from(d, 'utf8') : d))
  drainBeforeDestroy(term, (d) => redact.write(d))
  // Keystrokes go to the pty raw: the pty's own line discipline echoes, edits, and turns Ctrl-C into
  // SIGINT for the child's process group, so Ctrl-C reaches the child exactly once.
  const wasRaw = stdin.isTTY ? stdin.isRaw : false
  const onInput = (d: Buffer) => {
    const at = d.indexOf(SUSPEND_KEY)
    if (at === -1 || o.onSuspendKey === undefined || !suspendsOnKey(term)) {
      term.write(d)
      return
    }
    if (at > 0) term.write(d.subarray(0, at))
    o.onSuspendKey()
    if (at + 1 < d.length) term.write(d.subarray(at + 1))
  }
  if (stdin.isTTY) stdin.setRawMode(true)
  stdin.on('data', onInput)
  stdin.resume()
  const onResize = () => term.resize(stdout.columns || 80, stdout.rows || 24)
  stdout.on('resize', onResize)
  const restore = () => {
    stdin.removeListener('data', onInput)
    stdin.pause()
    if (stdin.isTTY) stdin.setRawMode(wasRaw)
    stdout.removeListener('resize', onResize)
  }
  process.once('exit', restore)
  let exited = false
  const done = new Promise<ChildExit>((resolveDone) => {
    term.onExit(({exitCode, signal}) => {
      exited = true
      process.removeListener('exit', restore)
      restore()
      redact.end()
      void written.then(() => resolveDone({code: exitCode, signal: signal && signal > 0 ? signal : null}))
    })
  })
  return {
    pid: term.pid,
    mode: 'pty',
    kill: (signal, k) => {
      // The child leads its own session on the pty: signal its process group, as a terminal does.
      if (exited) return
      if (k?.group === false) term.kill(signal)
      else signalGroup(term.pid, signal)
    },
    suspendTerminal: () => {
      if (stdin.isTTY) stdin.setRawMode(wasRaw)
    },
    resumeTerminal: () => {
      if (exited) return
      if (stdin.isTTY) stdin.setRawMode(true)
      onResize()
    },
    done,
  }
}

/** Ctrl-Z. */
const SUSPEND_KEY = 0x1a

/**
 * Whether the child's terminal would turn Ctrl-Z into SIGTSTP (ISIG on, the suspend character ^Z):
 * a shell or an editor in raw mode reads the key itself, and then it must reach it as a byte.
 */
function suspendsOnKey(term: PtyProcess): boolean {
  const path = (term as unknown as {_pty?: string})._pty
  if (typeof path !== 'string') return true
  const r = spawnSync('stty', ['-a', '-F', path], {encoding: 'utf8'})
  if (r.status !== 0) return true
  return /(^|[\s;])isig\b/.test(r.stdout) && /\bsusp = \^Z;/.test(r.stdout)
}

/**
 * node-pty waits at most 200 ms after the child's exit for its read side to close, then destroys it.
 * On a busy machine that timer can fire before the last output was read (timers run before I/O in
 * Node's loop), and the child's final lines would be lost. So before the socket is destroyed, read
 * what is left on the pty synchronously (until it is empty, or closed).
 */
export function drainBeforeDestroy(term: PtyProcess, push: (data: Buffer) => void): void {
  const socket = (
    term as unknown as {_socket?: {fd?: number; destroyed?: boolean; destroy: (...args: unknown[]) => unknown}}
  )._socket
  if (socket === undefined || typeof socket.fd !== 'number') return
  const destroy = socket.destroy.bind(socket)
  const fd = socket.fd
  socket.destroy = (...args: unknown[]) => {
    // Only while the socket still owns the descriptor: once closed, the number may belong to another file.
    if (socket.destroyed !== false) return destroy(...args)
    const buf = Buffer.alloc(65_536)
    for (let i = 0; i < 1024; i++) {
      let n = 0
      try {
        n = readSync(fd, buf, 0, buf.length, null)
      } catch {
        break // EAGAIN: nothing left; EIO: the other side is closed.
      }
      if (n <= 0) break
      push(Buffer.from(buf.subarray(0, n)))
    }
    return destroy(...args)
  }
}

/** Start the child in the given mode; a command that is missing or not executable rejects with 127/126. */
export async function spawnChild(o: SpawnOptions): Promise<ChildHandle> {
  checkEnvironmentSize(o.env)
  if (o.mode === 'pty') return spawnPty(o)
  return spawnPlain(o)
}
