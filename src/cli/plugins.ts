// oclif's own plugins, bundled with our commands rather than listed under `oclif.plugins`: they share
// our one oclif runtime, and a command that does not need them pays nothing (a listed plugin's
// package.json and manifest are read on every start, `exec` included). @oclif/plugin-version and
// @oclif/plugin-autocomplete export no command from their package entry (oclif loads plugin commands
// by file path), so theirs are imported by path.
import {commands as helpCommands} from '@oclif/plugin-help'

export const HelpCommand = helpCommands.help
export {default as VersionCommand} from '../../node_modules/@oclif/plugin-version/lib/commands/version.js'
export {default as AutocompleteCommand} from '../../node_modules/@oclif/plugin-autocomplete/lib/commands/autocomplete/index.js'
export {default as AutocompleteScript} from '../../node_modules/@oclif/plugin-autocomplete/lib/commands/autocomplete/script.js'
