import {BaseCommand} from '../cli/base-command.js'
import {configSchema} from '../core/config/schema.js'

export default class Schema extends BaseCommand<typeof Schema> {
  static override summary = 'Print the JSON Schema of secrets.yaml, for editors and CI.'
  static override description = `Prints the JSON Schema (draft 2020-12) of secrets.yaml, built from the same definitions the CLI validates with: the fields, the provider settings, the reference and duration grammar and the rotation policies. The package ships the same schema as secrets.schema.json; \`init\` points editors at it with a \`# yaml-language-server: $schema=...\` line. A few rules need the whole file (a reference's alias must be declared under providers:, a variable is either under env: or files:, two files: entries may not write one file name); the schema cannot express them and the CLI checks them.`

  static override examples = ['<%= config.bin %> schema > secrets.schema.json']

  static override enableJsonFlag = false

  async run(): Promise<void> {
    process.stdout.write(`${JSON.stringify(configSchema(), null, 2)}\n`)
  }
}
