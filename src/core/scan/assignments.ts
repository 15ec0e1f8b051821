import {ASSIGNMENT_STEMS, KEYWORDS, looksRandom} from './rules.js'

/** A value assigned to a variable named like a secret. */
export interface Assignment {
  rule: 'aws-secret-access-key' | 'generic-secret-assignment'
  /** Offset of the value in the text. */
  offset: number
  secret: string
  /** The variable (or key) it is assigned to. */
  name: string
}

const NAME_CHAR = new Uint8Array(256)
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-') NAME_CHAR[c.charCodeAt(0)] = 1

const KEYWORD = new RegExp(`(?:${KEYWORDS})`, 'i')
const VALUE_CHARS = 'A-Za-z0-9+/=_~!@#$%^&*.-'
/** What follows the name: an optional closing quote or bracket, an operator, the (optionally quoted) value. */
const ASSIGN = new RegExp(
  `["'\\]]?\\s*(?::=|=>|==|=|:)\\s*(?<quote>["'\`]?)(?<secret>[${VALUE_CHARS}]{16,256})\\k<quote>(?![${VALUE_CHARS}])`,
  'y',
)
const AWS_SECRET_NAME = /aws.{0,20}?secret/i
const AWS_SECRET_VALUE = /^[A-Za-z0-9/+]{40}$/

/** Cheap test before any regex: after an optional quote or bracket and blanks, an `=` or `:`. */
function assignmentFollows(text: string, at: number): boolean {
  let c = text.charCodeAt(at)
  if (c === 0x22 || c === 0x27 || c === 0x5d) c = text.charCodeAt(++at)
  while (c === 0x20 || (c >= 0x09 && c <= 0x0d)) c = text.charCodeAt(++at)
  return c === 0x3d || c === 0x3a
}

/**
 * The assignment pass: find the keyword stems in the lower-cased text (indexOf, so memchr speed), widen
 * each to the whole name around it, and only then try the assignment at the end of that name with a
 * sticky regex. This finds exactly what the rules' reference regexes find, without running a regex that
 * starts with `[\w.-]*` at every position of the text.
 */
export function findAssignments(text: string, lower: string): Assignment[] {
  const out: Assignment[] = []
  let seen: Set<number> | undefined
  for (const stem of ASSIGNMENT_STEMS) {
    for (let i = lower.indexOf(stem); i !== -1; i = lower.indexOf(stem, i)) {
      // Widen to the end of the name; the next search starts there (the same name cannot assign twice).
      let end = i + stem.length
      while (NAME_CHAR[text.charCodeAt(end)] === 1) end++
      i = end
      if (!assignmentFollows(text, end)) continue
      let start = end - 1
      while (start > 0 && NAME_CHAR[text.charCodeAt(start - 1)] === 1) start--
      // A name holding two stems (secretKey) is reached once per stem.
      seen ??= new Set()
      if (seen.has(start)) continue
      seen.add(start)
      const name = text.slice(start, end)
      if (!KEYWORD.test(name)) continue
      ASSIGN.lastIndex = end
      const m = ASSIGN.exec(text)
      const secret = m?.groups?.secret
      if (m === null || secret === undefined || !looksRandom(secret)) continue
      const offset = m.index + m[0].length - (m.groups?.quote ?? '').length - secret.length
      const rule =
        AWS_SECRET_NAME.test(name) && AWS_SECRET_VALUE.test(secret)
          ? 'aws-secret-access-key'
          : 'generic-secret-assignment'
      out.push({rule, offset, secret, name})
    }
  }
  return out
}
