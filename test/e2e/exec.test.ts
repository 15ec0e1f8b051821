import assert from 'node:assert/strict'
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {after, before, describe, it} from 'node:test'

import {BIN, ROOT, Sandbox} from '../helpers/cli.js'
import {onTerminal, skipWithoutPty} from '../helpers/terminal.js'

const BASE_CONFIG = 'providers:\n  local: {type: local, path: .secrets/store.json}\n'

/** Wait until the child printed "ready"; fail with its stderr if it exits first. */
async function untilReady(
  child: ChildProcess,
): Promise<{closed: Promise<number | null>; output: () => string; errors: () => string}> {
  let out = ''
  let err = ''
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve))
  child.stderr!.on('data', (d) => (err += d))
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d
      if (out.includes('ready')) resolve()
    })
    closed.then((code) => reject(new Error(`exited with ${code} before it was ready: ${err}`)))
  })
  return {closed, output: () => out, errors: () => err}
}

/** Poll until `check` holds (bounded). */
async function until(check: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)

    await sleep(50)
  }
}

const MULTILINE = '-----BEGIN TEST KEY-----\nMIIEpAIBAAKCAQEA7secretline\n-----END TEST KEY-----'

describe('exec', () => {
  const sb = new Sandbox()
  before(async () => {
    await sb.init()
    assert.equal((await sb.run(['set', 'DB_PASSWORD'], {input: 'pw-from-store'})).code, 0)
    assert.equal((await sb.run(['set', 'API_TOKEN'], {input: 'token-from-store'})).code, 0)
  })
  after(() => sb.cleanup())

  it('gives the child each secret and the parent environment, never SECRETS_* variables', async () => {
    const dump = join(sb.root, 'env-dump')
    const r = await sb.run(
      [
        'exec',
        '--',
        'sh',
        '-c',
        `printf "%s|%s|%s|" "$DB_PASSWORD" "$API_TOKEN" "$PARENT_VAR" > ${dump}; env | grep -c ^SECRETS_ >> ${dump} || true`,
      ],
      {
        env: {PARENT_VAR: 'from-parent', SECRETS_LOCK_TIMEOUT: '9'},
      },
    )
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, '')
    assert.equal(readFileSync(dump, 'utf8'), 'pw-from-store|token-from-store|from-parent|0\n')
  })

  it('masks every value in stdout and stderr with a marker naming the variable', async () => {
    const r = await sb.run(['exec', '--', 'sh', '-c', 'printenv DB_PASSWORD; echo "token=$API_TOKEN" >&2'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, '<secret:DB_PASSWORD>\n')
    assert.equal(r.stderr, 'token=<secret:API_TOKEN>\n')
  })

  it('masks a value split across two writes', async () => {
    const r = await sb.run(['exec', '--', 'sh', '-c', 'printf "a=%s" "pw-fr"; sleep 0.3; printf "%s b\\n" "om-store"'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'a=<secret:DB_PASSWORD> b\n')
  })

  it('masks a multiline value whole, and any long line of it on its own', async () => {
    const file = join(sb.root, 'multi.pem')
    writeFileSync(file, MULTILINE)
    assert.equal((await sb.run(['set', 'TLS_KEY', '--from-file', file])).code, 0)
    try {
      const r = await sb.run(['exec', '--', 'sh', '-c', 'printenv TLS_KEY; printenv TLS_KEY | sed -n 2p'])
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stdout, '<secret:TLS_KEY>\n<secret:TLS_KEY>\n')
    } finally {
      assert.equal((await sb.run(['delete', 'TLS_KEY', '--yes'])).code, 0)
    }
  })

  it('--no-redact hands the child our stdio unchanged', async () => {
    const r = await sb.run(['exec', '--no-redact', '--', 'printenv', 'DB_PASSWORD'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'pw-from-store\n')
  })

  it('does not mask values shorter than 4 characters, and says so', async () => {
    assert.equal((await sb.run(['set', 'PIN'], {input: '123'})).code, 0)
    try {
      const r = await sb.run(['exec', '--', 'printenv', 'PIN'])
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stdout, '123\n')
      assert.equal(
        r.stderr,
        "Warning: PIN is shorter than 4 characters, so it is not masked in the command's output.\n",
      )
    } finally {
      assert.equal((await sb.run(['delete', 'PIN', '--yes'])).code, 0)
    }
  })

  it('passes stdin through to the child', async () => {
    const r = await sb.run(['exec', '--', 'sh', '-c', 'read line; echo "got $line"'], {input: 'hello from stdin\n'})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'got hello from stdin\n')
  })

  it("exits with exactly the child's status (0, 1, 7, 255), and 128+N when it dies from signal N", async () => {
    for (const code of [0, 1, 7, 255]) {
      assert.equal((await sb.run(['exec', '--', 'sh', '-c', `exit ${code}`])).code, code)
    }
    assert.equal((await sb.run(['exec', '--', 'sh', '-c', 'kill -TERM $$'])).code, 143)
    assert.equal((await sb.run(['exec', '--', 'sh', '-c', 'kill -KILL $$'])).code, 137)
    assert.equal((await sb.run(['exec', '--no-redact', '--', 'sh', '-c', 'kill -KILL $$'])).code, 137)
  })

  it('flags after -- belong to the child', async () => {
    const r = await sb.run(['exec', '--', 'sh', '-c', 'printf "%s " "$@"', 'sh', '--json', '--env', 'x'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, '--json --env x ')
  })

  it('--only and --pristine restrict what the child sees; a clash is warned about', async () => {
    const only = await sb.run([
      'exec',
      '--no-redact',
      '--only',
      'API_TOKEN',
      '--',
      'sh',
      '-c',
      'printf "[%s][%s]" "$DB_PASSWORD" "$API_TOKEN"',
    ])
    assert.equal(only.stdout, '[][token-from-store]')
    const pristine = await sb.run(
      [
        'exec',
        '--no-redact',
        '--pristine',
        '--',
        'sh',
        '-c',
        'printf "[%s][%s][%s]" "$PARENT_VAR" "$DB_PASSWORD" "$HOME"',
      ],
      {env: {PARENT_VAR: 'x'}},
    )
    assert.equal(pristine.stdout, `[][pw-from-store][${sb.home}]`)
    const clash = await sb.run(['exec', '--no-redact', '--', 'sh', '-c', 'printf %s "$DB_PASSWORD"'], {
      env: {DB_PASSWORD: 'from-parent'},
    })
    assert.equal(clash.stdout, 'pw-from-store')
    assert.equal(clash.stderr, "Warning: DB_PASSWORD is set in your environment too; the secret's value is used.\n")
  })

  it('fails closed: nothing starts when a secret cannot be resolved', async () => {
    writeFileSync(join(sb.project, 'secrets.yaml'), `${BASE_CONFIG}env:\n  GONE: local://NOT_THERE\n`)
    const marker = join(sb.root, 'started')
    try {
      const r = await sb.run(['exec', '--', 'sh', '-c', `touch ${marker}`])
      assert.equal(r.code, 5)
      assert.equal(existsSync(marker), false)
      assert.match(
        r.stderr,
        /^Error \[NOT_FOUND\]: Could not resolve 1 of 3 variable\(s\); nothing was used:\n {2}GONE = local:\/\/NOT_THERE \(provider local\): \[NOT_FOUND\]/,
      )
      const allowed = await sb.run(['exec', '--allow-missing', '--', 'sh', '-c', `touch ${marker}`])
      assert.equal(allowed.code, 0, allowed.stderr)
      assert.equal(
        allowed.stderr,
        'Warning: GONE (local://NOT_THERE) was not found and is left out (--allow-missing).\n',
      )
      assert.equal(existsSync(marker), true)
    } finally {
      writeFileSync(join(sb.project, 'secrets.yaml'), BASE_CONFIG)
    }
  })

  it('a missing command is 127, a non-executable one 126, no command is a usage error', async () => {
    const r = await sb.run(['exec', '--', 'definitely-not-a-command-xyz'])
    assert.equal(r.code, 127)
    assert.equal(
      r.stderr,
      'Error [COMMAND_NOT_FOUND]: Command not found: definitely-not-a-command-xyz. Nothing was run.\n  → Check the spelling and PATH.\n',
    )
    const script = join(sb.root, 'not-executable.sh')
    writeFileSync(script, '#!/bin/sh\necho hi\n', {mode: 0o644})
    const ne = await sb.run(['exec', '--', script])
    assert.equal(ne.code, 126)
    assert.equal(
      ne.stderr,
      `Error [COMMAND_NOT_EXECUTABLE]: Cannot execute ${script}: permission denied.\n  → Check that ${script} is executable (chmod +x).\n`,
    )
    const none = await sb.run(['exec'])
    assert.equal(none.code, 2)
    assert.equal(none.stderr, 'Error [USAGE]: No command to run: put it after --, e.g. `secrets exec -- npm start`.\n')
  })

  it('leaves one access record per resolved secret, naming the command run', async () => {
    const before = sb.auditText().trimEnd().split('\n').length
    assert.equal((await sb.run(['exec', '--', 'true'])).code, 0)
    const records = sb
      .auditText()
      .trimEnd()
      .split('\n')
      .slice(before)
      .map((l) => JSON.parse(l))
    assert.deepEqual(records.map((r) => [r.command, r.child, r.action, r.ref, r.outcome]).sort(), [
      ['exec', 'true', 'read', 'local://API_TOKEN', 'ok'],
      ['exec', 'true', 'read', 'local://DB_PASSWORD', 'ok'],
    ])
    assert.ok(!sb.auditText().includes('pw-from-store'))
  })

  it('forwards SIGTERM to a child that traps it, and exits with its status', {timeout: 60_000}, async () => {
    const child = spawn(
      process.execPath,
      [BIN, 'exec', '--', 'sh', '-c', 'trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 0.05; done'],
      {cwd: sb.project, env: sb.env(), stdio: ['ignore', 'pipe', 'pipe']},
    )
    const {closed, output} = await untilReady(child)
    child.kill('SIGTERM')
    assert.equal(await closed, 7)
    assert.equal(output(), 'ready\ngot-term\n')
  })

  it('escalates to SIGKILL when the child ignores SIGTERM past --kill-timeout', {timeout: 60_000}, async () => {
    const child = spawn(
      process.execPath,
      [BIN, 'exec', '--kill-timeout', '1', '--', 'sh', '-c', 'trap "" TERM; echo ready; while :; do sleep 0.05; done'],
      {cwd: sb.project, env: sb.env(), stdio: ['ignore', 'pipe', 'pipe']},
    )
    const {closed} = await untilReady(child)
    const t0 = Date.now()
    child.kill('SIGTERM')
    assert.equal(await closed, 137)
    assert.ok(Date.now() - t0 >= 900)
  })

  it('a second SIGTERM kills the child at once', {timeout: 60_000}, async () => {
    const child = spawn(
      process.execPath,
      [BIN, 'exec', '--', 'sh', '-c', 'trap "" TERM; echo ready; while :; do sleep 0.05; done'],
      {cwd: sb.project, env: sb.env(), stdio: ['ignore', 'pipe', 'pipe']},
    )
    const {closed} = await untilReady(child)
    const t0 = Date.now()
    child.kill('SIGTERM')
    await sleep(200)
    child.kill('SIGTERM')
    assert.equal(await closed, 137)
    assert.ok(Date.now() - t0 < 5000, 'waited for the kill timeout instead')
  })

  it('on a terminal, the child sees a terminal with masking on, and input reaches it', async (t) => {
    if (skipWithoutPty(t)) return
    const {code, output} = await onTerminal(
      process.execPath,
      [
        BIN,
        'exec',
        '--',
        'sh',
        '-c',
        'test -t 0 && test -t 1 && test -t 2 && echo tty-yes; printenv DB_PASSWORD; printf "name? "; read n; echo "hello $n"; exit 3',
      ],
      [['name? ', 'alice\r']],
      {cwd: sb.project, env: sb.env({TERM: 'xterm'})},
    )
    assert.equal(code, 3, output)
    // The outer terminal adds its own \r before each \n (node's raw mode keeps ONLCR): the same on screen.
    assert.ok(
      output.replaceAll('\r', '').includes('tty-yes\n<secret:DB_PASSWORD>\nname? alice\nhello alice\n'),
      JSON.stringify(output),
    )
    assert.ok(!output.includes('pw-from-store'))
  })

  it('loads no provider SDK (nor a provider module) when only local references are used', async () => {
    writeFileSync(
      join(sb.project, 'secrets.yaml'),
      `${BASE_CONFIG}  vault: {type: vault}\n  aws: {type: aws, region: eu-west-1}\n  azure: {type: azure, vaultUrl: https://x.vault.azure.net}\n`,
    )
    const trace = join(sb.root, 'imports.txt')
    try {
      const r = spawnSync(
        process.execPath,
        ['--import', join(ROOT, 'test', 'helpers', 'trace-imports.mjs'), BIN, 'exec', '--', 'true'],
        {
          cwd: sb.project,
          env: sb.env({TRACE_IMPORTS_FILE: trace}),
          encoding: 'utf8',
        },
      )
      assert.equal(r.status, 0, r.stderr)
      const loaded = readFileSync(trace, 'utf8').split('\n')
      // The trace works: it saw the command and the local provider being loaded.
      assert.ok(
        loaded.some((l) => l.endsWith('/dist/commands/exec.js')),
        'exec.js not traced',
      )
      assert.ok(
        loaded.some((l) => l.endsWith('/dist/providers/local/index.js')),
        'the local provider not traced',
      )
      const sdk = loaded.filter((l) =>
        /node_modules\/(node-vault|@aws-sdk|@smithy|@azure|@lydell)\/|\/dist\/providers\/(vault|aws|azure)\//.test(l),
      )
      assert.deepEqual(sdk, [])
    } finally {
      writeFileSync(join(sb.project, 'secrets.yaml'), BASE_CONFIG)
    }
  })

  it('a child that stops reading its output pipe does not hang secrets', async () => {
    const r = spawnSync(
      'sh',
      ['-c', `"${process.execPath}" "${BIN}" exec -- sh -c 'yes line | head -c 2000000' | head -c 10`],
      {cwd: sb.project, env: sb.env(), encoding: 'utf8', timeout: 30_000},
    )
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout, 'line\nline\n')
  })
})

describe('exec files', () => {
  const sb = new Sandbox()
  const config = `${BASE_CONFIG}files:\n  TLS_CERT: local://CERT\n  SA_JSON: {ref: local://SA, mode: "0400", name: sa.json}\n`
  before(async () => {
    await sb.init()
    assert.equal((await sb.run(['set', 'CERT'], {input: 'cert-bytes-1234'})).code, 0)
    assert.equal((await sb.run(['set', 'SA'], {input: '{"key": "sa-secret-5678"}'})).code, 0)
    writeFileSync(join(sb.project, 'secrets.yaml'), config)
  })
  after(() => sb.cleanup())

  it('writes each file into a private directory that is gone after a normal exit', async () => {
    const info = join(sb.root, 'files-info')
    const r = await sb.run([
      'exec',
      '--',
      'sh',
      '-c',
      `echo "$TLS_CERT" > ${info}; echo "$SA_JSON" >> ${info}; stat -c %a "$(dirname "$TLS_CERT")" "$TLS_CERT" "$SA_JSON" >> ${info}; cat "$TLS_CERT" "$SA_JSON" >> ${info}; cat "$TLS_CERT"`,
    ])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, '<secret:TLS_CERT>')
    const [certPath, saPath, ...rest] = readFileSync(info, 'utf8').split('\n')
    const dir = certPath.slice(0, certPath.lastIndexOf('/'))
    assert.match(dir, existsSync('/dev/shm') ? /^\/dev\/shm\/secrets-exec-/ : /secrets-exec-/)
    assert.equal(saPath, `${dir}/sa.json`)
    assert.deepEqual(rest, ['700', '600', '400', 'cert-bytes-1234{"key": "sa-secret-5678"}'])
    assert.equal(existsSync(dir), false)
    // The secrets behind files are not also passed as values.
    const env = await sb.run(['exec', '--no-redact', '--', 'sh', '-c', 'printf "[%s][%s]" "$CERT" "$SA"'])
    assert.equal(env.stdout, '[][]')
  })

  it('removes the directory after SIGTERM and after the child is SIGKILLed', {timeout: 60_000}, async () => {
    const info = join(sb.root, 'files-dir')
    const child = spawn(
      process.execPath,
      [BIN, 'exec', '--', 'sh', '-c', `dirname "$TLS_CERT" > ${info}; echo ready; while :; do sleep 0.05; done`],
      {cwd: sb.project, env: sb.env(), stdio: ['ignore', 'pipe', 'pipe']},
    )
    const {closed} = await untilReady(child)
    const dir = readFileSync(info, 'utf8').trim()
    assert.equal(existsSync(join(dir, 'TLS_CERT')), true)
    child.kill('SIGTERM')
    assert.equal(await closed, 143)
    assert.equal(existsSync(dir), false)

    const r = await sb.run(['exec', '--', 'sh', '-c', `dirname "$TLS_CERT" > ${info}; kill -KILL $$`])
    assert.equal(r.code, 137)
    const dir2 = readFileSync(info, 'utf8').trim()
    assert.notEqual(dir2, dir)
    assert.equal(existsSync(dir2), false)
  })

  it('rejects a mode that lets others read, naming the line', async () => {
    writeFileSync(
      join(sb.project, 'secrets.yaml'),
      `${BASE_CONFIG}files:\n  TLS_CERT: {ref: local://CERT, mode: "0644"}\n`,
    )
    try {
      const r = await sb.run(['exec', '--', 'true'])
      assert.equal(r.code, 3)
      assert.equal(
        r.stderr,
        `Error [CONFIG_INVALID]: ${join(sb.project, 'secrets.yaml')}:4: \`files.TLS_CERT.mode\` 0644 lets group or others read the secret; use owner-only bits such as "0400" or "0600".\n` +
          `  → Edit ${join(sb.project, 'secrets.yaml')} at line 4; the README documents every field.\n`,
      )
    } finally {
      writeFileSync(join(sb.project, 'secrets.yaml'), config)
    }
  })
})

describe('exec --watch', () => {
  const sb = new Sandbox()
  before(async () => {
    await sb.init()
    assert.equal((await sb.run(['set', 'DB_PASSWORD'], {input: 'first-value'})).code, 0)
  })
  after(() => sb.cleanup())

  it('restarts once after one change, and never without a change', {timeout: 90_000}, async () => {
    const log = join(sb.root, 'starts.log')
    const child = spawn(
      process.execPath,
      [
        BIN,
        'exec',
        '--watch',
        '--interval',
        '1s',
        '--',
        'sh',
        '-c',
        `echo "$DB_PASSWORD" >> ${log}; echo ready; while :; do sleep 0.05; done`,
      ],
      {cwd: sb.project, env: sb.env(), stdio: ['ignore', 'pipe', 'pipe']},
    )
    const {closed, errors} = await untilReady(child)
    const starts = () => (existsSync(log) ? readFileSync(log, 'utf8') : '')
    await sleep(3500)
    assert.equal(starts(), 'first-value\n', 'restarted without a change')
    assert.equal((await sb.run(['set', 'DB_PASSWORD'], {input: 'second-value'})).code, 0)
    await until(() => starts().split('\n').length > 2, 'the restart')
    await sleep(3500)
    assert.equal(starts(), 'first-value\nsecond-value\n')
    assert.equal(errors(), 'secrets: DB_PASSWORD changed: restarting the command.\n')
    child.kill('SIGTERM')
    assert.equal(await closed, 143)
  })

  it(
    'with --reload-signal, rewrites changed files and signals the child instead of restarting it',
    {timeout: 90_000},
    async () => {
      assert.equal((await sb.run(['set', 'CERT'], {input: 'cert-one'})).code, 0)
      writeFileSync(join(sb.project, 'secrets.yaml'), `${BASE_CONFIG}files:\n  TLS_CERT: local://CERT\n`)
      const log = join(sb.root, 'reload.log')
      let spawned: ReturnType<typeof spawn> | undefined
      try {
        const child = spawn(
          process.execPath,
          [
            BIN,
            'exec',
            '--watch',
            '--interval',
            '1s',
            '--reload-signal',
            'HUP',
            '--',
            'sh',
            '-c',
            `echo "start $(cat "$TLS_CERT")" >> ${log}; trap 'echo "hup $(cat "$TLS_CERT")" >> ${log}' HUP; echo ready; while :; do sleep 0.05; done`,
          ],
          {cwd: sb.project, env: sb.env(), stdio: ['ignore', 'pipe', 'pipe']},
        )
        spawned = child
        const {closed, errors} = await untilReady(child)
        const text = () => (existsSync(log) ? readFileSync(log, 'utf8') : '')
        assert.equal((await sb.run(['set', 'CERT'], {input: 'cert-two'})).code, 0)
        await until(() => text().includes('hup'), 'the reload signal')
        await sleep(2500)
        assert.equal(text(), 'start cert-one\nhup cert-two\n')
        assert.equal(errors(), 'secrets: TLS_CERT changed: rewrote the file(s) and sent SIGHUP to the command.\n')
        child.kill('SIGTERM')
        assert.equal(await closed, 143)
      } finally {
        // A failed assertion must not leave `secrets exec --watch` (and its child) running.
        if (spawned?.exitCode === null) spawned.kill('SIGTERM')
        writeFileSync(join(sb.project, 'secrets.yaml'), BASE_CONFIG)
      }
    },
  )

  it('rejects a bad interval before anything runs', async () => {
    const r = await sb.run(['exec', '--watch', '--interval', 'soon', '--', 'true'])
    assert.equal(r.code, 2)
    assert.equal(
      r.stderr,
      'Error [USAGE]: --interval "soon" is not a duration.\n  → Write it as a number with a unit, e.g. --interval 30s, 5m or 1h.\n',
    )
    const noWatch = await sb.run(['exec', '--interval', '5s', '--', 'true'])
    assert.equal(noWatch.code, 2)
  })
})
