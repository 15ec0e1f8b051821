import type {Config} from '@oclif/core/config'

/** Text quoted for fish: single quotes, with `\` and `'` escaped. */
function q(text: string): string {
  return `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`
}

/** The first line of a summary or description, for a completion's description column. */
function firstLine(text: string | undefined): string {
  return (text ?? '').split('\n')[0].replace(/\.$/, '')
}

/**
 * A fish completion script for every visible command, topic and flag. @oclif/plugin-autocomplete writes
 * bash, zsh and PowerShell but not fish; this is the same data (the manifest's commands and flags)
 * written as `complete` lines, which fish loads from ~/.config/fish/completions/<bin>.fish.
 */
export function fishCompletion(config: Config): string {
  const bin = config.bin
  const commands = config.commands.filter((c) => !c.hidden)
  const entries = [
    ...commands.map((c) => ({id: c.id, text: c.summary ?? c.description})),
    ...commands.flatMap((c) => c.aliases.map((a) => ({id: a, text: c.summary ?? c.description}))),
  ]
  const topics = config.topics.filter((t) => !t.hidden && !t.name.includes(':'))
  const words = (id: string) => id.split(':')
  const lines = [
    `# ${bin} completions for fish: ${bin} autocomplete script fish > ~/.config/fish/completions/${bin}.fish`,
    `complete -c ${bin} -f`,
  ]
  const top = [...new Set([...entries.map((e) => words(e.id)[0]), ...topics.map((t) => t.name)])]
  const none = `not __fish_seen_subcommand_from ${top.join(' ')}`
  for (const t of topics) lines.push(`complete -c ${bin} -n ${q(none)} -a ${t.name} -d ${q(firstLine(t.description))}`)
  for (const e of entries.filter((e) => words(e.id).length === 1)) {
    lines.push(`complete -c ${bin} -n ${q(none)} -a ${e.id} -d ${q(firstLine(e.text))}`)
  }
  for (const t of topics) {
    const subs = entries.filter((e) => words(e.id).length === 2 && words(e.id)[0] === t.name)
    const noSub = `__fish_seen_subcommand_from ${t.name}; and not __fish_seen_subcommand_from ${subs.map((s) => words(s.id)[1]).join(' ')}`
    for (const s of subs)
      lines.push(`complete -c ${bin} -n ${q(noSub)} -a ${words(s.id)[1]} -d ${q(firstLine(s.text))}`)
  }
  for (const c of commands) {
    const ids = [c.id, ...c.aliases]
    for (const id of ids) {
      const cond = words(id)
        .map((w) => `__fish_seen_subcommand_from ${w}`)
        .join('; and ')
      for (const [name, flag] of Object.entries(c.flags)) {
        if (flag.hidden) continue
        const short = flag.char ? ` -s ${flag.char}` : ''
        const value = flag.type === 'option' ? ' -r' : ''
        const options = flag.type === 'option' && flag.options ? ` -a ${q(flag.options.join(' '))}` : ''
        lines.push(
          `complete -c ${bin} -n ${q(cond)} -l ${name}${short}${value}${options} -d ${q(firstLine(flag.description))}`,
        )
      }
    }
  }
  return `${lines.join('\n')}\n`
}
