import type {Hook} from '@oclif/core/hooks'
import pluginNotFound from '@oclif/plugin-not-found'

import {SecretsError} from '../errors.js'
import {warningLine} from './output.js'
import {closest} from '../core/suggest.js'
import {renderAndExit, spaced} from './render-error.js'
import {canPrompt} from './ui.js'

/**
 * An unknown command. On a terminal, @oclif/plugin-not-found asks "Did you mean ...?" and runs the
 * suggestion only when the user says yes. Without one (or with --json) nothing is guessed: the
 * suggestion is printed as a USAGE error (exit 2), in our error format, never with oclif's internal
 * `topic:command` id.
 */
const hook: Hook.CommandNotFound = async function (opts) {
  const {config} = opts
  if (opts.id.startsWith('-')) {
    // Only flags: `secrets --env prod` names no command.
    renderAndExit(
      new SecretsError('USAGE', `No command given after ${opts.id}.`, {
        suggestions: [
          `Put the command after the global flags, e.g. \`${config.bin} --env prod list\`; \`${config.bin} help\` lists them.`,
        ],
      }),
      opts.id === '--json' || Boolean(opts.argv?.includes('--json')),
    )
  }
  const words = opts.id.split(':')
  // oclif joins the words after an unknown command into its id (`ge FOO` → `ge:FOO`): only a topic's
  // subcommand is part of the name; the rest were arguments.
  const typed = config.findTopic(words[0]) && words.length > 1 ? words.slice(0, 2).join(':') : words[0]
  const json = Boolean(opts.argv?.includes('--json'))
  const visible = config.commands.filter((c) => !c.hidden)
  const ids = [...visible.map((c) => c.id), ...visible.flatMap((c) => c.aliases)]
  const suggestion = closest(typed, ids)
  const error = new SecretsError('USAGE', `"${spaced(typed)}" is not a ${config.bin} command.`, {
    suggestions: [
      ...(suggestion ? [`Did you mean \`${config.bin} ${spaced(suggestion)}\`?`] : []),
      `Run \`${config.bin} help\` for the list of commands.`,
    ],
  })
  if (json || !suggestion || !canPrompt()) renderAndExit(error, json)
  // The plugin prompts (and runs the command on yes); its warning and its refusal are ours.
  const context: Hook.Context = {
    ...this,
    config,
    warn: () => process.stderr.write(`${warningLine(`"${spaced(typed)}" is not a ${config.bin} command.`)}\n`),
    error: () => renderAndExit(error, false),
  }
  return pluginNotFound.call(context, opts)
}

export default hook
