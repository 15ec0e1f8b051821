// Preloaded with `node --import`: records every module this process loads (ESM through a resolve hook,
// CommonJS through Module._load) into the file named by TRACE_IMPORTS_FILE, one URL or path a line.
import {appendFileSync} from 'node:fs'
import Module, {register} from 'node:module'

const out = process.env.TRACE_IMPORTS_FILE
if (out) {
  register(new URL('./trace-imports-hooks.mjs', import.meta.url), {data: {out}})
  const load = Module._load
  Module._load = function (request, parent, isMain) {
    let resolved = request
    try {
      resolved = Module._resolveFilename(request, parent, isMain)
    } catch {
      // Let the real loader report it.
    }
    appendFileSync(out, `cjs ${resolved}\n`)
    return load.apply(this, arguments)
  }
}
