// Runs the conformance suite in a child process (`node --import tsx --test` on this file), for providers
// whose test server's CA must be trusted from process start (NODE_EXTRA_CA_CERTS is read only then).
// The parent test passes the target through CONFORMANCE_TARGET: {alias, cwd, env, refPrefix}.
import {describe} from 'node:test'

import {conformance, fromTarget} from '../suites/conformance.js'

const target = JSON.parse(process.env.CONFORMANCE_TARGET ?? '{}') as {
  alias: string
  cwd: string
  env: NodeJS.ProcessEnv
  refPrefix: string
}
describe(`${target.alias} provider conformance`, () => {
  // The parents (aws, azure conformance tests) still count the seven capability tests.
  conformance(
    fromTarget({
      alias: target.alias,
      project: () => ({cwd: target.cwd, env: target.env}),
      refFor: (name) => `${target.refPrefix}${name}`,
    }),
    {refusals: false},
  )
})
