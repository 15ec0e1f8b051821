import {randomBytes} from 'node:crypto'
import {closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync} from 'node:fs'
import {basename, dirname, join} from 'node:path'

import {fsError} from '../errors.js'

/** Create `dir` (and parents) if missing; new directories get `mode` (0700 for anything private). */
export function ensureDir(dir: string, mode = 0o700): void {
  try {
    mkdirSync(dir, {recursive: true, mode})
  } catch (error) {
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

/**
 * Write `data` to `file` atomically: a temp file in the same directory (created with `mode`, 0600 by
 * default), fsync, rename over the target, fsync the directory. A crash at any point leaves either the
 * old file or the new one, never a mix, and the temp file never has looser permissions than the result.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o600): void {
  const dir = dirname(file)
  ensureDir(dir)
  const tmp = join(dir, `.${basename(file)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`)
  let fd: number | undefined
  try {
    fd = openSync(tmp, 'wx', mode)
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data
    let off = 0
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off)
    fsyncSync(fd)
    closeSync(fd)
    fd = undefined
    renameSync(tmp, file)
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
