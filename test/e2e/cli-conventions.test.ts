import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {BIN, Sandbox} from '../helpers/cli.js'
import {onTerminal, skipWithoutPty} from '../helpers/terminal.js'

const VERSION = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')).version

describe('the conventions users expect of a CLI (no terminal)', () => {
  const sb = new Sandbox()
  before(async () => {
    await sb.init()
    const r = await sb.run(['set', 'API_KEY'], {input: 'value-of-the-api-key'})
    assert.equal(r.code, 0, r.stderr)
  })
  after(() => sb.cleanup())

  it('`help COMMAND`, `COMMAND --help` and `COMMAND -h` show the same page', async () => {
    const pages = await Promise.all(
      [
        ['help', 'exec'],
        ['exec', '--help'],
        ['exec', '-h'],
      ].map((a) => sb.run(a)),
    )
    for (const p of pages) assert.equal(p.code, 0, p.stderr)
    assert.match(pages[0].stdout, /^Run a command with the secrets in its environment\.\n\nUSAGE\n {2}\$ secrets exec /)
    assert.equal(pages[1].stdout, pages[0].stdout)
    assert.equal(pages[2].stdout, pages[0].stdout)
    const topic = await sb.run(['help', 'key', 'add'])
    assert.equal(topic.code, 0, topic.stderr)
    assert.match(topic.stdout, /\$ secrets key add \[FLAGS\]/)
  })

  it('-v, --version and `version` print the version', async () => {
    for (const args of [['-v'], ['--version'], ['version']]) {
      const r = await sb.run(args)
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, new RegExp(`^secrets-cli/${VERSION.replaceAll('.', '\\.')} \\S+ node-v\\d+`))
    }
    const json = await sb.run(['version', '--json'])
    assert.equal(json.code, 0, json.stderr)
    assert.equal(JSON.parse(json.stdout).cliVersion, `secrets-cli/${VERSION}`)
  })

  it('USAGE shows the positional arguments; no docopts artifacts; own flags before the global ones', async () => {
    const exec = await sb.run(['help', 'exec'])
    assert.match(exec.stdout, /\nUSAGE\n {2}\$ secrets exec \[FLAGS\] -- CMD \[ARGS\.\.\.\]\n\n/)
    const rotate = await sb.run(['rotate', '--help'])
    assert.match(rotate.stdout, /\nUSAGE\n {2}\$ secrets rotate \[FLAGS\] VAR\|REF\.\.\.\n/)
    assert.doesNotMatch(rotate.stdout, /\| \]/)
    const flags = rotate.stdout.indexOf('\nFLAGS\n')
    const global = rotate.stdout.indexOf('\nGLOBAL FLAGS\n')
    assert.ok(flags !== -1 && global > flags, rotate.stdout)
    const get = await sb.run(['get', '--help'])
    assert.match(get.stdout, /\$ secrets get \[FLAGS\] REF\n/)
  })

  it('the summary is not repeated as the description', async () => {
    const r = await sb.run(['help', 'exec'])
    const summary = 'Run a command with the secrets in its environment.'
    assert.equal(r.stdout.split(summary).length - 1, 1, r.stdout)
    assert.match(r.stdout, /\nDESCRIPTION\n {2}Resolves every variable/)
  })

  it('the root help has the whole exit-code table; a command page has none', async () => {
    const root = await sb.run(['help'])
    assert.match(root.stdout, /\nEXIT CODES\n {6}0 {2}success\n/)
    assert.match(root.stdout, /\n {2}128\+N {2}exec: the child died from signal N/)
    const page = await sb.run(['help', 'get'])
    assert.doesNotMatch(page.stdout, /EXIT CODES/)
  })

  it('help wraps at COLUMNS without a terminal', async () => {
    const wide = await sb.run(['help', 'rotate'], {env: {COLUMNS: '160'}})
    const lines = wide.stdout.split('\n')
    assert.ok(
      lines.some((l) => l.length > 100),
      'some line uses the width',
    )
    assert.ok(
      lines.every((l) => l.length <= 160),
      'no line is wider than COLUMNS',
    )
    const narrow = await sb.run(['help', 'rotate'])
    assert.ok(narrow.stdout.split('\n').every((l) => l.length <= 80))
  })

  it('an unknown command suggests the closest one and exits USAGE, running nothing', async () => {
    const r = await sb.run(['lst'])
    assert.equal(r.code, 2)
    assert.equal(r.stdout, '')
    assert.equal(
      r.stderr,
      'Error [USAGE]: "lst" is not a secrets command.\n  → Did you mean `secrets list`?\n  → Run `secrets help` for the list of commands.\n',
    )
  })

  it('no internal topic:command id appears in a message', async () => {
    const ge = await sb.run(['ge', 'API_KEY'])
    assert.equal(ge.code, 2)
    assert.equal(ge.stdout, '', 'get was not run')
    assert.equal(
      ge.stderr,
      'Error [USAGE]: "ge" is not a secrets command.\n  → Did you mean `secrets get`?\n  → Run `secrets help` for the list of commands.\n',
    )
    const verfy = await sb.run(['audit', 'verfy'])
    assert.equal(verfy.code, 2)
    assert.equal(
      verfy.stderr,
      'Error [USAGE]: "audit verfy" is not a secrets command.\n  → Did you mean `secrets audit verify`?\n  → Run `secrets help` for the list of commands.\n',
    )
    const help = await sb.run(['help', 'audit', 'verfy'])
    assert.equal(help.code, 2)
    assert.equal(
      help.stderr,
      'Error [USAGE]: "audit verfy" is not a secrets command.\n  → Did you mean `secrets help audit verify`?\n  → Run `secrets help` for the list of commands.\n',
    )
    for (const r of [ge, verfy, help]) assert.doesNotMatch(r.stderr, /\w:\w/)
  })

  it('nothing near: no guess', async () => {
    const r = await sb.run(['zzzzzzzz'])
    assert.equal(r.code, 2)
    assert.equal(
      r.stderr,
      'Error [USAGE]: "zzzzzzzz" is not a secrets command.\n  → Run `secrets help` for the list of commands.\n',
    )
  })

  it('an unknown command with --json prints the documented error object (before or after it)', async () => {
    for (const args of [
      ['lst', '--json'],
      ['--json', 'lst'],
    ]) {
      const r = await sb.run(args)
      assert.equal(r.code, 2)
      assert.equal(r.stderr, '')
      assert.deepEqual(JSON.parse(r.stdout), {
        error: {
          code: 'USAGE',
          exitCode: 2,
          message: '"lst" is not a secrets command.',
          suggestions: ['Did you mean `secrets list`?', 'Run `secrets help` for the list of commands.'],
        },
      })
    }
  })

  it('global flags without a command are USAGE', async () => {
    const r = await sb.run(['--env', 'prod'])
    assert.equal(r.code, 2)
    assert.equal(
      r.stderr,
      'Error [USAGE]: No command given after --env.\n  → Put the command after the global flags, e.g. `secrets --env prod list`; `secrets help` lists them.\n',
    )
    const json = await sb.run(['--json'])
    assert.equal(json.code, 2)
    assert.equal(JSON.parse(json.stdout).error.code, 'USAGE')
  })

  it('a mistyped flag names the closest real flag', async () => {
    const r = await sb.run(['rotate', 'API_KEY', '--lenght', '12'])
    assert.equal(r.code, 2)
    assert.equal(
      r.stderr,
      'Error [USAGE]: Unknown flag --lenght for `secrets rotate`.\n  → Did you mean --length?\n  → See `secrets rotate --help` for the flags.\n',
    )
    const json = await sb.run(['list', '--jsno'])
    assert.equal(json.code, 2)
    assert.match(json.stderr, /→ Did you mean --json\?/)
    const allowNo = await sb.run(['exec', '--no-redcat', '--', 'true'])
    assert.match(allowNo.stderr, /→ Did you mean --no-redact\?/)
  })

  it('global flags are accepted before the command', async () => {
    const other = join(sb.root, 'elsewhere')
    const plain = await sb.run(['list', '--json'])
    assert.equal(plain.code, 0, plain.stderr)
    const first = await sb.run(['--config', join(sb.project, 'secrets.yaml'), 'list'], {cwd: sb.root})
    assert.equal(first.code, 0, first.stderr)
    assert.match(first.stdout, /API_KEY/)
    const eq = await sb.run([`--config=${join(sb.project, 'secrets.yaml')}`, '--json', 'list'], {cwd: sb.root})
    assert.equal(eq.code, 0, eq.stderr)
    assert.deepEqual(JSON.parse(eq.stdout), JSON.parse(plain.stdout))
    const topic = await sb.run(['--json', 'key', 'list'])
    assert.equal(topic.code, 0, topic.stderr)
    assert.ok(Array.isArray(JSON.parse(topic.stdout).recipients ?? JSON.parse(topic.stdout)))
    const missing = await sb.run(['--config', join(other, 'secrets.yaml'), 'list'])
    assert.equal(missing.code, 3, missing.stderr)
  })

  it('`run` is an alias of `exec`', async () => {
    const r = await sb.run(['run', '--', 'sh', '-c', 'printf "%s" "${#API_KEY}"'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, String('value-of-the-api-key'.length))
    const help = await sb.run(['help', 'run'])
    assert.match(help.stdout, /\nUSAGE\n {2}\$ secrets run \[FLAGS\] -- CMD \[ARGS\.\.\.\]\n/)
    assert.match(help.stdout, /\nALIASES\n {2}\$ secrets run\n/)
  })
})

describe('shell completion', () => {
  const sb = new Sandbox()
  after(() => sb.cleanup())
  const cache = () => join(sb.home, '.cache', 'secrets', 'autocomplete')

  it('bash, zsh and PowerShell scripts name the commands and their flags', async () => {
    for (const shell of ['bash', 'zsh', 'powershell']) {
      const r = await sb.run(['autocomplete', shell])
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, new RegExp(`secrets autocomplete script ${shell}`))
    }
    const bash = readFileSync(join(cache(), 'functions', 'bash', 'secrets.bash'), 'utf8')
    assert.match(bash, /\nexec --json --config --env --only --pristine /)
    assert.match(bash, /\nkey:add /)
    assert.match(bash, /\nrun --json --config --env --only /, 'the alias completes too')
    const zsh = readFileSync(join(cache(), 'functions', 'zsh', '_secrets'), 'utf8')
    assert.ok(zsh.includes('"exec[Run a command with the secrets in its environment.]"'))
    assert.ok(zsh.includes('"*"--only"[Only pass this variable (repeatable).]'))
    const ps = readFileSync(join(cache(), 'functions', 'powershell', 'secrets.ps1'), 'utf8')
    assert.match(ps, /"exec" = @\{/)
    assert.match(ps, /"only"/)
    const script = await sb.run(['autocomplete', 'script', 'bash'])
    assert.match(script.stdout, /SECRETS_AC_BASH_SETUP_PATH=.*bash_setup && test -f/)
  })

  it('fish: the whole completion script, commands, topics, subcommands and flags', async () => {
    const r = await sb.run(['autocomplete', 'script', 'fish'])
    assert.equal(r.code, 0, r.stderr)
    const lines = r.stdout.split('\n')
    assert.ok(lines.includes('complete -c secrets -f'))
    assert.ok(lines.some((l) => /-a exec -d 'Run a command with the secrets in its environment'$/.test(l)))
    assert.ok(lines.some((l) => /-a key -d 'Manage who can decrypt/.test(l)))
    assert.ok(
      lines.some(
        (l) =>
          l.includes("'__fish_seen_subcommand_from key; and not __fish_seen_subcommand_from") && l.includes('-a add'),
      ),
    )
    assert.ok(lines.some((l) => l.startsWith("complete -c secrets -n '__fish_seen_subcommand_from exec' -l only -r")))
    assert.ok(lines.some((l) => /-l generate -r -a 'password hex base64 base64url uuid'/.test(l)))
    assert.ok(
      lines.some((l) => l.startsWith("complete -c secrets -n '__fish_seen_subcommand_from delete' -l yes -s y")),
    )
    const how = await sb.run(['autocomplete', 'fish'])
    assert.equal(how.code, 0, how.stderr)
    assert.match(how.stdout, /secrets autocomplete script fish > ~\/\.config\/fish\/completions\/secrets\.fish/)
  })
})

describe('on a terminal', () => {
  const sb = new Sandbox()
  after(() => sb.cleanup())
  const term = (args: string[], script: Array<[string, string]>, cols?: number) =>
    onTerminal(process.execPath, [BIN, ...args], script, {
      cwd: sb.project,
      env: sb.env({TERM: 'xterm', CI: undefined}),
      cols,
    })

  it('an unknown command asks "Did you mean"; no runs nothing and exits USAGE', async (t) => {
    if (skipWithoutPty(t)) return
    const r = await term(['verison'], [['Did you mean', 'n\r']])
    assert.equal(r.code, 2, r.output)
    assert.match(r.output, /"verison" is not a secrets command\./)
    assert.match(r.output, /Error \[USAGE\]: "verison" is not a secrets command\./)
    assert.doesNotMatch(r.output, /secrets-cli\//)
  })

  it('an unknown command runs the suggestion only when confirmed', async (t) => {
    if (skipWithoutPty(t)) return
    const r = await term(['verison'], [['Did you mean', 'y\r']])
    assert.equal(r.code, 0, r.output)
    assert.match(r.output, /secrets-cli\/\d/)
  })

  it('help wraps at the terminal width', async (t) => {
    if (skipWithoutPty(t)) return
    const wide = await term(['help', 'rotate'], [], 150)
    const lines = wide.output.split(/\r?\n/)
    assert.ok(
      lines.some((l) => l.length > 100),
      wide.output,
    )
    assert.ok(lines.every((l) => l.length <= 150))
  })
})
