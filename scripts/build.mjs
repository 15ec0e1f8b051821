#!/usr/bin/env node
// Builds dist/ with esbuild: one small module per command (the paths oclif.manifest.json names) and per
// provider, with the code they share in chunks. Node then loads a handful of files instead of ~200
// (`secrets exec` starts about 100 ms sooner than from tsc's file-per-module output). @oclif/core stays
// external (the runtime that loads the commands must share its classes), and so do provider SDKs and
// node-pty, which load only when a reference or a terminal needs them. Type checking is `npm run typecheck`.
import {readdirSync, rmSync} from 'node:fs'
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

const entryPoints = [
  ...find(join(src, 'commands'), (p) => p.endsWith('.ts')),
  ...find(join(src, 'providers'), (p) => p.endsWith('/index.ts')),
  join(src, 'help.ts'),
]

rmSync(join(root, 'dist'), {recursive: true, force: true})
await build({
  absWorkingDir: root,
  entryPoints,
  outdir: join(root, 'dist'),
  outbase: src,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  chunkNames: 'chunks/[name]-[hash]',
  // yaml's ES module build (the same code as its CommonJS one) lets esbuild keep only what is used.
  alias: {yaml: './node_modules/yaml/browser/index.js'},
  external: ['@oclif/core', 'node-pty', 'node-vault', '@aws-sdk/*', '@smithy/*', '@azure/*'],
  // Bundled CommonJS dependencies call require(); give the ESM output one.
  banner: {js: "import {createRequire as __secretsCreateRequire} from 'node:module'; const require = __secretsCreateRequire(import.meta.url);"},
  logLevel: 'warning',
})
