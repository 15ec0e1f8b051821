// A process that appends `count` audit records, one append per record, for the concurrency test.
import {appendAudit} from '../../src/core/audit/log.js'
import {SecretValue} from '../../src/core/secret-value.js'

const [id, count] = process.argv.slice(2)
for (let i = 0; i < Number(count); i++) {
  await appendAudit(
    [
      {
        command: 'get',
        action: 'read',
        provider: 'local',
        ref: `local://P${id}_${i}`,
        outcome: 'ok',
        value: new SecretValue(`v-${id}-${i}`),
      },
    ],
    {user: `w${id}`, host: 'h'},
  )
}
