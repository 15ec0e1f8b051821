import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {resolve} from 'node:path'

import {BaseCommand, useFallback} from '../cli/base-command.js'
import {fallbackFlags} from '../cli/flags.js'
import {renderTemplate, writeRendered} from '../core/exec/template.js'
import {SecretsError} from '../errors.js'

export default class Render extends BaseCommand<typeof Render> {
  static override summary = 'Render a template with secrets into a file (0600) or to a pipe.'
  static override description = `Replaces {{ ref "REFERENCE" }} with the secret's value (a bare NAME means the local store), {{ env "VAR" }} with a variable of your environment and {{ "text" }} with the text itself. Every reference is resolved first; if one fails, nothing is written.

--output writes atomically with mode 0600 and refuses a file that git tracks (warning when git would not ignore it). Without --output the result goes to stdout, which must not be a terminal: secret values would stay in the scrollback. The same templates work under \`files:\` in secrets.yaml (\`template: config/db.json.tpl\`), rendered by exec into its private directory.`

  static override examples = [
    '<%= config.bin %> render config/db.json.tpl -o config/db.json',
    '<%= config.bin %> render nginx.conf.tpl | docker secret create nginx-conf -',
  ]

  static override args = {
    template: Args.string({ignoreStdin: true, description: 'The template file.', required: true}),
  }

  static override flags = {
    output: Flags.string({
      char: 'o',
      description: 'Write to this file (atomically, mode 0600; refused if git tracks it).',
    }),
    ...fallbackFlags,
  }

  async run(): Promise<{template: string; output?: string; references: string[]}> {
    const {output} = this.flags
    if (output === undefined && process.stdout.isTTY && !this.jsonEnabled()) {
      throw new SecretsError(
        'USAGE',
        'Refusing to print a rendered template to a terminal: its secret values would stay on screen and in the scrollback.',
        {
          suggestions: ['Pass --output FILE, or pipe the output into the program that needs it.'],
        },
      )
    }
    useFallback(this.session(), this.flags)
    const {value, refs} = await renderTemplate(
      this.session(),
      resolve(this.args.template),
      this.args.template,
      process.env,
    )
    if (output === undefined) {
      if (!this.jsonEnabled()) process.stdout.write(value.reveal())
    } else {
      writeRendered(output, value, (m) => this.ui.warn(m))
      this.success(`rendered ${this.args.template} into ${output} (${refs.length} reference(s))`)
    }
    return {template: this.args.template, ...(output === undefined ? {} : {output}), references: refs}
  }
}
