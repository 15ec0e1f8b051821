import {spawnSync} from 'node:child_process'
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  realpathSync,
  statSync,
  writeSync,
  type Stats,
} from 'node:fs'
import {basename, dirname, resolve} from 'node:path'
import {isatty} from 'node:tty'

import {SecretsError, fsError} from '../../errors.js'
import {gitEnv} from '../scan/git.js'
import {writeFileAtomic} from './atomic-write.js'

/** How `writeOutputFile` words its messages and where it warns. */
export interface OutputFileOptions {
  /** What the file holds, for messages: "a rendered template", "an export". */
  holds: string
  /** The secrets in it, for the warning: "rendered secrets", "exported secrets". */
  secrets: string
  warn(message: string): void
}

/**
 * Whether git tracks `file` (false when git is missing or the file is outside a work tree). git gets
 * scan's pared-down environment, so no credential of ours (SECRETS_AGE_KEY, VAULT_TOKEN...) reaches it.
 */
function gitStatus(file: string): {tracked: boolean; ignored: boolean; repo: boolean} {
  const env = {...gitEnv(process.env), GIT_OPTIONAL_LOCKS: '0'}
  const run = (args: string[]) => spawnSync('git', args, {cwd: dirname(file), stdio: 'ignore', env}).status
  if (run(['rev-parse', '--is-inside-work-tree']) !== 0) return {tracked: false, ignored: false, repo: false}
  return {
    tracked: run(['ls-files', '--error-unmatch', '--', basename(file)]) === 0,
    ignored: run(['check-ignore', '-q', '--', basename(file)]) === 0,
    repo: true,
  }
}

function statOrUndefined(stat: () => Stats, file: string): Stats | undefined {
  try {
    return stat()
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw fsError(error, file, 'checking')
  }
}

/**
 * Write secret-bearing output to `file` (`export -o`, `render -o`):
 * - a regular file, or none yet: atomically with mode 0600, refusing a file git tracks (warning when git
 *   would not ignore it), and never creating a missing directory (a typo must not grow a tree);
 * - a symlink to a regular file: the same, through to its target, so the link stays a link;
 * - a FIFO or pipe (`-o /dev/stdout` in a pipeline, `-o >(gpg -e)`): written in place, as a shell
 *   redirection would; renaming over it would replace the pipe by a file nobody reads;
 * - a character device that is not a terminal (/dev/null): written in place too;
 * - a terminal, a block device, a socket or a directory: refused. Secrets on a terminal stay in the
 *   scrollback (render refuses stdout on a terminal for the same reason); on a disk they land outside
 *   any file system.
 */
export function writeOutputFile(file: string, data: string | Uint8Array, o: OutputFileOptions): void {
  const path = resolve(file)
  const fd = ownDescriptor(path)
  if (fd !== undefined) {
    writeToDescriptor(file, fd, toBuffer(data))
    return
  }
  const link = statOrUndefined(() => lstatSync(path), file)
  const st = link?.isSymbolicLink() ? statOrUndefined(() => statSync(path), file) : link
  if (link?.isSymbolicLink() && st === undefined) {
    throw new SecretsError('USAGE', `Refusing to write ${file}: it is a symbolic link to a file that does not exist.`, {
      suggestions: ['Point the link at an existing file, remove it, or write to another path.'],
    })
  }
  if (st === undefined || st.isFile()) {
    writeRegular(file, link?.isSymbolicLink() ? realpathSync(path) : path, data, o)
    return
  }
  if (st.isDirectory()) {
    throw new SecretsError('USAGE', `Refusing to write ${file}: it is a directory.`, {
      suggestions: [`Name a file to write, e.g. ${file.replace(/\/+$/, '')}/out.`],
    })
  }
  if (st.isFIFO() || st.isCharacterDevice()) {
    writeInPlace(file, path, data)
    return
  }
  throw new SecretsError(
    'USAGE',
    `Refusing to write ${file}: it is a ${st.isBlockDevice() ? 'block device' : 'socket'}, not a file or a pipe.`,
    {suggestions: ['Write to a regular file, or to stdout and redirect it.']},
  )
}

function writeRegular(file: string, target: string, data: string | Uint8Array, o: OutputFileOptions): void {
  const dir = dirname(target)
  const parent = statOrUndefined(() => statSync(dir), dir)
  if (parent === undefined || !parent.isDirectory()) {
    throw new SecretsError('NOT_FOUND', `Cannot write ${file}: the directory ${dir} does not exist.`, {
      suggestions: [`Create it first (mkdir -p ${dir}), or fix the path.`],
    })
  }
  const git = gitStatus(target)
  if (git.tracked) {
    throw new SecretsError('USAGE', `Refusing to write ${file}: git tracks it, and ${o.holds} holds secret values.`, {
      suggestions: [
        `Write to a path that git ignores (add it to .gitignore), or run \`git rm --cached ${file}\` first if it should never have been committed.`,
      ],
    })
  }
  if (git.repo && !git.ignored)
    o.warn(`${file} is not ignored by git; add it to .gitignore so the ${o.secrets} are never committed.`)
  writeFileAtomic(target, data, 0o600)
}

const toBuffer = (data: string | Uint8Array) => (typeof data === 'string' ? Buffer.from(data, 'utf8') : data)

/**
 * /dev/stdout, /dev/stderr, /dev/fd/N and /proc/self/fd/N name a descriptor this process already has:
 * it is written directly, wherever it leads (a pipe, a socket, which cannot be opened by path, or a
 * file the shell redirected to, which is appended to as `>` would, not renamed over).
 */
function ownDescriptor(path: string): number | undefined {
  if (path === '/dev/stdout') return 1
  if (path === '/dev/stderr') return 2
  const m = /^\/(?:dev\/fd|proc\/self\/fd)\/(\d+)$/.exec(path)
  return m ? Number(m[1]) : undefined
}

function refuseTerminal(file: string): never {
  throw new SecretsError(
    'USAGE',
    `Refusing to write ${file}: it is a terminal, and secret values would stay on screen and in the scrollback.`,
    {suggestions: ['Write to a file, or pipe the output into the program that needs it.']},
  )
}

function writeToDescriptor(file: string, fd: number, buf: Uint8Array): void {
  let st: Stats
  try {
    st = fstatSync(fd)
  } catch (error) {
    throw fsError(error, file, 'writing')
  }
  if (isatty(fd)) refuseTerminal(file)
  if (st.isDirectory() || st.isBlockDevice()) {
    throw new SecretsError('USAGE', `Refusing to write ${file}: it is not a file, a pipe or a socket.`)
  }
  writeAll(fd, file, buf)
}

function writeInPlace(file: string, path: string, data: string | Uint8Array): void {
  let fd: number
  try {
    // Non-blocking, so a FIFO nobody reads is refused (ENXIO) instead of waiting forever.
    fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK | constants.O_NOCTTY)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENXIO') {
      throw new SecretsError('USAGE', `Refusing to write ${file}: it is a named pipe that no process reads.`, {
        suggestions: ['Start the reader first, or write to a regular file.'],
      })
    }
    throw fsError(error, file, 'opening')
  }
  try {
    if (isatty(fd)) refuseTerminal(file)
    writeAll(fd, file, toBuffer(data))
  } finally {
    closeSync(fd)
  }
}

const pause = new Int32Array(new SharedArrayBuffer(4))

function writeAll(fd: number, file: string, buf: Uint8Array): void {
  let off = 0
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off, buf.length - off)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      // A full pipe: wait for the reader to drain it (the descriptor is non-blocking).
      if (code === 'EAGAIN') Atomics.wait(pause, 0, 0, 5)
      else if (code === 'EPIPE') {
        throw new SecretsError('UNAVAILABLE', `Could not finish writing ${file}: its reader closed the pipe.`, {
          cause: error,
          suggestions: ['Check the program reading the pipe, then run the command again.'],
        })
      } else throw fsError(error, file, 'writing')
    }
  }
}
