// Builds this baseline's dist/ the way scripts/build.mjs builds secrets: oclif bundled with the command
// (one shared chunk), whitespace minified. oclif's localeCompare sort is left alone: with one command it
// never calls the comparator. bench/exec.mjs runs this before timing.
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {build} from 'esbuild'

const here = dirname(fileURLToPath(import.meta.url))
await build({
  absWorkingDir: here,
  entryPoints: {execute: join(here, 'src', 'execute.js'), 'commands/exec': join(here, 'src', 'commands', 'exec.js')},
  outdir: join(here, 'dist'),
  nodePaths: [join(here, '..', '..', 'node_modules')],
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minifyWhitespace: true,
  chunkNames: 'chunks/[name]-[hash]',
  external: ['typescript', 'ts-node', 'tsx'],
  // oclif's __dirname fallbacks are not reached here (see scripts/build.mjs); give them a value anyway.
  define: {__dirname: '"."'},
  banner: {js: "import {createRequire as __cr} from 'node:module'; const require = __cr(import.meta.url);"},
  logLevel: 'warning',
})
