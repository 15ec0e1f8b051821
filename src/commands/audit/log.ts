import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../../cli/base-command.js'
import type {AuditRecord} from '../../core/audit/log.js'
import {queryAudit, recordsToCsv} from '../../core/audit/query.js'
import {currentTime, parseTime} from '../../core/lib/time.js'
import {auditSecretOf} from '../../core/names.js'
import {table} from '../../cli/style.js'

export default class AuditLog extends BaseCommand<typeof AuditLog> {
  static override summary = 'Show the local access log: who read or wrote which secret, when, and with what outcome.'
  static override description =
    'Reads every segment of the log, oldest first. Filters combine (all must match). Records never hold values; `fp` is a keyed fingerprint that changes when the value does.'
  static override examples = [
    '<%= config.bin %> audit log --since 24h',
    '<%= config.bin %> audit log --secret DB_PASSWORD --outcome denied',
    '<%= config.bin %> audit log --actor alice --since 2026-11-01 --format csv > access.csv',
  ]

  static override flags = {
    since: Flags.string({
      description: 'Only records at or after this: a duration before now (90s, 30m, 24h, 7d, 2w) or a date.',
    }),
    until: Flags.string({description: 'Only records at or before this: a duration before now or a date.'}),
    secret: Flags.string({
      description:
        'Only this secret: a reference, alias://path (every field and version), or a NAME (the variable of the selected environment, else the local secret).',
    }),
    actor: Flags.string({description: 'Only this OS user (or user@host).'}),
    command: Flags.string({description: 'Only this secrets command (get, exec, set, ...) or the command exec ran.'}),
    outcome: Flags.string({description: 'Only this outcome.', options: ['ok', 'denied', 'not_found', 'error']}),
    format: Flags.string({
      description: 'Output format (use --json for JSON).',
      options: ['table', 'csv'],
      default: 'table',
    }),
    now: Flags.string({hidden: true, description: 'Pretend the time is this (tests only; also SECRETS_NOW).'}),
  }

  async run(): Promise<{records: AuditRecord[]}> {
    const now = currentTime(this.flags.now)
    const records = await queryAudit({
      since: this.flags.since === undefined ? undefined : parseTime(this.flags.since, now, '--since'),
      until: this.flags.until === undefined ? undefined : parseTime(this.flags.until, now, '--until'),
      secret: this.flags.secret === undefined ? undefined : await auditSecretOf(this.session(), this.flags.secret),
      actor: this.flags.actor,
      command: this.flags.command,
      outcome: this.flags.outcome as AuditRecord['outcome'] | undefined,
    })
    if (this.jsonEnabled()) return {records}
    if (this.flags.format === 'csv') {
      process.stdout.write(recordsToCsv(records))
    } else if (records.length === 0) {
      this.logToStderr('No matching access records.')
    } else {
      this.log(
        table(
          ['TIME', 'USER', 'COMMAND', 'ACTION', 'REFERENCE', 'VERSION', 'OUTCOME', 'VALUE FP'],
          records.map((r) => [
            r.time,
            `${r.user}@${r.host}`,
            r.child ? `${r.command} (${r.child})` : r.command,
            r.action,
            r.ref,
            r.version ?? '',
            r.code ? `${r.outcome} ${r.code}` : r.outcome,
            r.fp?.slice(0, 12) ?? '',
          ]),
        ),
      )
    }
    return {records}
  }
}
