import {Chalk, type ChalkInstance} from 'chalk'

import {terminalSafe} from '../core/lib/terminal-text.js'

/** Colour only for a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function colorLevel(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): 0 | 1 | 2 | 3 {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return 0
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return 1
  if (!stream.isTTY || env.TERM === 'dumb') return 0
  return 1
}

export function makeChalk(stream: NodeJS.WriteStream = process.stderr): ChalkInstance {
  return new Chalk({level: colorLevel(stream)})
}

/**
 * A plain text table: columns padded to the widest cell. `style` colours a laid-out cell (row 0 is the
 * first data row), so colour codes neither count towards widths nor get escaped.
 */
export function table(
  headers: string[],
  unsafeRows: string[][],
  style?: (text: string, row: number, column: number) => string,
): string {
  // Cells hold names, labels and paths read from files: never a control character, never a line break.
  const rows = unsafeRows.map((r) => r.map((c) => terminalSafe(c ?? '', {singleLine: true})))
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[], row?: number) =>
    cells
      .map((c, i) => {
        const padded = i === cells.length - 1 ? c : c.padEnd(widths[i])
        return style && row !== undefined ? style(padded, row, i) : padded
      })
      .join('  ')
      .trimEnd()
  return [line(headers), ...rows.map((r, i) => line(r, i))].join('\n')
}
