import {HelpCommand} from '../cli/plugins.js'

/** `secrets help [COMMAND]`: @oclif/plugin-help's command, showing our help class. */
export default HelpCommand
