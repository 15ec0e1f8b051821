import type {RekeyProgress} from '../core/store/rekey.js'
import {makeChalk} from './style.js'

/**
 * One status line on stderr, rewritten in place, for work that reports how far it got (the spinner in
 * ui.ts cannot change its label, and re-encryption is synchronous, so it would never draw). Quiet when
 * stderr is not a terminal (CI logs) or with --json. Redraws at most every 50 ms.
 */
export function statusLine(
  quiet: boolean,
  stream: NodeJS.WriteStream = process.stderr,
): {update(text: string): void; done(): void} {
  const enabled = Boolean(stream.isTTY) && !quiet
  const chalk = makeChalk(stream)
  let last = 0
  let width = 0
  const draw = (text: string) => {
    stream.write(`\r${' '.repeat(width)}\r${chalk.cyan('…')} ${text}`)
    width = text.length + 2
  }
  return {
    update(text) {
      if (!enabled) return
      const now = Date.now()
      if (now - last < 50) return
      last = now
      draw(text)
    },
    done() {
      if (enabled && width > 0) stream.write(`\r${' '.repeat(width)}\r`)
      width = 0
    },
  }
}

/** The status line of a data-key rotation; call `done` when the rotation ends, whatever the way. */
export function rekeyStatus(quiet: boolean): {onProgress: (p: RekeyProgress) => void; done: () => void} {
  const line = statusLine(quiet)
  return {
    onProgress(p) {
      if (p.phase === 'wrap') line.update(`Wrapping the new data key for ${p.recipient} (${p.done + 1}/${p.total})`)
      else if (p.phase === 'reencrypt') line.update(`Re-encrypting ${p.done}/${p.total} versions`)
      else line.done()
    },
    done: () => line.done(),
  }
}
