import * as Args from '@oclif/core/args'

import {AutocompleteCommand} from '../../cli/plugins.js'

/**
 * `secrets autocomplete [SHELL]`: @oclif/plugin-autocomplete's setup for bash, zsh and PowerShell, plus
 * fish, which the plugin does not write (its script comes from `autocomplete script fish`).
 */
export default class Autocomplete extends AutocompleteCommand {
  static override args = {
    shell: Args.string({description: 'Shell type', options: ['zsh', 'bash', 'fish', 'powershell'], required: false}),
  }

  static override examples = [...AutocompleteCommand.examples, '$ <%= config.bin %> autocomplete fish']

  override async run(): Promise<void> {
    const {args} = await this.parse(Autocomplete)
    if ((args.shell ?? this.config.shell) !== 'fish') return super.run()
    const bin = this.config.bin
    this.log(`Run this command, then start a new fish session:

  ${bin} autocomplete script fish > ~/.config/fish/completions/${bin}.fish

Then:
  ${bin} <TAB>                  # Command completion
  ${bin} command --<TAB>        # Flag completion`)
  }
}
