import {Chalk, type ChalkInstance} from 'chalk'

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

/** A plain text table: columns padded to the widest cell. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd()
  return [line(headers), ...rows.map((r) => line(r))].join('\n')
}
