#!/usr/bin/env node
// Runs the CLI from src/ through tsx, without a build, from any directory (oclif's development mode).
// oclif maps the dist/ paths package.json names to sources through tsconfig's outDir and rootDir, but ours
// has rootDir "." (it checks test/ too), and it loads commands from the committed oclif.manifest.json,
// whose paths are dist's. So the root plugin is made here: the manifest ignored, the oclif paths in src/.
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {register} from 'tsx/esm/api'
import {execute, Plugin, settings} from '@oclif/core'

register()
const root = fileURLToPath(new URL('..', import.meta.url))
const pjson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
const toSrc = (p) => p.replace(/^\.\/dist\//, './src/').replace(/\.js$/, '.ts')
const hooks = Object.fromEntries(Object.entries(pjson.oclif.hooks ?? {}).map(([k, v]) => [k, toSrc(v)]))
pjson.oclif = {...pjson.oclif, commands: toSrc(pjson.oclif.commands), helpClass: toSrc(pjson.oclif.helpClass), hooks}
// The paths above are the sources already, and tsx is registered: no tsconfig lookup.
settings.enableAutoTranspile = false
const plugin = new Plugin({root, pjson, isRoot: true, ignoreManifest: true})
await plugin.load()
await execute({development: true, loadOptions: {root, plugins: new Map([[plugin.name, plugin]])}})
