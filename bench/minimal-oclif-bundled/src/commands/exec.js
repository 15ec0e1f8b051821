import {spawn} from 'node:child_process'
import {Command} from '@oclif/core/command'

// The baseline for `secrets exec -- true`: parse argv with oclif, spawn the command with inherited
// stdio, exit with its status. No config, no store, no masking.
export default class Exec extends Command {
  static strict = false

  async run() {
    const argv = this.argv.slice(this.argv.indexOf('--') + 1)
    process.exitCode = await new Promise((resolve, reject) => {
      const child = spawn(argv[0], argv.slice(1), {stdio: 'inherit'})
      child.on('error', reject)
      child.on('exit', (code) => resolve(code ?? 1))
    })
  }
}
