import {dirname} from 'node:path'

import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../../cli/base-command.js'
import type {AuditRecord} from '../../core/audit/log.js'
import {followAudit} from '../../core/audit/follow.js'
import {queryAuditLog, recordsToCsv, type AuditFilter} from '../../core/audit/query.js'
import {locateConfig} from '../../core/config/load.js'
import {currentTime, parseTime} from '../../core/lib/time.js'
import {auditSecretOf} from '../../core/names.js'
import {table} from '../../cli/style.js'

const HEADERS = ['TIME', 'USER', 'COMMAND', 'ACTION', 'REFERENCE', 'VERSION', 'OUTCOME', 'VALUE FP']

export default class AuditLog extends BaseCommand<typeof AuditLog> {
  static override summary = 'Show the local access log: who read or wrote which secret, when, and with what outcome.'
  static override description =
    "Reads every segment of the log, oldest first. In a project only that project's records are shown (--all: every project's, with a PROJECT column); records written before records named their project are shown only with --all. Filters combine (all must match); --limit keeps the newest N of the matches; --follow then prints new matching records as they are appended, until interrupted (with --json: one JSON record per line). Records never hold values; `fp` is a keyed fingerprint that changes when the value does."
  static override examples = [
    '<%= config.bin %> audit log --since 24h',
    '<%= config.bin %> audit log --secret DB_PASSWORD --outcome denied',
    '<%= config.bin %> audit log --limit 20 --follow',
    '<%= config.bin %> audit log --all --actor alice --since 2026-11-01 --format csv > access.csv',
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
    outcome: Flags.string({
      description: 'Only this outcome (not_started: read for a command that never ran).',
      options: ['ok', 'denied', 'not_found', 'error', 'not_started'],
    }),
    all: Flags.boolean({description: "Every project's records, not only this project's."}),
    limit: Flags.integer({description: 'Only the newest N matching records.', min: 1}),
    follow: Flags.boolean({char: 'f', description: 'Then print new matching records as they are appended.'}),
    format: Flags.string({
      description: 'Output format (use --json for JSON).',
      options: ['table', 'csv'],
      default: 'table',
    }),
    now: Flags.string({hidden: true, description: 'Pretend the time is this (tests only; also SECRETS_NOW).'}),
  }

  /** Set once --follow has printed JSON lines: the closing JSON document would not fit that stream. */
  private streamed = false

  async run(): Promise<{records: AuditRecord[]; unattributed?: number}> {
    const now = currentTime(this.flags.now)
    const config = locateConfig({cwd: process.cwd(), env: process.env, flag: this.flags.config})
    const project = this.flags.all || config === undefined ? undefined : dirname(config)
    const filter: AuditFilter = {
      since: this.flags.since === undefined ? undefined : parseTime(this.flags.since, now, '--since'),
      until: this.flags.until === undefined ? undefined : parseTime(this.flags.until, now, '--until'),
      secret: this.flags.secret === undefined ? undefined : await auditSecretOf(this.session(), this.flags.secret),
      actor: this.flags.actor,
      command: this.flags.command,
      outcome: this.flags.outcome as AuditRecord['outcome'] | undefined,
      project,
    }
    const {records, unattributed, lastSeq} = await queryAuditLog(filter, {limit: this.flags.limit})
    const withProject = project === undefined
    if (this.flags.follow && this.jsonEnabled()) {
      this.streamed = true
      for (const r of records) process.stdout.write(`${JSON.stringify(r)}\n`)
    } else if (this.jsonEnabled()) {
      return {records, ...(project === undefined ? {} : {unattributed})}
    } else if (this.flags.format === 'csv') {
      process.stdout.write(recordsToCsv(records))
    } else if (records.length === 0) {
      if (!this.flags.follow) this.logToStderr('No matching access records.')
    } else {
      this.log(table(headers(withProject), rows(records, withProject)))
    }
    if (project !== undefined && unattributed > 0 && !this.jsonEnabled())
      this.logToStderr(
        `${unattributed} older matching record(s) name no project (written before records named theirs); --all shows them.`,
      )
    if (this.flags.follow) await this.follow(filter, lastSeq, withProject)
    return {records, ...(project === undefined ? {} : {unattributed})}
  }

  override logJson(json: unknown): void {
    if (this.streamed && !(json !== null && typeof json === 'object' && 'error' in json)) return
    super.logJson(json)
  }

  /** Print new records until SIGINT or SIGTERM; one line each (table columns are not known ahead). */
  private async follow(filter: AuditFilter, afterSeq: number, withProject: boolean): Promise<void> {
    const stop = new AbortController()
    const onSignal = () => stop.abort()
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
    try {
      for await (const r of followAudit(filter, afterSeq, stop.signal)) {
        if (this.jsonEnabled()) process.stdout.write(`${JSON.stringify(r)}\n`)
        else if (this.flags.format === 'csv') process.stdout.write(recordsToCsv([r]).split('\r\n')[1] + '\r\n')
        else this.log(rows([r], withProject)[0].join('  ').trimEnd())
      }
    } finally {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  }
}

function headers(withProject: boolean): string[] {
  return withProject ? [...HEADERS, 'PROJECT'] : HEADERS
}

/** Table cells; with --all (or outside a project) a PROJECT column, `-` for records that name none. */
function rows(records: AuditRecord[], withProject: boolean): string[][] {
  return records.map((r) => [
    r.time,
    `${r.user}@${r.host}`,
    r.child ? `${r.command} (${r.child})` : r.command,
    r.action,
    r.ref,
    r.version ?? '',
    r.code ? `${r.outcome} ${r.code}` : r.outcome,
    r.fp?.slice(0, 12) ?? '',
    ...(withProject ? [r.project ?? '-'] : []),
  ])
}
