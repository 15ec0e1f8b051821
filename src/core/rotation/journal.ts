import {existsSync, readFileSync, statSync} from 'node:fs'
import {hostname} from 'node:os'
import {join} from 'node:path'

import {SecretsError, fsError} from '../../errors.js'
import {writeFileAtomic} from '../lib/atomic-write.js'
import {userStateDir} from '../store/identity.js'
import {isAlive, withLock} from '../lib/lock.js'

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
  let text: string
  try {
    const st = statSync(file)
    if ((st.mode & 0o077) !== 0) {
      throw new SecretsError(
        'INSECURE_PERMISSIONS',
        `The rotation journal ${file} can be read by group or others (mode ${(st.mode & 0o777).toString(8)}).`,
        {
          suggestions: [`chmod 600 ${file}`],
        },
      )
    }
    text = readFileSync(file, 'utf8')
  } catch (error) {
    if (error instanceof SecretsError) throw error
    throw fsError(error, file, 'reading the rotation journal')
  }
  let entries: unknown
  try {
    entries = (JSON.parse(text) as {rotations?: unknown} | null)?.rotations
  } catch {
    // Not JSON: refused below, like JSON without a rotations array.
  }
  if (!Array.isArray(entries)) {
    throw new SecretsError('INTEGRITY', `The rotation journal ${file} is not valid JSON.`, {
      suggestions: [
        `Look at it, finish or undo the rotations it names by hand (see \`secrets versions\`), then delete ${file}.`,
      ],
    })
  }
  return entries as JournalEntry[]
}

/** The journal, read. */
export function journalEntries(env: NodeJS.ProcessEnv = process.env): JournalEntry[] {
  return readJournal(journalFile(env))
}

/** Change the journal under its lock (which also creates its directory); `change` returns the new list. */
export async function updateJournal(
  env: NodeJS.ProcessEnv,
  change: (entries: JournalEntry[]) => JournalEntry[],
): Promise<void> {
  const file = journalFile(env)
  await withLock(file, () =>
    writeFileAtomic(file, `${JSON.stringify({rotations: change(readJournal(file))}, null, 2)}\n`, 0o600),
  )
}

/** Whether the process that owns an entry is still running (same host, live pid). */
export function ownerAlive(e: JournalEntry): boolean {
  if (e.host !== hostname()) return true // cannot tell: assume it runs
  return e.pid !== process.pid && isAlive(e.pid)
}

export const journalHost = hostname

/** Move one rotation's entry to its next step. */
export function journalStep(
  env: NodeJS.ProcessEnv,
  id: string,
  step: JournalEntry['step'],
  pending: string,
): Promise<void> {
  return updateJournal(env, (entries) =>
    entries.map((e) => (e.id === id ? {...e, step, pending, updated: new Date().toISOString()} : e)),
  )
}

/** Drop one rotation's entry: it ended, whichever way. */
export function forgetJournal(env: NodeJS.ProcessEnv, id: string): Promise<void> {
  return updateJournal(env, (entries) => entries.filter((e) => e.id !== id))
}
