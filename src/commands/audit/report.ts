import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../../cli/base-command.js'
import {currentTime} from '../../core/lib/time.js'
import {rowStatus, sessionReport, type ReportRow} from '../../core/audit/report.js'
import {table} from '../../cli/style.js'

export default class AuditReport extends BaseCommand<typeof AuditReport> {
  static override summary =
    'Per secret: last access and by whom, number of readers, last rotation and its age against the policy.'
  static override description =
    "Built from the access log, the variables of secrets.yaml (with their `rotation:` policies) and each provider's listing (last update times). Flags secrets that are overdue for rotation, never rotated, or not read within --unread-days. --format markdown suits a CI job summary."
  static override examples = [
    '<%= config.bin %> audit report',
    '<%= config.bin %> audit report --format markdown >> "$GITHUB_STEP_SUMMARY"',
    '<%= config.bin %> audit report --json',
  ]

  static override flags = {
    format: Flags.string({
      description: 'Output format (use --json for JSON).',
      options: ['table', 'markdown'],
      default: 'table',
    }),
    'unread-days': Flags.integer({description: 'Flag secrets not read within this many days.', default: 30, min: 1}),
    offline: Flags.boolean({description: 'Do not list providers for last-update times; use the log only.'}),
    now: Flags.string({hidden: true, description: 'Pretend the time is this (tests only; also SECRETS_NOW).'}),
  }

  async run(): Promise<{now: string; unreadDays: number; secrets: ReportRow[]}> {
    const now = currentTime(this.flags.now)
    const unreadDays = this.flags['unread-days']
    const secrets = await sessionReport(this.session(), {
      now,
      unreadDays,
      environment: this.flags.env,
      offline: this.flags.offline,
    })
    if (!this.jsonEnabled()) {
      const headers = ['SECRET', 'LAST ACCESS', 'BY', 'READERS', 'LAST ROTATION', 'AGE', 'POLICY', 'STATUS']
      const rows = secrets.map((r) => [
        r.secret,
        r.lastAccess
          ? `${r.lastAccess.time.slice(0, 16).replace('T', ' ')} ${r.lastAccess.action}${r.lastAccess.outcome === 'ok' ? '' : ` (${r.lastAccess.outcome})`}`
          : 'never',
        r.lastAccess?.by ?? '',
        String(r.readers),
        r.lastRotation
          ? `${r.lastRotation.slice(0, 10)}${r.rotationSource === 'provider' ? ' (provider)' : ''}`
          : 'never',
        r.ageDays === undefined ? '' : `${r.ageDays}d`,
        r.policyDays === undefined ? '' : `${+r.policyDays.toFixed(2)}d`,
        rowStatus(r, unreadDays).join(', '),
      ])
      if (secrets.length === 0) this.logToStderr('No secrets in the access log or in secrets.yaml.')
      else if (this.flags.format === 'markdown') this.log(markdown(headers, rows, now))
      else this.log(table(headers, rows))
    }
    return {now: now.toISOString(), unreadDays, secrets}
  }
}

function markdown(headers: string[], rows: string[][], now: Date): string {
  const cell = (s: string) => s.replaceAll('|', '\\|')
  return [
    `### Secrets access report (${now.toISOString().slice(0, 16).replace('T', ' ')} UTC)`,
    '',
    `| ${headers.join(' | ')} |`,
    `|${headers.map((_, i) => (i === 3 ? '---:' : '---')).join('|')}|`,
    ...rows.map((r) => `| ${r.map((c) => cell(c)).join(' | ')} |`),
  ].join('\n')
}
