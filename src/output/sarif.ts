import {pathToFileURL} from 'node:url'

import {ALL_RULES} from '../core/scan/rules.js'
import type {Finding} from '../core/scan/scan.js'

/** The schema a SARIF consumer validates against (SARIF 2.1.0, OASIS). */
export const SARIF_SCHEMA_URI =
  'https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json'

/** A relative path as a URI reference: each segment percent-encoded, `/` kept. */
export function pathToUriReference(path: string): string {
  return path
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/')
}

function ruleName(id: string): string {
  return ALL_RULES.find((r) => r.id === id)?.name ?? id
}

/** The one-line description of a finding (never the value): rule, and the variable when there is one. */
export function findingMessage(f: Finding): string {
  if (f.rule === 'configured-secret-value')
    return `The value of ${f.variable} (a secret configured in secrets.yaml) is hardcoded here.`
  if (f.rule === 'generic-secret-assignment') return `A random-looking value is assigned to ${f.variable}.`
  const name = ruleName(f.rule)
  return `${name[0].toUpperCase()}${name.slice(1)} hardcoded here.`
}

function result(f: Finding, suppressed: boolean) {
  const ruleIndex = ALL_RULES.findIndex((r) => r.id === f.rule)
  return {
    ruleId: f.rule,
    ...(ruleIndex === -1 ? {} : {ruleIndex}),
    level: 'error' as const,
    message: {text: findingMessage(f)},
    locations: [
      {
        physicalLocation: {
          artifactLocation: {uri: pathToUriReference(f.file), uriBaseId: 'ROOT'},
          region: {startLine: f.line, startColumn: f.column, endLine: f.endLine, endColumn: f.endColumn},
        },
      },
    ],
    partialFingerprints: {'secretsScanFingerprint/v1': f.fingerprint},
    ...(suppressed
      ? {suppressions: [{kind: 'external' as const, justification: 'Accepted in the secrets scan baseline.'}]}
      : {}),
    ...(f.variable === undefined ? {} : {properties: {variable: f.variable, source: f.source}}),
  }
}

export interface SarifInput {
  version: string
  root: string
  findings: Finding[]
  suppressed: Finding[]
  /** Whether the run checked everything it meant to (false when configured values could not be read). */
  complete: boolean
  notes: string[]
}

/**
 * A SARIF 2.1.0 log of one run: every rule (so code-scanning UIs can show help for each), results
 * located by file, line and column relative to `ROOT` (the repository root), accepted ones marked as
 * externally suppressed. Messages name rules and variables, never values; no snippet is included.
 */
export function toSarif(input: SarifInput): object {
  return {
    $schema: SARIF_SCHEMA_URI,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'secrets scan',
            semanticVersion: input.version,
            rules: ALL_RULES.map((r) => ({
              id: r.id,
              name: r.id.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase()),
              shortDescription: {text: `${r.name[0].toUpperCase()}${r.name.slice(1)}`},
              fullDescription: {text: r.description},
              help: {text: r.description},
              defaultConfiguration: {level: 'error' as const},
              properties: {
                tags: ['security', 'secret'],
                precision: r.id === 'generic-secret-assignment' ? 'medium' : 'high',
                'security-severity': '9.0',
              },
            })),
          },
        },
        invocations: [
          {
            executionSuccessful: input.complete,
            ...(input.notes.length === 0
              ? {}
              : {
                  toolExecutionNotifications: input.notes.map((text) => ({message: {text}, level: 'warning' as const})),
                }),
          },
        ],
        originalUriBaseIds: {ROOT: {uri: pathToFileURL(input.root.endsWith('/') ? input.root : `${input.root}/`).href}},
        columnKind: 'unicodeCodePoints',
        results: [...input.findings.map((f) => result(f, false)), ...input.suppressed.map((f) => result(f, true))],
      },
    ],
  }
}
