// The entry bin/run.js starts from. oclif is bundled into dist/ with the commands (one copy, in a shared
// chunk), so its runtime and the commands it loads share their classes, and Node loads a few files
// instead of oclif's ~100 CommonJS modules.
import {Config} from '@oclif/core/config'
import {execute as oclifExecute} from '@oclif/core/execute'

import {hoistGlobalFlags, startsWithGlobalFlag} from './cli/argv.js'

/** oclif's execute, accepting the global flags before the command; nothing extra runs otherwise. */
export async function execute(options: {dir: string; args?: string[]}): Promise<unknown> {
  const argv = options.args ?? process.argv.slice(2)
  if (!startsWithGlobalFlag(argv)) return oclifExecute({...options, args: argv})
  const config = await Config.load(options.dir)
  const args = hoistGlobalFlags(argv, (id) => config.findCommand(id) !== undefined)
  return oclifExecute({args, loadOptions: config})
}
