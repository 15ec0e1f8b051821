import {accessSync, constants, mkdtempSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {fsError} from '../../errors.js'
import {writeFileAtomic} from '../lib/atomic-write.js'
import type {ResolvedFile} from '../resolved.js'

/** Where the private directory goes: tmpfs (/dev/shm) when it is there and writable, so values never reach a disk. */
export function secretFilesBase(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SECRETS_FILES_DIR) return env.SECRETS_FILES_DIR
  try {
    if (statSync('/dev/shm').isDirectory()) {
      accessSync('/dev/shm', constants.W_OK | constants.X_OK)
      return '/dev/shm'
    }
  } catch {
    // No tmpfs: fall back to the temp directory.
  }
  return tmpdir()
}

/**
 * A fresh private directory (0700) holding one file per `files:` entry (0600 or the declared owner-only
 * mode), written atomically. `remove()` is idempotent and synchronous, so it also runs from an `exit`
 * handler when secrets itself fails unexpectedly.
 */
export class SecretFilesDir {
  readonly dir: string
  private removed = false
  private readonly onExit = () => this.remove()

  constructor(env: NodeJS.ProcessEnv = process.env) {
    const base = secretFilesBase(env)
    try {
      // mkdtemp creates the directory with mode 0700.
      this.dir = mkdtempSync(join(base, 'secrets-exec-'))
    } catch (error) {
      throw fsError(error, base, 'creating the private files directory in')
    }
    process.once('exit', this.onExit)
  }

  /** The path a variable points at. */
  pathOf(file: ResolvedFile): string {
    return join(this.dir, file.entry.fileName)
  }

  /** Write (or rewrite, for --watch) every file; each write is atomic, so a reader never sees half a value. */
  write(files: ResolvedFile[]): Map<string, string> {
    const paths = new Map<string, string>()
    for (const f of files) {
      const path = this.pathOf(f)
      writeFileAtomic(path, f.value.reveal(), f.entry.mode)
      paths.set(f.name, path)
    }
    return paths
  }

  remove(): void {
    if (this.removed) return
    this.removed = true
    process.removeListener('exit', this.onExit)
    rmSync(this.dir, {recursive: true, force: true})
  }
}
