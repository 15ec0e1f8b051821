import type {ChalkInstance} from 'chalk'

import type {ScanReport} from '../core/scan/index.js'
import type {UnresolvedVariable} from '../core/scan/values.js'
import {findingMessage, toSarif} from './sarif.js'

/** Why a configured value was not looked for (names and error codes only). */
export function unresolvedMessage(u: UnresolvedVariable): string {
  return u.variable === '*'
    ? `No configured value was looked for: [${u.code}] ${u.message}`
    : `${u.variable} (${u.ref}) could not be read, so its value was not looked for: [${u.code}] ${u.message}`
}

/** The report in one of the formats: text (one line per finding), json, or SARIF 2.1.0. */
export function renderScanReport(report: ScanReport, format: 'text' | 'json' | 'sarif', version: string): string {
  if (format === 'json') return `${JSON.stringify(report, null, 2)}\n`
  if (format === 'sarif') {
    const notes = report.values.unresolved.map((u) => unresolvedMessage(u))
    return `${JSON.stringify(toSarif({version, root: report.root, findings: report.findings, suppressed: report.suppressed, complete: notes.length === 0, notes}), null, 2)}\n`
  }
  return report.findings.map((f) => `${f.file}:${f.line}:${f.column}: ${f.rule}: ${findingMessage(f)}\n`).join('')
}

function some(paths: string[]): string {
  return `${paths.slice(0, 5).join(', ')}${paths.length > 5 ? ', ...' : ''}`
}

/** The one-line summary for stderr: what was found, accepted and skipped. */
export function scanSummary(r: ScanReport, maxBytes: number, c: ChalkInstance): string {
  const where = r.staged ? 'staged file(s)' : 'file(s)'
  const skipped = [
    r.skipped.binary > 0 ? `${r.skipped.binary} binary` : '',
    r.skipped.tooLarge.length > 0
      ? `${r.skipped.tooLarge.length} over ${maxBytes} bytes (${some(r.skipped.tooLarge)})`
      : '',
    r.skipped.unreadable.length > 0 ? `${r.skipped.unreadable.length} unreadable (${some(r.skipped.unreadable)})` : '',
  ].filter(Boolean)
  const tail = skipped.length > 0 ? `; skipped ${skipped.join(', ')}` : ''
  if (r.baseline?.written)
    return `${c.green('✓')} ${r.baseline.entries} finding(s) accepted in ${r.baseline.file} (${r.scanned} ${where} scanned${tail}).`
  const accepted = r.suppressed.length > 0 ? `, ${r.suppressed.length} more accepted by the baseline` : ''
  if (r.findings.length === 0)
    return `${c.green('✓')} No hardcoded secrets in ${r.scanned} ${where} scanned${accepted}${tail}.`
  const files = new Set(r.findings.map((f) => f.file)).size
  return `${c.red('✗')} ${r.findings.length} hardcoded secret(s) in ${files} of ${r.scanned} ${where} scanned${accepted}${tail}.`
}
