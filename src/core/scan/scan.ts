import {closeSync, constants, openSync, readSync, readdirSync, realpathSync, statSync} from 'node:fs'
import {join, relative, resolve, sep} from 'node:path'

import {SecretsError} from '../../errors.js'
import {fingerprint} from './baseline.js'
import {gitOutput, gitTopLevel, readBlobs, splitZ, type GitOptions} from './git.js'
import {isBinary, matchBuffer, position, type RawMatch} from './matcher.js'
import type {ValueIndex} from './value-index.js'

/** Files larger than this are skipped (and listed in the report) unless --max-bytes says otherwise. */
export const DEFAULT_MAX_BYTES = 1024 * 1024

/** One finding: where, which rule, which variable; never the value, nor any part of it. */
export interface Finding {
  rule: string
  /** Relative to the report's root, with `/` separators. */
  file: string
  line: number
  column: number
  endLine: number
  endColumn: number
  /** For a configured value, the variable(s) it belongs to; for a generic assignment, the assigned name. */
  variable?: string
  /** Where the bytes were read: the work tree or the git index (`--staged`). */
  source: 'worktree' | 'index'
  fingerprint: string
}

export interface ScanOptions {
  cwd: string
  env: NodeJS.ProcessEnv
  /** Files or directories (relative to cwd); default: the current directory. */
  paths: string[]
  staged: boolean
  values?: ValueIndex
  maxBytes?: number
  /** Fingerprints of accepted findings. */
  baseline?: Set<string>
}

export interface ScanResult {
  /** The directory finding paths are relative to: the repository root, or cwd outside a repository. */
  root: string
  git: boolean
  staged: boolean
  scanned: number
  skipped: {binary: number; tooLarge: string[]; unreadable: string[]}
  findings: Finding[]
  /** Findings that the baseline accepts (not in `findings`). */
  suppressed: Finding[]
}

const SKIP_DIRS = new Set(['.git', 'node_modules'])

function toPosix(p: string): string {
  return sep === '/' ? p : p.split(sep).join('/')
}

function skippedPath(rel: string): boolean {
  return rel.split('/').some((seg) => SKIP_DIRS.has(seg))
}

/** Walk a directory outside git: regular files only, no symlinks, no .git or node_modules. */
function walk(dir: string, out: string[]): void {
  let entries
  try {
    entries = readdirSync(dir, {withFileTypes: true})
  } catch {
    return
  }
  for (const e of entries) {
    const p = join(dir, e.name)
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) walk(p, out)
    } else if (e.isFile()) {
      out.push(p)
    }
  }
}

function missingPath(p: string): SecretsError {
  return new SecretsError('NOT_FOUND', `${p} does not exist, so it cannot be scanned.`, {
    suggestions: ['Pass files or directories that exist (default: the current directory).'],
  })
}

/**
 * The work-tree files to scan, absolute and relative to `root`: `git ls-files` in a repository (so
 * .gitignore holds), a walk elsewhere. Sorted by relative path.
 */
function workTreeFiles(o: ScanOptions, top: string | undefined, root: string): Array<{abs: string; rel: string}> {
  const files = new Map<string, string>()
  const add = (abs: string, rel = toPosix(relative(root, abs))) => {
    if (!skippedPath(rel)) files.set(rel, abs)
  }
  for (const p of o.paths.length > 0 ? o.paths : ['.']) {
    let abs: string
    let st
    try {
      // Real paths, as git reports its top level: a symlinked directory must not turn into ../../..
      abs = realpathSync(resolve(o.cwd, p))
      st = statSync(abs)
    } catch {
      throw missingPath(p)
    }
    if (st.isFile()) {
      add(abs)
      continue
    }
    const repo = abs === top || abs.startsWith(`${top}${sep}`) ? top : gitTopLevel({cwd: abs, env: o.env})
    if (repo === undefined) {
      const out: string[] = []
      walk(abs, out)
      for (const f of out) add(f)
      continue
    }
    const listed = gitOutput(['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', abs], {
      cwd: repo,
      env: o.env,
    })
    if (listed === null)
      throw new SecretsError('UNAVAILABLE', `git ls-files failed in ${repo}.`, {
        suggestions: ['Run `git status` there to see what is wrong with the repository.'],
      })
    // git lists paths relative to the repository root with `/`: when that root is ours, they are ours.
    for (const rel of splitZ(listed)) {
      if (repo === root) add(`${repo}${sep}${rel}`, rel)
      else add(join(repo, rel))
    }
  }
  return [...files].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([rel, abs]) => ({abs, rel}))
}

interface Sink {
  root: string
  staged: boolean
  result: ScanResult
  baseline?: Set<string>
}

function record(sink: Sink, file: string, buf: Buffer, end: number, matches: RawMatch[]): void {
  for (const m of matches) {
    const start = position(buf.subarray(0, end), m.offset)
    const stop = position(buf.subarray(0, end), m.offset + m.length)
    const finding: Finding = {
      rule: m.rule,
      file,
      line: start.line,
      column: start.column,
      endLine: stop.line,
      endColumn: stop.column,
      ...(m.variable === undefined ? {} : {variable: m.variable}),
      source: sink.staged ? 'index' : 'worktree',
      fingerprint: fingerprint(m.rule, file, m.variable, m.digest),
    }
    if (sink.baseline?.has(finding.fingerprint)) sink.result.suppressed.push(finding)
    else sink.result.findings.push(finding)
  }
}

function scanBuffer(sink: Sink, file: string, buf: Buffer, end: number, values: ValueIndex | undefined): void {
  if (isBinary(buf, end)) {
    sink.result.skipped.binary++
    return
  }
  sink.result.scanned++
  const matches = matchBuffer(buf, end, values)
  if (matches.length > 0) record(sink, file, buf, end, matches)
}

/** Open flags: never follow a symlink (ELOOP), never block on a FIFO or device. */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0)

/**
 * Read a file into `buf` (grown as needed, up to maxBytes + 1): open and read, no stat. A short read
 * of a regular file is its end. Returns the buffer and the byte count, or null for a file over maxBytes.
 */
function readInto(fd: number, buf: Buffer, maxBytes: number): {buf: Buffer; end: number} | null {
  let end = 0
  for (;;) {
    const want = Math.min(buf.length, maxBytes + 1) - end
    const n = readSync(fd, buf, end, want, null)
    end += n
    if (end > maxBytes) return null
    if (n < want) return {buf, end}
    if (end === buf.length) {
      const bigger = Buffer.allocUnsafe(Math.min(buf.length * 4, maxBytes + 1))
      buf.copy(bigger, 0, 0, end)
      buf = bigger
    }
  }
}

/** Scan the work tree: one reusable buffer, one file at a time. */
function scanWorkTree(o: ScanOptions, sink: Sink, top: string | undefined): void {
  const maxBytes = o.maxBytes ?? DEFAULT_MAX_BYTES
  let buf: Buffer = Buffer.allocUnsafe(Math.min(64 * 1024, maxBytes + 1))
  for (const {abs, rel} of workTreeFiles(o, top, sink.root)) {
    let fd: number | undefined
    try {
      fd = openSync(abs, OPEN_FLAGS)
      const read = readInto(fd, buf, maxBytes)
      if (read === null) {
        sink.result.skipped.tooLarge.push(rel)
        continue
      }
      buf = read.buf
      scanBuffer(sink, rel, buf, read.end, o.values)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      // Deleted since `git ls-files` listed it, a symlink (ELOOP), a directory (a submodule), a FIFO.
      if (code === 'ENOENT' || code === 'ELOOP' || code === 'EISDIR' || code === 'EAGAIN' || code === 'ENXIO') continue
      if (code === 'EACCES' || code === 'EPERM') sink.result.skipped.unreadable.push(rel)
      else throw error
    } finally {
      if (fd !== undefined) closeSync(fd)
    }
  }
}

/** Staged entries that differ from HEAD (every entry before the first commit): [blob id, path]. */
function stagedEntries(o: ScanOptions, git: GitOptions): Array<{id: string; path: string}> {
  const specs = o.paths.map((p) => {
    try {
      return realpathSync(resolve(o.cwd, p))
    } catch {
      // Only in the index (deleted from the work tree): git matches it as given.
      return resolve(o.cwd, p)
    }
  })
  const hasHead = gitOutput(['rev-parse', '--verify', '-q', 'HEAD'], git) !== null
  const entries: Array<{id: string; path: string; mode: string}> = []
  if (hasHead) {
    const out = gitOutput(
      ['diff-index', '--cached', '-z', '--no-renames', '--diff-filter=AMT', 'HEAD', '--', ...specs],
      git,
    )
    if (out === null)
      throw new SecretsError('UNAVAILABLE', 'git diff-index could not list the staged changes.', {
        suggestions: ['Run `git status` to see what is wrong with the repository.'],
      })
    const parts = splitZ(out)
    for (let i = 0; i + 1 < parts.length; i += 2) {
      // ":<old mode> <new mode> <old id> <new id> <status>" then the path
      const [, mode, , id] = parts[i].slice(1).split(' ')
      entries.push({id, path: parts[i + 1], mode})
    }
  } else {
    const out = gitOutput(['ls-files', '-s', '-z', '--', ...specs], git)
    if (out === null)
      throw new SecretsError('UNAVAILABLE', 'git ls-files could not list the index.', {
        suggestions: ['Run `git status` to see what is wrong with the repository.'],
      })
    for (const line of splitZ(out)) {
      const tab = line.indexOf('\t')
      const [mode, id] = line.slice(0, tab).split(' ')
      entries.push({id, path: line.slice(tab + 1), mode})
    }
  }
  // Regular files only: symlinks (120000) hold a path, gitlinks (160000) a commit.
  return entries.filter((e) => (e.mode === '100644' || e.mode === '100755') && !skippedPath(e.path))
}

async function scanIndex(o: ScanOptions, sink: Sink, top: string): Promise<void> {
  const git = {cwd: top, env: o.env}
  const entries = stagedEntries(o, git)
  const maxBytes = o.maxBytes ?? DEFAULT_MAX_BYTES
  await readBlobs(
    entries.map((e) => e.id),
    {...git, maxBytes},
    (blob, i) => {
      const path = entries[i].path
      if (blob.data === null) {
        if (blob.size > maxBytes) sink.result.skipped.tooLarge.push(path)
        else sink.result.skipped.unreadable.push(path)
        return
      }
      scanBuffer(sink, path, blob.data, blob.data.length, o.values)
    },
  )
}

/** Scan the work tree (or, with `staged`, the git index) for configured values and credential patterns. */
export async function scanFiles(o: ScanOptions): Promise<ScanResult> {
  const top = gitTopLevel({cwd: o.cwd, env: o.env})
  if (o.staged && top === undefined) {
    throw new SecretsError('USAGE', `--staged scans the git index, but ${o.cwd} is not inside a git work tree.`, {
      suggestions: ['Run it inside the repository, or leave out --staged to scan the files themselves.'],
    })
  }
  const root = top ?? o.cwd
  const result: ScanResult = {
    root,
    git: top !== undefined,
    staged: o.staged === true,
    scanned: 0,
    skipped: {binary: 0, tooLarge: [], unreadable: []},
    findings: [],
    suppressed: [],
  }
  const sink: Sink = {root, staged: o.staged, result, baseline: o.baseline}
  if (o.staged) await scanIndex(o, sink, root)
  else scanWorkTree(o, sink, top)
  return result
}
