import * as Args from '@oclif/core/args'

import {fishCompletion} from '../../cli/fish-completion.js'
import {AutocompleteScript} from '../../cli/plugins.js'

/** The line a shell's profile sources (@oclif/plugin-autocomplete's), or fish's whole completion script. */
export default class Script extends AutocompleteScript {
  static override args = {
    shell: Args.string({description: 'Shell type', options: ['zsh', 'bash', 'fish', 'powershell'], required: false}),
  }

  override async run(): Promise<void> {
    const {args} = await this.parse(Script)
    if ((args.shell ?? this.config.shell) !== 'fish') return super.run()
    process.stdout.write(fishCompletion(this.config))
  }
}
