import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../../cli/base-command.js'
import {parseTime} from '../../core/lib/time.js'
import {auditTrail, type TrailEntry} from '../../core/audit/trail.js'
import {table} from '../../cli/style.js'
import {kindList} from '../../providers/registry.js'

export default class AuditTrail extends BaseCommand<typeof AuditTrail> {
  static override summary =
    "Show a provider's own record of access to the configured secrets, merged with the local access log by time."
  static override description = `The provider's trail comes from AWS CloudTrail (LookupEvents, Secrets Manager events), a Vault file audit device log (--vault-audit-file; HMAC'd fields are matched through sys/audit-hash), or Azure Key Vault diagnostic logs in a Log Analytics workspace (logAnalyticsWorkspaceId). Only events about the secrets secrets.yaml refers to are shown, never a value.`

  static override examples = [
    '<%= config.bin %> audit trail --provider aws --since 24h',
    '<%= config.bin %> audit trail --provider vault --vault-audit-file /var/log/vault/audit.log --since 7d',
    '<%= config.bin %> audit trail --provider azure --since 2026-11-01 --json',
  ]

  static override flags = {
    provider: Flags.string({
      description: `Alias of the provider whose trail to show (${kindList('or', (s) => s.trail !== undefined)} type).`,
      required: true,
    }),
    since: Flags.string({description: 'Only events since this time: a duration ago (24h, 7d, 30m) or an ISO date.'}),
    until: Flags.string({description: 'Only events until this time: a duration ago or an ISO date.'}),
    'vault-audit-file': Flags.string({description: 'Vault: the log file a file audit device writes (JSON lines).'}),
    'vault-audit-device': Flags.string({
      description: 'Vault: the path of that audit device, for sys/audit-hash (default: file).',
      dependsOn: ['vault-audit-file'],
    }),
  }

  async run(): Promise<{provider: string; secrets: string[]; events: TrailEntry[]}> {
    const now = new Date()
    const {entries, refs} = await auditTrail(this.session(), {
      alias: this.flags.provider,
      ...(this.flags.since === undefined ? {} : {since: parseTime(this.flags.since, now, '--since')}),
      ...(this.flags.until === undefined ? {} : {until: parseTime(this.flags.until, now, '--until')}),
      ...(this.flags['vault-audit-file'] === undefined ? {} : {auditFile: this.flags['vault-audit-file']}),
      ...(this.flags['vault-audit-device'] === undefined ? {} : {auditDevice: this.flags['vault-audit-device']}),
    })
    if (refs.length === 0) {
      this.ui.warn(
        `No variable in secrets.yaml refers to provider ${this.flags.provider}, so there is no secret to look up in its trail.`,
      )
    }
    if (entries.length === 0) {
      this.logToStderr('No events in this time range.')
    } else {
      this.log(
        table(
          ['TIME', 'SOURCE', 'ACTOR', 'ACTION', 'SECRET', 'OUTCOME'],
          entries.map((e) => [
            e.time,
            e.source === 'provider' ? this.flags.provider : 'local',
            e.actor,
            e.action,
            `${e.secret}${e.version === undefined ? '' : ` (v ${e.version})`}`,
            e.outcome === 'ok' ? 'ok' : `${e.outcome}${e.code === undefined ? '' : ` (${e.code})`}`,
          ]),
        ),
      )
    }
    return {provider: this.flags.provider, secrets: refs, events: entries}
  }
}
