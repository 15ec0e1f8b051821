import {randomBytes} from 'node:crypto'
import {closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, unlinkSync, writeSync} from 'node:fs'
import {basename, dirname, join} from 'node:path'

import {SecretsError, fsError} from '../../errors.js'

/** Create `dir` (and parents) if missing; new directories get `mode` (0700 for anything private). */
export function ensureDir(dir: string, mode = 0o700): void {
  try {
    mkdirSync(dir, {recursive: true, mode})
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    // mkdir -p fails with EEXIST (or ENOTDIR) when the path, or a directory above it, is a file.
    if (code === 'EEXIST' || code === 'ENOTDIR') {
      throw new SecretsError(
        'NOT_FOUND',
        `Cannot create the directory ${dir}: it, or a directory above it, is a file.`,
        {
          cause: error,
          suggestions: [
            'Move that file away, or point the setting that names this path (SECRETS_AUDIT_LOG, XDG_STATE_HOME, XDG_CACHE_HOME, a store path ...) elsewhere.',
          ],
        },
      )
    }
    throw fsError(error, dir, 'creating directory')
  }
}

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r')
    try {
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
  } catch {
    // Some file systems do not support fsync on a directory; the rename itself is still atomic.
  }
}

/** The points inside writeFileAtomic that a crash test can stop at (see test-hooks.ts). */
export type AtomicWriteStep = 'temp-partial' | 'temp-written' | 'temp-synced' | 'renamed'

const tempPrefix = (file: string) => `.${basename(file)}.tmp-`

/**
 * Remove temp files that writeFileAtomic left next to `file` when its process was killed mid-write.
 * Only call this while holding the lock that every writer of `file` takes: then no temp file of `file`
 * can belong to a live writer. They hold a complete or partial copy of some version of `file`, never
 * anything else. Returns how many were removed.
 */
export function removeStaleTemps(file: string): number {
  const prefix = tempPrefix(file)
  let removed = 0
  let names: string[]
  try {
    names = readdirSync(dirname(file))
  } catch {
    return 0
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue
    try {
      unlinkSync(join(dirname(file), name))
      removed++
    } catch {
      // Gone already, or not ours to remove: leave it.
    }
  }
  return removed
}

/**
 * Write `data` to `file` atomically: a temp file in the same directory (created with `mode`, 0600 by
 * default), fsync, rename over the target, fsync the directory. A crash at any point leaves either the
 * old file or the new one, never a mix, and the temp file never has looser permissions than the result.
 */
export function writeFileAtomic(
  file: string,
  data: string | Uint8Array,
  mode = 0o600,
  step?: (name: AtomicWriteStep) => void,
): void {
  const dir = dirname(file)
  ensureDir(dir)
  const tmp = join(dir, `${tempPrefix(file)}${process.pid}-${randomBytes(6).toString('hex')}`)
  let fd: number | undefined
  try {
    fd = openSync(tmp, 'wx', mode)
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data
    let off = 0
    // With a step hook (crash tests), the first half is written on its own so a half-written temp file exists.
    const half = step === undefined ? buf.length : Math.floor(buf.length / 2)
    while (off < half) off += writeSync(fd, buf, off, half - off)
    step?.('temp-partial')
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off)
    step?.('temp-written')
    fsyncSync(fd)
    closeSync(fd)
    fd = undefined
    step?.('temp-synced')
    renameSync(tmp, file)
    step?.('renamed')
    fsyncDir(dir)
  } catch (error) {
    if (fd !== undefined) closeSync(fd)
    try {
      unlinkSync(tmp)
    } catch {
      // The temp file may not exist; nothing else to clean.
    }
    throw fsError(error, file, 'writing')
  }
}
