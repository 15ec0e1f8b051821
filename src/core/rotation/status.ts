import {SecretsError, type ErrorCode} from '../../errors.js'
import {formatDuration} from '../lib/time.js'
import {explainMissing} from '../names.js'
import type {Session} from '../session.js'
import {journalEntries, ownerAlive, type JournalEntry} from './journal.js'
import {currentVersion, selectTargets} from './targets.js'

/** One line of `secrets status`: a variable's age against its policy; never a value. */
export interface StatusRow {
  name: string
  ref: string
  provider: string
  every?: string
  lastRotated?: string
  ageDays?: number
  due: boolean
  error?: {code: ErrorCode; message: string}
}

/** `secrets status`: every variable with a rotation policy (or the names given), its last rotation and whether it is due. */
export async function rotationAges(
  session: Session,
  environment: string | undefined,
  now: number,
  inputs: string[] = [],
): Promise<StatusRow[]> {
  const targets = await selectTargets(session, {inputs, environment})
  return Promise.all(
    targets.map(async (t): Promise<StatusRow> => {
      const row: StatusRow = {
        name: t.name,
        ref: t.ref.raw,
        provider: t.ref.alias,
        due: false,
        ...(t.policy?.every === undefined ? {} : {every: formatDuration(t.policy.every)}),
      }
      try {
        const provider = await session.provider(t.ref.alias)
        const last = (await currentVersion(provider, t.ref))?.created
        if (last !== undefined) {
          row.lastRotated = last
          row.ageDays = Math.floor((now - Date.parse(last)) / 86_400_000)
        }
        row.due = t.policy?.every !== undefined && (last === undefined || now - Date.parse(last) >= t.policy.every)
      } catch (error) {
        if (!(error instanceof SecretsError)) throw error
        // A NAME that is neither a variable nor a secret is a mistake in the command line, not a row.
        const named = {input: t.name, ref: t.ref, source: t.source ?? 'reference', environment}
        const explained = await explainMissing(session, named, error)
        if (explained !== error) throw explained
        row.error = {code: error.code, message: error.message}
      }
      return row
    }),
  )
}

/** Unfinished rotations for `rotate --status`, with whether their process still runs. */
export function rotationStatus(env: NodeJS.ProcessEnv): Array<JournalEntry & {running: boolean}> {
  return journalEntries(env).map((e) => ({...e, running: ownerAlive(e)}))
}
