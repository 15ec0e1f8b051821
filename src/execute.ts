// The entry bin/run.js starts from. oclif is bundled into dist/ with the commands (one copy, in a shared
// chunk), so its runtime and the commands it loads share their classes, and Node loads a few files
// instead of oclif's ~100 CommonJS modules.
export {execute} from '@oclif/core/execute'
