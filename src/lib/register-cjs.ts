// `node -r secrets-cli/register app.js`, built as CommonJS (dist/lib/register.cjs). require() is
// synchronous and Node 20 cannot require an ES module or wait for a promise here, so the environment is
// resolved by resolve-child.js in a child Node process that we wait for; its values arrive over a pipe.
import {spawnSync} from 'node:child_process'
import {constants} from 'node:os'
import {basename, join} from 'node:path'

import {SecretsError} from '../errors.js'
import {assignToProcess, warnOnStderr} from './assign.js'
import {failAndExit} from './fail.js'

function resolveInChild(): Record<string, string> {
  const program = basename(process.argv[1] || process.execPath)
  // NODE_OPTIONS may be what loads this register: the child must not load it again.
  const env = {...process.env}
  delete env.NODE_OPTIONS
  // __dirname: this file is bundled as CommonJS, where Node defines it.
  const r = spawnSync(process.execPath, [join(__dirname, 'resolve-child.js'), program], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env,
    maxBuffer: 1024 * 1024 * 1024,
  })
  if (r.error !== undefined)
    failAndExit(new SecretsError('INTERNAL', `Could not start Node to resolve the secrets: ${r.error.message}`))
  // The child printed its error already; its exit code is the documented one (128+N if signal N ended it).
  if (r.status !== 0) process.exit(r.status ?? 128 + (r.signal === null ? 0 : constants.signals[r.signal]))
  return JSON.parse(r.stdout.toString('utf8')) as Record<string, string>
}

assignToProcess(resolveInChild(), warnOnStderr)
