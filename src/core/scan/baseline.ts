import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'

import {SecretsError, fsError} from '../../errors.js'
import {writeFileAtomic} from '../lib/atomic-write.js'

/** The baseline format version written by this code. */
export const BASELINE_VERSION = 1

/** One accepted finding: where and what, never the value. */
export interface BaselineEntry {
  fingerprint: string
  rule: string
  file: string
  /** Where it was when accepted (informational: the fingerprint does not depend on it). */
  line?: number
  variable?: string
}

/**
 * A finding's fingerprint: SHA-256 over the rule, the file (relative to the repository root) and, for a
 * pattern, the SHA-256 of the matched credential (random by construction, so the hash reveals nothing
 * guessable); for a configured value, the variable names instead of anything derived from the value.
 * Line numbers are left out, so edits elsewhere in the file keep the fingerprint.
 */
export function fingerprint(
  rule: string,
  file: string,
  variable: string | undefined,
  digest: string | undefined,
): string {
  return createHash('sha256')
    .update(`secrets-scan/v1\0${rule}\0${file}\0${variable ?? ''}\0${digest ?? ''}`)
    .digest('hex')
}

function invalid(file: string, why: string): SecretsError {
  return new SecretsError('INTEGRITY', `Baseline ${file} is not a valid secrets scan baseline: ${why}.`, {
    suggestions: [
      `Fix it, or write it anew with \`secrets scan --baseline ${file} --update-baseline\` (which accepts every current finding).`,
    ],
  })
}

/** Read a baseline; a missing file is NOT_FOUND unless `allowMissing` (when it is about to be written). */
export function readBaseline(file: string, allowMissing = false): BaselineEntry[] {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      if (allowMissing) return []
      throw new SecretsError('NOT_FOUND', `Baseline ${file} does not exist.`, {
        suggestions: [
          `Create it with \`secrets scan --baseline ${file} --update-baseline\`, which accepts every current finding.`,
        ],
      })
    }
    throw fsError(error, file, 'reading')
  }
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (error) {
    throw invalid(file, `not JSON (${(error as Error).message})`)
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw invalid(file, 'not a JSON object')
  const {version, findings} = doc as {version?: unknown; findings?: unknown}
  if (version !== BASELINE_VERSION)
    throw invalid(file, `"version" is ${JSON.stringify(version)}, expected ${BASELINE_VERSION}`)
  if (!Array.isArray(findings)) throw invalid(file, '"findings" is not an array')
  return findings.map((f, i) => {
    if (
      f === null ||
      typeof f !== 'object' ||
      typeof (f as BaselineEntry).fingerprint !== 'string' ||
      !/^[0-9a-f]{64}$/.test((f as BaselineEntry).fingerprint)
    ) {
      throw invalid(file, `findings[${i}] has no 64-hex-digit "fingerprint"`)
    }
    return f as BaselineEntry
  })
}

/** Write a baseline atomically (mode 0644: it holds fingerprints only and is meant to be committed). */
export function writeBaseline(file: string, entries: BaselineEntry[]): void {
  const sorted = [...entries].sort((a, b) =>
    a.file < b.file ? -1 : a.file > b.file ? 1 : (a.line ?? 0) - (b.line ?? 0) || (a.rule < b.rule ? -1 : 1),
  )
  const unique = sorted.filter((e, i) => sorted.findIndex((x) => x.fingerprint === e.fingerprint) === i)
  const doc = {
    version: BASELINE_VERSION,
    description:
      'Findings of `secrets scan` accepted as known (fingerprints, never values). Rewrite with `secrets scan --baseline <this file> --update-baseline`.',
    findings: unique.map((e) => ({
      fingerprint: e.fingerprint,
      rule: e.rule,
      file: e.file,
      ...(e.line === undefined ? {} : {line: e.line}),
      ...(e.variable === undefined ? {} : {variable: e.variable}),
    })),
  }
  writeFileAtomic(file, `${JSON.stringify(doc, null, 2)}\n`, 0o644)
}
