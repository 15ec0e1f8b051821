import {readFileSync, statSync} from 'node:fs'
import {basename} from 'node:path'

import {SecretsError, fsError} from '../../errors.js'
import {parseConfig} from '../config/load.js'
import type {ProjectConfig} from '../config/types.js'
import {writeFileAtomic} from '../lib/atomic-write.js'
import {decodeText, loadYamlData, readImportFile} from './parse.js'
import {planTeller, renderTellerTemplates, type TellerPlan} from './teller.js'

/** teller's own file names: `import` treats them as `--format teller` without being told. */
export function isTellerFile(path: string): boolean {
  return /(^|\.)teller(\.[\w-]+)?\.ya?ml$/i.test(basename(path))
}

export interface TellerImport extends TellerPlan {
  /** The teller file, and the get_env variables its templates were rendered with. */
  from: string
  templates: string[]
  /** secrets.yaml, and its text with the plan applied (validated as the CLI reads it). */
  configFile: string
  text: string
}

/** Read the teller file and plan its entries; nothing is written. */
export async function planTellerImport(
  file: string,
  config: ProjectConfig,
  env: NodeJS.ProcessEnv,
): Promise<TellerImport> {
  const rendered = renderTellerTemplates(decodeText(readImportFile(file), file), file, env)
  const plan = planTeller(file, await loadYamlData(rendered.text, file), config)
  const text = await applyToConfig(config.file, plan)
  return {...plan, from: file, templates: rendered.used, configFile: config.file, text}
}

/** A variable secrets.yaml maps elsewhere is repointed only with `--overwrite` (after the plan is shown). */
export function refuseTellerOverwrites(plan: TellerImport, overwrite: boolean | undefined): void {
  const taken = plan.env.filter((v) => v.status === 'change')
  if (taken.length > 0 && !overwrite)
    throw new SecretsError(
      'USAGE',
      `${plan.configFile} maps ${taken.map((v) => `${v.name} to ${v.current}`).join(', ')} already, and ${plan.from} somewhere else; nothing was written.`,
      {suggestions: ['Pass --overwrite to point them where teller does, or --dry-run to see the whole plan.']},
    )
}

async function applyToConfig(file: string, plan: TellerPlan): Promise<string> {
  let original: string
  try {
    original = readFileSync(file, 'utf8')
  } catch (error) {
    throw fsError(error, file, 'reading')
  }
  const {isMap, parseDocument} = await import('yaml')
  // The yaml library edits the document in place, so the file's comments and layout stay as they are.
  const doc = parseDocument(original)
  for (const section of ['providers', 'env'] as const) {
    const node = doc.get(section)
    if (isMap(node)) {
      // `init` writes `env: {}`; entries added to it go one per line, not into a one-line mapping.
      if (node.items.length === 0) node.flow = false
    } else {
      const created = doc.createNode({})
      created.flow = false
      doc.set(section, created)
    }
  }
  for (const p of plan.providers.filter((x) => x.status === 'add')) {
    const node = doc.createNode({type: p.type, ...p.settings})
    node.flow = true
    doc.setIn(['providers', p.alias], node)
  }
  for (const v of plan.env.filter((x) => x.status !== 'same')) doc.setIn(['env', v.name], v.ref)
  // Wide lines: a provider's settings stay on one line, as `init` writes them.
  const text = doc.toString({lineWidth: 200, flowCollectionPadding: false})
  try {
    parseConfig(text, file)
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new SecretsError(
      'CONFIG_INVALID',
      `With the teller entries added, ${file} would not be valid, so nothing was written: ${reason}`,
      {suggestions: ['Fix the entry it names in secrets.yaml (or in a copy of the teller file), and import again.']},
    )
  }
  return text
}

/** Write the planned secrets.yaml atomically, keeping the file's mode. */
export function writeTellerImport(plan: TellerImport): void {
  let mode = 0o644
  try {
    mode = statSync(plan.configFile).mode & 0o777
  } catch (error) {
    throw fsError(error, plan.configFile, 'reading')
  }
  writeFileAtomic(plan.configFile, plan.text, mode)
}

/** The plan as lines: `+` added, `~` changed, `=` already there, `-` left out (with why). */
export function formatTellerPlan(plan: TellerImport): string[] {
  const lines: string[] = []
  for (const p of plan.providers)
    lines.push(
      `${p.status === 'add' ? '+' : '='} providers.${p.alias}: ${JSON.stringify({type: p.type, ...p.settings})} (${p.from})`,
    )
  for (const v of plan.env)
    lines.push(
      v.status === 'change'
        ? `~ env.${v.name}: ${v.current} → ${v.ref}`
        : `${v.status === 'add' ? '+' : '='} env.${v.name}: ${v.ref}`,
    )
  for (const s of plan.skipped) lines.push(`- ${s.what}: ${s.reason}`)
  return lines
}
