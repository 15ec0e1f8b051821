// The child `-r secrets-cli/register` (CommonJS) runs synchronously: Node 20 can neither require an ES
// module nor wait for a promise inside require(), so the resolution runs here, in a second Node process,
// and the values come back as JSON on the stdout pipe (never in argv or a file). Errors and warnings
// go to stderr, which is the program's own. argv[2] is the program's name for the access log.
import {failAndExit} from './fail.js'
import {load} from './index.js'

try {
  const values = await load({program: process.argv[2]})
  process.stdout.write(JSON.stringify(values))
} catch (error) {
  failAndExit(error)
}
