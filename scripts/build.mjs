#!/usr/bin/env node
// Builds dist/ with esbuild: one small module per command (the paths oclif.manifest.json names) and per
// provider, with the code they share in chunks. Node then loads a handful of files instead of ~200
// (`secrets exec` starts about 100 ms sooner than from tsc's file-per-module output). @oclif/core is
// bundled too: bin/run.js starts from dist/execute.js, and the runtime and the commands it loads share one
// copy in a chunk (one file to read and compile instead of oclif's ~100 CommonJS modules, each resolved,
// read and wrapped). Provider SDKs, the passphrase-strength estimator and node-pty stay external: they
// load only when a reference, a new passphrase or a terminal needs them (see `externals` below). Type checking is `npm run typecheck`.
import {readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {build} from 'esbuild'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const src = join(root, 'src')

function find(dir, keep) {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) => {
    const p = join(dir, e.name)
    return e.isDirectory() ? find(p, keep) : keep(p) ? [p] : []
  })
}

// The packages left to Node at run time: the optional ones (node-pty may be missing) and every SDK a
// provider spec names (src/providers/<kind>/spec.ts, `sdkPackages`), which must be dependencies in
// package.json; a pattern such as `@aws-sdk/*` also covers the packages those pull in. The specs are pure
// data, so esbuild can bundle the registry into memory and the build reads it like the CLI does.
const LAZY_PACKAGES = ['@zxcvbn-ts/core', '@zxcvbn-ts/language-common', '@zxcvbn-ts/language-en']

async function externals() {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  const installed = Object.keys({...pkg.dependencies, ...pkg.optionalDependencies})
  const registry = await build({
    entryPoints: [join(src, 'providers', 'registry.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    logLevel: 'warning',
  })
  const {providerSpecs} = await import(
    `data:text/javascript;base64,${Buffer.from(registry.outputFiles[0].text).toString('base64')}`
  )
  const sdks = providerSpecs().flatMap((spec) => spec.sdkPackages.map((name) => ({kind: spec.kind, name})))
  for (const {kind, name} of sdks) {
    const matches = (dep) => (name.endsWith('/*') ? dep.startsWith(name.slice(0, -1)) : dep === name)
    if (!installed.some(matches))
      throw new Error(`the ${kind} provider's spec names ${name}, which is not a dependency in package.json`)
  }
  for (const name of LAZY_PACKAGES)
    if (!installed.includes(name)) throw new Error(`${name} is left external but is not a dependency in package.json`)
  // typescript, ts-node and tsx are what oclif looks for to run TypeScript sources in development. The
  // passphrase-strength estimator and its dictionaries (several MB, src/core/store/passphrase-strength.ts)
  // load only when a passphrase is set; external, a trace shows that `exec` and `get` never load them.
  return [
    ...new Set([
      'typescript',
      'ts-node',
      'tsx',
      ...LAZY_PACKAGES,
      ...Object.keys(pkg.optionalDependencies ?? {}),
      ...sdks.map((s) => s.name),
    ]),
  ]
}

const entryPoints = [
  ...find(join(src, 'commands'), (p) => p.endsWith('.ts')),
  ...find(join(src, 'providers'), (p) => p.endsWith('/index.ts')),
  join(src, 'cli', 'help.ts'),
  join(src, 'cli', 'not-found.ts'),
  join(src, 'execute.ts'),
]

// oclif's CommonJS files use __dirname only in fallbacks and defaults that secrets does not reach (its
// package.json when require() cannot find it, Config.load() without a root, ts-node in development).
// ES modules have no __dirname: give those files one that names their folder inside @oclif/core.
//
// And one call: oclif sorts a plugin's commands by id with localeCompare(). The first localeCompare() of a
// process sets up an ICU collator, about 70 M instructions (more than all of exec's own work), for an
// order nothing shows: help sorts commands and topics again, by plain comparison. So the build compares
// command ids with < instead (they are lowercase ASCII names with ":"). The build fails if that code changes.
const LOCALE_SORT = '.sort((a, b) => a.id.localeCompare(b.id));'
const oclifPatches = {
  name: 'oclif-patches',
  setup(b) {
    b.onLoad({filter: /[/\\]node_modules[/\\]@oclif[/\\]core[/\\]lib[/\\].*\.js$/}, (args) => {
      const path = args.path.replace(/\\/g, '/')
      let text = readFileSync(args.path, 'utf8')
      if (path.endsWith('/lib/config/plugin.js')) {
        if (!text.includes(LOCALE_SORT))
          throw new Error(`${path} no longer has ${LOCALE_SORT}: review the patch in scripts/build.mjs`)
        text = text.replace(LOCALE_SORT, '.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));')
      }
      if (text.includes('__dirname')) {
        const sub = path.replace(/^.*\/node_modules\/@oclif\/core\//, '').replace(/\/[^/]*$/, '')
        const fn = `function __oclifDirname() { const p = require('node:path'); return p.join(p.dirname(require.resolve('@oclif/core/package.json')), ${JSON.stringify(sub)}) }\n`
        text = fn + text.replace(/\b__dirname\b/g, '__oclifDirname()')
      }
      return {contents: text, loader: 'js'}
    })
  },
}

rmSync(join(root, 'dist'), {recursive: true, force: true})
const external = await externals()
// What the CLI's build and the library's share: ES modules for Node 20, bundled, with shared chunks.
const esm = {
  absWorkingDir: root,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  // Node parses every byte of a module before it runs it: without the indentation and comments the
  // files it loads at start are a third smaller (about 3% of `secrets exec -- true`'s instructions).
  // Names are kept, so stack traces still name functions; the linked source maps give the lines.
  minifyWhitespace: true,
  chunkNames: 'chunks/[name]-[hash]',
  // yaml's ES module build (the same code as its CommonJS one) lets esbuild keep only what is used.
  alias: {yaml: './node_modules/yaml/browser/index.js'},
  external,
  // Bundled CommonJS dependencies call require(); give the ESM output one.
  banner: {
    js: "import {createRequire as __secretsCreateRequire} from 'node:module'; const require = __secretsCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
}
await build({...esm, entryPoints, outdir: join(root, 'dist'), outbase: src, plugins: [oclifPatches]})

// The library (the package's exports: src/lib, see docs/library.md) is a build of its own, so the CLI's
// chunks, and what `secrets exec` loads at start, stay exactly as they are; it shares no file with them.
const lib = join(src, 'lib')
await build({
  ...esm,
  entryPoints: ['index.ts', 'register.ts', 'resolve-child.ts'].map((f) => join(lib, f)),
  outdir: join(root, 'dist', 'lib'),
  outbase: lib,
})
// The CommonJS entries: index.cjs loads the ES module with import() on first call; register.cjs runs
// resolve-child.js in a child process (Node 20 cannot require an ES module synchronously).
await build({
  absWorkingDir: root,
  entryPoints: [
    {in: join(lib, 'index-cjs.ts'), out: 'index'},
    {in: join(lib, 'register-cjs.ts'), out: 'register'},
  ],
  outdir: join(root, 'dist', 'lib'),
  outExtension: {'.js': '.cjs'},
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minifyWhitespace: true,
  external: ['./index.js'],
  logLevel: 'warning',
})
// The shipped types: hand-written (src/lib/api.d.ts, checked against the code by test/unit/lib/api.test.ts).
const types = readFileSync(join(lib, 'api.d.ts'), 'utf8')
writeFileSync(join(root, 'dist', 'lib', 'index.d.ts'), types)
writeFileSync(join(root, 'dist', 'lib', 'index.d.cts'), types)
