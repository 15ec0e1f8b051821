import {BaseCommand} from '../../cli/base-command.js'
import {terminalSafe} from '../../cli/output.js'
import {checkAuditChain, type ChainCheck} from '../../core/audit/check-chain.js'
import {EXIT_CODES} from '../../errors.js'

export default class AuditVerify extends BaseCommand<typeof AuditVerify> {
  static override summary = 'Check that the access log was not changed: recompute its keyed chain over every segment.'
  static override description = `Reports the first record that was changed, inserted, removed or moved, and every missing segment. Exits 0 when the log is intact, ${EXIT_CODES.INTEGRITY} (INTEGRITY) when it is not, ${EXIT_CODES.DECRYPT_FAILED} (DECRYPT_FAILED) when it was written with another audit key, ${EXIT_CODES.IDENTITY_MISSING} (IDENTITY_MISSING) when the audit key is missing.`
  static override examples = ['<%= config.bin %> audit verify', '<%= config.bin %> audit verify --json']

  async run(): Promise<ChainCheck> {
    const result = await this.ui.progress('Verifying the access log', () => checkAuditChain())
    const c = this.chalk
    if (result.intact) {
      const segments = result.segments.length
      this.success(
        `The access log is intact: ${result.records} record(s)${segments > 1 ? ` in ${segments} segments` : ''}${result.lastSeq === undefined ? '' : `, seq 1 to ${result.lastSeq}`}${result.keyId ? ` (audit key ${result.keyId})` : ''}.`,
        'stdout',
      )
      if (result.legacy > 0)
        this.log(
          `  ${result.legacy} record(s) from before the keyed chain are linked by plain SHA-256: anyone could have rewritten them.`,
        )
    } else {
      this.log(
        `${c.red('✗')} The access log is NOT intact: ${terminalSafe(result.problem?.message ?? 'segments are missing.')}`,
      )
      if (result.missingSegments.length > 0) this.log(`  Missing segment(s): ${result.missingSegments.join(', ')}.`)
      process.exitCode = result.problem?.kind === 'wrong-key' ? EXIT_CODES.DECRYPT_FAILED : EXIT_CODES.INTEGRITY
    }
    for (const note of result.notes) this.log(`  ${c.dim(terminalSafe(note))}`)
    return result
  }
}
