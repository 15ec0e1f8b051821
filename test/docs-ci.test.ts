import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {parse} from 'yaml'

import {ROOT} from './helpers/cli.js'

describe('docs/ci/rotate.yml', () => {
  const text = readFileSync(join(ROOT, 'docs', 'ci', 'rotate.yml'), 'utf8')
  const wf = parse(text)

  it('is a scheduled workflow that may request OIDC tokens and stores no cloud credential', () => {
    assert.ok(Array.isArray(wf.on.schedule) && wf.on.schedule.length === 1)
    assert.equal(wf.permissions['id-token'], 'write')
    const steps: Array<{uses?: string; with?: Record<string, unknown>; run?: string}> = wf.jobs.rotate.steps
    const uses = steps.map((s) => s.uses?.split('@')[0]).filter(Boolean)
    for (const action of ['aws-actions/configure-aws-credentials', 'azure/login', 'actions/github-script'])
      assert.ok(uses.includes(action), action)
    assert.doesNotMatch(text, /secrets\.(AWS|AZURE|VAULT)_/)
    assert.doesNotMatch(text, /client-secret|aws-secret-access-key|VAULT_TOKEN/)
  })

  it('rotates with --due --yes --json and treats exit 13 (nothing due) as success, 14 and 15 as failures', () => {
    const run = wf.jobs.rotate.steps.find((s: {id?: string}) => s.id === 'rotate').run as string
    assert.match(run, /secrets rotate --due --yes --json/)
    assert.match(run, /13\) echo 'Nothing is due.' ;;/)
    assert.match(run, /14\) .*exit 14 ;;/)
    assert.match(run, /15\) .*exit 15 ;;/)
  })
})
