import {existsSync, readFileSync, statSync} from 'node:fs'
import {hostname} from 'node:os'
import {join} from 'node:path'

import {SecretsError, fsError} from '../errors.js'
import {ensureDir, writeFileAtomic} from './atomic-write.js'
import {userStateDir} from './identity.js'
import {withLock} from './lock.js'

/**
 * The journal of unfinished rotations: one JSON file in the user's state directory (0600, written
 * atomically under its lock). An entry is added before anything is written to a provider and removed
 * when the rotation is finished or abandoned, so a rotation killed at any step is found again by
 * `rotate --status` and by the next `rotate` of the same secret. It never holds a value.
 */
export interface JournalEntry {
  /** The rotation's token (AWS ClientRequestToken; the id shown by --status). */
  id: string
  /** The whole secret, without #field (e.g. `aws://app/db`). */
  ref: string
  field?: string
  /** The variable (or reference) the user asked to rotate. */
  name: string
  provider: string
  /** The secrets.yaml the rotation ran with. */
  config: string
  /** started: nothing written yet or the pending write in flight; pending: written; verified: only promotion left. */
  step: 'started' | 'pending' | 'verified'
  base: string
  pending?: string
  started: string
  updated: string
  pid: number
  host: string
}

export function journalFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.SECRETS_ROTATION_JOURNAL || join(userStateDir(env), 'rotations.json')
}

function readJournal(file: string): JournalEntry[] {
  if (!existsSync(file)) return []
  try {
    const st = statSync(file)
    if ((st.mode & 0o077) !== 0) {
      throw new SecretsError('INSECURE_PERMISSIONS', `The rotation journal ${file} can be read by group or others (mode ${(st.mode & 0o777).toString(8)}).`, {
        suggestions: [`chmod 600 ${file}`],
      })
    }
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'))
    const entries = (parsed as {rotations?: unknown})?.rotations
    if (!Array.isArray(entries)) throw new Error('no rotations array')
    return entries as JournalEntry[]
  } catch (error) {
    if (error instanceof SecretsError) throw error
    if (error instanceof SyntaxError || (error instanceof Error && error.message === 'no rotations array')) {
      throw new SecretsError('INTEGRITY', `The rotation journal ${file} is not valid JSON.`, {
        suggestions: [`Look at it, finish or undo the rotations it names by hand (see \`secrets versions\`), then delete ${file}.`],
      })
    }
    throw fsError(error, file, 'reading the rotation journal')
  }
}

/** The journal, read. */
export function journalEntries(env: NodeJS.ProcessEnv = process.env): JournalEntry[] {
  return readJournal(journalFile(env))
}

/** Change the journal under its lock; `change` returns the new list. */
export async function updateJournal<T>(env: NodeJS.ProcessEnv, change: (entries: JournalEntry[]) => {entries: JournalEntry[]; result: T}): Promise<T> {
  const file = journalFile(env)
  try {
    ensureDir(join(file, '..'))
  } catch (error) {
    throw fsError(error, file, 'creating the directory of')
  }
  return withLock(file, () => {
    const {entries, result} = change(readJournal(file))
    try {
      writeFileAtomic(file, `${JSON.stringify({rotations: entries}, null, 2)}\n`, 0o600)
    } catch (error) {
      throw fsError(error, file, 'writing the rotation journal')
    }
    return result
  })
}

/** Whether the process that owns an entry is still running (same host, live pid). */
export function ownerAlive(e: JournalEntry): boolean {
  if (e.host !== hostname()) return true // cannot tell: assume it runs
  if (e.pid === process.pid) return false
  try {
    process.kill(e.pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export const journalHost = hostname
