import {VersionCommand} from '../cli/plugins.js'

/** `secrets version` (`--verbose`, `--json`): @oclif/plugin-version's command. `-v`/`--version` are oclif core's. */
export default VersionCommand
