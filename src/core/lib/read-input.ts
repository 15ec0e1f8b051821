import {closeSync, constants, fstatSync, openSync, readSync, type Stats} from 'node:fs'

import {SecretsError, fsError, type ErrorCode} from '../../errors.js'
import type {Interaction} from '../interaction.js'
import {SecretValue} from '../secret-value.js'

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
  return Buffer.concat(chunks)
}

/**
 * Where a new value comes from, in order: a value on argv (accepted with a warning: it lands in shell
 * history and `ps`), `--from-file` (bytes exactly), piped stdin, or a hidden prompt on a terminal.
 * From stdin, one trailing newline is dropped from a single-line value (what `echo` adds); multiline
 * values are kept exactly.
 */
export async function readNewValue(o: {
  argvValue?: string
  fromFile?: string
  name: string
  ui: Interaction
  stdin?: NodeJS.ReadStream
}): Promise<SecretValue> {
  const stdin = o.stdin ?? process.stdin
  if (o.argvValue !== undefined && o.fromFile !== undefined) {
    throw new SecretsError('USAGE', 'Give the value either as an argument or with --from-file, not both.')
  }
  let bytes: Buffer
  if (o.argvValue !== undefined) {
    o.ui.warn(
      'A value given on the command line lands in your shell history and in the process list; pipe it on stdin or use --from-file instead.',
    )
    bytes = Buffer.from(o.argvValue, 'utf8')
  } else if (o.fromFile !== undefined) {
    try {
      bytes = readRegularFile(o.fromFile, {
        what: '--from-file',
        maxBytes: READ_LIMITS.value,
        instead: 'Give the path of a regular file, or pipe the value on stdin (some-command | secrets set NAME).',
      })
    } catch (error) {
      if (error instanceof SecretsError) throw error
      throw fsError(error, o.fromFile, 'reading')
    }
  } else if (!stdin.isTTY) {
    bytes = await readAll(stdin)
    const text = bytes.toString('utf8')
    const single = text.replace(/\r?\n$/, '')
    if (!single.includes('\n') && Buffer.from(text, 'utf8').equals(bytes)) bytes = Buffer.from(single, 'utf8')
  } else if (o.ui.interactive) {
    bytes = Buffer.from(await o.ui.password(`Value for ${o.name}`), 'utf8')
  } else {
    throw new SecretsError('USAGE', `No value for ${o.name}: pipe it on stdin, or pass --from-file FILE.`)
  }
  if (bytes.length === 0) {
    throw new SecretsError('USAGE', `The value for ${o.name} is empty; nothing was written.`, {
      suggestions: ['Pipe the value on stdin (printf %s "$VALUE" | secrets set NAME) or pass --from-file FILE.'],
    })
  }
  return new SecretValue(bytes)
}

/** Size caps for files read whole: far above any real input, low enough that /dev/zero cannot fill memory. */
export const READ_LIMITS = {config: 4 * 1024 * 1024, template: 16 * 1024 * 1024, value: 16 * 1024 * 1024} as const

/** How `readRegularFile` names the file and which code its refusals carry. */
export interface ReadFileOptions {
  /** The file as the user wrote it, for messages. */
  display?: string
  /** What the file is, for messages: "the config file", "the template", "--from-file". */
  what: string
  maxBytes: number
  /** The code of a refusal (directory, FIFO, device, too large, unreadable); USAGE by default. */
  code?: ErrorCode
  /** What to do instead, when the file is not a regular one. */
  instead?: string
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory'
  if (st.isFIFO()) return 'a named pipe (FIFO)'
  if (st.isCharacterDevice()) return 'a character device'
  if (st.isBlockDevice()) return 'a block device'
  if (st.isSocket()) return 'a socket'
  return 'not a regular file'
}

/**
 * Read a whole regular file, refusing anything that could hang or grow without bound: a FIFO (opened
 * non-blocking, so no writer is waited for), a device such as /dev/zero, a directory, or more than
 * `maxBytes` (a /proc file reports size 0, so the cap is checked while reading, not from stat).
 * Errors from open (ENOENT, EACCES) are thrown as they are, for the caller to word.
 */
export function readRegularFile(file: string, o: ReadFileOptions): Buffer {
  const display = o.display ?? file
  const code = o.code ?? 'USAGE'
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK)
  try {
    const st = fstatSync(fd)
    if (!st.isFile()) {
      throw new SecretsError(code, `${capitalize(o.what)} ${display} is ${kindOf(st)}, not a regular file.`, {
        suggestions: [o.instead ?? 'Give the path of a regular file.'],
      })
    }
    const tooLarge = () =>
      new SecretsError(code, `${capitalize(o.what)} ${display} is larger than ${o.maxBytes / 1024 / 1024} MiB.`, {
        suggestions: ['Check that the path names the file you meant.'],
      })
    if (st.size > o.maxBytes) throw tooLarge()
    const chunks: Buffer[] = []
    let total = 0
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(Math.max(st.size - total, 0) + 65_536, o.maxBytes + 1 - total))
      let n: number
      try {
        n = readSync(fd, buf, 0, buf.length, null)
      } catch (error) {
        const errno = (error as NodeJS.ErrnoException).code
        if (errno !== 'EIO' && errno !== 'EINVAL' && errno !== 'EISDIR') throw error
        throw new SecretsError(code, `${capitalize(o.what)} ${display} cannot be read as a file (${errno}).`, {
          cause: error,
          suggestions: ['Give the path of a regular file.'],
        })
      }
      if (n === 0) break
      chunks.push(buf.subarray(0, n))
      total += n
      if (total > o.maxBytes) throw tooLarge()
    }
    return Buffer.concat(chunks, total)
  } finally {
    closeSync(fd)
  }
}

function capitalize(s: string): string {
  return s.startsWith('--') ? s : s[0].toUpperCase() + s.slice(1)
}
