/**
 * Text read from files (key labels, file names, YAML keys, paths) may hold terminal control sequences:
 * printed raw, `\x1b]...` retitles the window, `\x1b[2J` clears it, `\r` overprints a warning. Every
 * line printed for a human goes through `terminalSafe`, which shows such characters as escapes instead.
 */
// C0 controls except tab and newline, DEL, C1 controls, and the bidirectional overrides that reorder text.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u200E\u200F\u202A-\u202E\u2066-\u2069]/g

function escape(ch: string): string {
  const code = ch.codePointAt(0)!
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
}

/** `text` with control characters shown as `\xNN` (newlines and tabs kept unless `singleLine`). */
export function terminalSafe(text: string, o: {singleLine?: boolean} = {}): string {
  const safe = text.replace(UNSAFE, escape)
  return o.singleLine ? safe.replace(/[\n\t]/g, escape) : safe
}
