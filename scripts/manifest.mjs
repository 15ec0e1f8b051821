#!/usr/bin/env node
// Generates oclif.manifest.json from the built commands (what `oclif manifest` does), without the
// heavy oclif CLI package. `--write` writes it; `--check` exits 1 when the committed one is stale.
import {readFileSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {Plugin} from '@oclif/core'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

export async function generateManifest() {
  const plugin = new Plugin({root, type: 'core', ignoreManifest: true, errorOnManifestCreate: true, isRoot: true})
  await plugin.load()
  // oclif lists command files in the order its glob finds them, which changes with the machine's load
  // when there are subdirectories (audit/, key/): sort by id so the same commands give the same text.
  const {commands, ...rest} = plugin.manifest
  const sorted = Object.fromEntries(Object.entries(commands).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  return `${JSON.stringify({commands: sorted, ...rest}, null, 2)}\n`
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = await generateManifest()
  const at = process.argv.indexOf('--file')
  const file = at === -1 ? join(root, 'oclif.manifest.json') : process.argv[at + 1]
  if (process.argv.includes('--check')) {
    let current = ''
    try {
      current = readFileSync(file, 'utf8')
    } catch {}
    if (current !== text) {
      console.error(`${file} is stale: run \`npm run build && npm run manifest\` and commit it.`)
      process.exit(1)
    }
  } else {
    writeFileSync(file, text)
    console.log(`wrote ${file} (${Object.keys(JSON.parse(text).commands).length} commands)`)
  }
}
