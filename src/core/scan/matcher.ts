import {createHash} from 'node:crypto'

import {CONFIGURED_VALUE_RULE, PATTERN_RULES, type PatternRule} from './rules.js'
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

/** Whether any anchor of the rule occurs in the text (rules without anchors always run). */
function anchored(rule: PatternRule, text: string, lower: () => string): boolean {
  if (rule.anchors.length === 0 && (rule.lowerAnchors?.length ?? 0) === 0) return true
  for (const a of rule.anchors) if (text.includes(a)) return true
  if (rule.lowerAnchors) {
    const l = lower()
    for (const a of rule.lowerAnchors) if (l.includes(a)) return true
  }
  return false
}

/**
 * Every credential in buf[0, end): configured values (through the index) and pattern matches, with
 * overlaps resolved in favour of the most specific rule (a configured value over a pattern, a named
 * pattern over the generic one). The text is decoded as latin1, so string offsets are byte offsets.
 */
export function matchBuffer(buf: Buffer, end: number, values: ValueIndex | undefined, rules: readonly PatternRule[] = PATTERN_RULES): RawMatch[] {
  const found: RawMatch[] = []
  if (values !== undefined) {
    for (const hit of values.scan(buf, end)) found.push({rule: CONFIGURED_VALUE_RULE.id, offset: hit.offset, length: hit.length, variable: hit.names.join(', ')})
  }
  const text = buf.toString('latin1', 0, end)
  let lowered: string | undefined
  const lower = () => (lowered ??= text.toLowerCase())
  for (const rule of rules) {
    if (!anchored(rule, text, lower)) continue
    rule.regex.lastIndex = 0
    for (let m = rule.regex.exec(text); m !== null; m = rule.regex.exec(text)) {
      const secret = m.groups?.secret
      if (secret === undefined) continue
      if (rule.accept && !rule.accept(secret, m)) continue
      const offset = m.index + m[0].lastIndexOf(secret)
      found.push({
        rule: rule.id,
        offset,
        length: secret.length,
        ...(m.groups?.name ? {variable: m.groups.name} : {}),
        digest: createHash('sha256').update(buf.subarray(offset, offset + secret.length)).digest('hex'),
      })
    }
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
