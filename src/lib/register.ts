// `node --import secrets-cli/register app.js`: Node finishes this module (its top-level await included)
// before the program's first line, so process.env holds the secrets when app.js starts; on failure the
// program never starts.
import {failAndExit} from './fail.js'
import {config} from './index.js'

try {
  await config()
} catch (error) {
  failAndExit(error)
}
