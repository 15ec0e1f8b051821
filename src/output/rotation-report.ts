import type {ChalkInstance} from 'chalk'

import {successLine} from '../cli/output.js'
import {table} from '../cli/style.js'
import type {JournalEntry} from '../core/rotation/journal.js'
import type {RotationResult} from '../core/rotation/types.js'

/** The table of `rotate --status`: unfinished rotations, and whether their process still runs. */
export function unfinishedTable(unfinished: Array<JournalEntry & {running: boolean}>): string {
  return table(
    ['SECRET', 'VARIABLE', 'STEP', 'CURRENT', 'PENDING', 'STARTED', 'STATE'],
    unfinished.map((e) => [
      e.ref,
      e.name,
      e.step,
      e.base,
      e.pending ?? '',
      e.started,
      e.running ? `running (pid ${e.pid})` : 'interrupted: run rotate again to finish or abandon',
    ]),
  )
}

/** One line per rotation (each ending in a newline), or the one line saying nothing was changed. */
export function rotationReport(rotations: RotationResult[], due: boolean, c: ChalkInstance): string {
  if (rotations.length === 0) return `${due ? 'Nothing is due' : 'Nothing to rotate'}; nothing was changed.\n`
  return rotations.map((r) => `${rotationLine(r, c)}\n`).join('')
}

function rotationLine(r: RotationResult, c: ChalkInstance): string {
  const v = `${r.oldVersion ?? '?'} -> ${r.newVersion ?? '?'}`
  switch (r.status) {
    case 'rotated': {
      return successLine(
        `${r.name} (${r.ref}) rotated: ${v}${r.verified ? ', verified' : ''}${r.abandoned ? ` (an interrupted rotation was abandoned first)` : ''}`,
        c,
      )
    }

    case 'finished': {
      return successLine(`${r.name} (${r.ref}): finished an interrupted rotation: ${v}`, c)
    }

    case 'would-rotate': {
      const how =
        r.newValue === undefined
          ? ''
          : `\n    new value: ${r.newValue}; ${r.verify === undefined ? 'no verify command runs' : `verified by \`${r.verify}\``}`
      return `${c.cyan('•')} ${r.name} (${r.ref}) would be rotated (current version ${r.oldVersion ?? '?'}${r.lastRotated ? `, last rotated ${r.lastRotated}` : ''})${how}`
    }

    case 'rolled-back': {
      return `${c.red('✗')} ${r.name} (${r.ref}): verification failed; rolled back, version ${r.oldVersion ?? '?'} is still current`
    }

    case 'failed': {
      return `${c.red('✗')} ${r.name} (${r.ref}): [${r.error?.code}] ${r.error?.message ?? ''}`
    }
  }
}
