import {isAbsolute, resolve} from 'node:path'

import {EXIT_CODES} from '../../errors.js'
import type {Session} from '../session.js'
import {readBaseline, writeBaseline} from './baseline.js'
import {DEFAULT_MAX_BYTES, scanFiles, type ScanResult} from './scan.js'
import {indexConfiguredValues, type UnresolvedVariable} from './values.js'

export {installHook, HOOK_BLOCK, type HookResult} from './hook.js'
export type {Finding} from './scan.js'
export {DEFAULT_MAX_BYTES} from './scan.js'

export interface RunScanOptions {
  session: Session
  cwd: string
  env: NodeJS.ProcessEnv
  paths: string[]
  staged: boolean
  /** Look for the configured secrets' values (resolving them); false scans for patterns only. */
  values: boolean
  /** The named environment whose values are looked for. */
  environment?: string
  /** Whether a config file was named (--config / SECRETS_CONFIG), so a missing one is an error. */
  configNamed: boolean
  baseline?: string
  /** Write every current finding to the baseline instead of reporting against it. */
  updateBaseline?: boolean
  maxBytes?: number
}

/** What a scan found, and what it could not look at. Never a value. */
export interface ScanReport extends ScanResult {
  values: {
    /** Variables (and files: entries) of the environment. */
    variables: number
    /** Values indexed and looked for. */
    checked: number
    unresolved: UnresolvedVariable[]
    /** Variables whose value is too short to look for. */
    tooShort: string[]
    note?: string
  }
  baseline?: {file: string; written: boolean; entries: number}
  /** The exit code the command ends with (see exitCodeOf). */
  exitCode: number
}

/**
 * The exit-code policy: FINDINGS (16) when anything not in the baseline was found (also when some
 * configured values could not be read: a finding matters more); otherwise, when a configured value
 * could not be read (so the scan is incomplete), the exit code of that failure (5, 6, 7, 9...); else 0.
 * Writing a baseline accepts the findings, so only unreadable values count then.
 */
export function exitCodeOf(r: Pick<ScanReport, 'findings' | 'values'>, updatingBaseline: boolean): number {
  if (!updatingBaseline && r.findings.length > 0) return EXIT_CODES.FINDINGS
  return r.values.unresolved[0]?.exitCode ?? 0
}

/** Resolve the configured values, scan, apply (or write) the baseline. */
export async function runScan(o: RunScanOptions): Promise<ScanReport> {
  const baselineFile =
    o.baseline === undefined ? undefined : isAbsolute(o.baseline) ? o.baseline : resolve(o.cwd, o.baseline)
  // Read the baseline first: a broken one is an error before any secret is resolved.
  const accepted =
    baselineFile === undefined || o.updateBaseline
      ? undefined
      : new Set(readBaseline(baselineFile).map((e) => e.fingerprint))
  const configured = o.values ? await indexConfiguredValues(o.session, o.environment, o.configNamed) : undefined
  const result = await scanFiles({
    cwd: o.cwd,
    env: o.env,
    paths: o.paths,
    staged: o.staged,
    values: configured?.index,
    maxBytes: o.maxBytes ?? DEFAULT_MAX_BYTES,
    baseline: accepted,
  })
  const report: ScanReport = {
    ...result,
    values: {
      variables: configured?.variables ?? 0,
      checked: configured?.index.size ?? 0,
      unresolved: configured?.unresolved ?? [],
      tooShort: configured?.index.tooShort ?? [],
      ...(o.values
        ? configured?.note === undefined
          ? {}
          : {note: configured.note}
        : {note: 'configured values not looked for (--no-values)'}),
    },
    exitCode: 0,
  }
  if (baselineFile !== undefined) {
    if (o.updateBaseline) {
      const all = [...result.findings, ...result.suppressed]
      writeBaseline(
        baselineFile,
        all.map((f) => ({
          fingerprint: f.fingerprint,
          rule: f.rule,
          file: f.file,
          line: f.line,
          ...(f.variable === undefined ? {} : {variable: f.variable}),
        })),
      )
      report.baseline = {file: baselineFile, written: true, entries: new Set(all.map((f) => f.fingerprint)).size}
      report.suppressed = all
      report.findings = []
    } else {
      report.baseline = {file: baselineFile, written: false, entries: accepted?.size ?? 0}
    }
  }
  report.exitCode = exitCodeOf(report, o.updateBaseline === true)
  return report
}
