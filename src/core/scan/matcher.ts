import {createHash} from 'node:crypto'

import {findAssignments} from './assignments.js'
import {CONFIGURED_VALUE_RULE, PATTERN_RULES} from './rules.js'
import type {ValueIndex} from './value-index.js'

/** A match in one buffer, before it gets a file name and a line. */
export interface RawMatch {
  rule: string
  offset: number
  length: number
  /** The configured variable(s) a value belongs to, or the name a generic secret is assigned to. */
  variable?: string
  /** SHA-256 of the matched bytes (pattern rules only; a configured value is identified by its variables). */
  digest?: string
}

/** Bytes git itself looks at to call a file binary. */
const BINARY_SNIFF = 8000

/** Whether a buffer holds a NUL byte in its first 8000 bytes (git's test for binary content). */
export function isBinary(buf: Buffer, end: number): boolean {
  return buf.subarray(0, Math.min(end, BINARY_SNIFF)).includes(0)
}

function priority(rule: string): number {
  if (rule === CONFIGURED_VALUE_RULE.id) return 0
  return rule === 'generic-secret-assignment' ? 2 : 1
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** The rules the regex pass runs (the assignment rules come from findAssignments). */
const REGEX_RULES = PATTERN_RULES.filter((r) => !r.assignment)

/** One regex over every rule's anchors: most files fail it, and then no rule's regex runs at all. */
const PREFILTER = new RegExp(REGEX_RULES.map((r) => r.prefilter ?? r.anchors.map(escape).join('|')).join('|'))

/**
 * Every credential in buf[0, end): configured values (through the index) and pattern matches, with
 * overlaps resolved in favour of the most specific rule (a configured value over a pattern, a named
 * pattern over the generic one). The text is decoded as latin1, so string offsets are byte offsets.
 */
export function matchBuffer(buf: Buffer, end: number, values: ValueIndex | undefined): RawMatch[] {
  const found: RawMatch[] = []
  if (values !== undefined) {
    for (const hit of values.scan(buf, end))
      found.push({
        rule: CONFIGURED_VALUE_RULE.id,
        offset: hit.offset,
        length: hit.length,
        variable: hit.names.join(', '),
      })
  }
  const text = buf.toString('latin1', 0, end)
  const digest = (offset: number, length: number) =>
    createHash('sha256')
      .update(buf.subarray(offset, offset + length))
      .digest('hex')
  if (PREFILTER.test(text)) {
    for (const rule of REGEX_RULES) {
      if (rule.prefilter === undefined && !rule.anchors.some((a) => text.includes(a))) continue
      rule.regex.lastIndex = 0
      for (let m = rule.regex.exec(text); m !== null; m = rule.regex.exec(text)) {
        const secret = m.groups?.secret
        if (secret === undefined || (rule.accept && !rule.accept(secret, m))) continue
        const offset = m.index + m[0].lastIndexOf(secret)
        found.push({rule: rule.id, offset, length: secret.length, digest: digest(offset, secret.length)})
      }
    }
  }
  for (const a of findAssignments(text, text.toLowerCase())) {
    found.push({
      rule: a.rule,
      offset: a.offset,
      length: a.secret.length,
      variable: a.name,
      digest: digest(a.offset, a.secret.length),
    })
  }
  if (found.length < 2) return found
  found.sort((a, b) => priority(a.rule) - priority(b.rule) || a.offset - b.offset || b.length - a.length)
  const kept: RawMatch[] = []
  for (const f of found) {
    if (!kept.some((k) => f.offset < k.offset + k.length && k.offset < f.offset + f.length)) kept.push(f)
  }
  return kept.sort((a, b) => a.offset - b.offset)
}

/** 1-based line and column (in Unicode code points) of a byte offset. */
export function position(buf: Buffer, offset: number): {line: number; column: number} {
  let line = 1
  let lineStart = 0
  for (let i = buf.indexOf(0x0a, 0); i !== -1 && i < offset; i = buf.indexOf(0x0a, i + 1)) {
    line++
    lineStart = i + 1
  }
  const column = [...buf.toString('utf8', lineStart, offset)].length + 1
  return {line, column}
}
