/**
 * Last line of defence: every secret value this process has decrypted or read is registered here, and
 * the error renderer scrubs them from any text it prints (so even an unexpected error whose message
 * quotes a value cannot show it). Values shorter than 4 characters are not registered: they would
 * match everywhere and reveal little.
 */
const known = new Set<string>()

export const MIN_REDACT_LENGTH = 4

export function registerSecretText(text: string): void {
  if (text.length >= MIN_REDACT_LENGTH) {
    known.add(text)
    for (const line of text.split(/\r?\n/)) if (line.length >= MIN_REDACT_LENGTH * 2) known.add(line)
  }
}

/** Replace every registered value in `text`, longest first. */
export function scrub(text: string): string {
  if (known.size === 0) return text
  let out = text
  for (const value of [...known].sort((a, b) => b.length - a.length)) out = out.split(value).join('<redacted>')
  return out
}
