// Signals reach the child exactly once, whoever sent them (our pid, or our whole process group as a
// terminal or `kill -TERM -PGID` does), in pipe mode and on a pseudo-terminal; every catchable
// terminating signal is handled like SIGTERM; the child's output pipes are real pipes (EPIPE/SIGPIPE).
import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {BIN, Sandbox} from '../helpers/cli.js'
import {onTerminal, skipWithoutPty} from '../helpers/terminal.js'

const CONFIG = 'providers:\n  local: {type: local, path: .secrets/store.json}\nfiles:\n  TLS_CERT: local://CERT\n'

/**
 * The test child: counts the signals named in argv, sends each `to:SIG` action (to = `group`: secrets'
 * process group, `parent`: secrets' pid) 300 ms apart, then after 2 s prints the counts and exits 0.
 */
const COUNTER = `
const counts = {}
const actions = process.argv.slice(2).map((a) => a.split(':'))
for (const [, sig] of actions) {
  counts[sig] = 0
  process.on(sig, () => counts[sig]++)
}
if (process.env.TLS_CERT) require('fs').writeFileSync(process.env.INFO, require('path').dirname(process.env.TLS_CERT))
let i = 0
const next = () => {
  if (i === actions.length) return setTimeout(() => { console.log('counts ' + JSON.stringify(counts)); process.exit(0) }, 2000)
  const [to, sig] = actions[i++]
  process.kill(to === 'group' ? -process.ppid : process.ppid, sig)
  setTimeout(next, 300)
}
setTimeout(next, 300)
`

describe('exec signals', () => {
  const sb = new Sandbox()
  const counter = join(sb.root, 'counter.cjs')
  const info = join(sb.root, 'files-dir')
  before(async () => {
    await sb.init()
    writeFileSync(counter, COUNTER)
    writeFileSync(join(sb.project, 'secrets.yaml'), CONFIG)
    assert.equal((await sb.run(['set', 'CERT'], {input: 'cert-bytes-1234'})).code, 0)
  })
  after(() => sb.cleanup())

  /** secrets exec in pipe mode, leading its own process group (as a shell job does). */
  function pipeRun(actions: string[], infoFile = info): Promise<{code: number | null; out: string; err: string}> {
    const child = spawn(
      process.execPath,
      [BIN, 'exec', '--kill-timeout', '30', '--', process.execPath, counter, ...actions],
      {cwd: sb.project, env: sb.env({INFO: infoFile}), stdio: ['ignore', 'pipe', 'pipe'], detached: true},
    )
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    return new Promise((resolve) => child.on('close', (code) => resolve({code, out, err})))
  }

  it(
    'pipe mode: a signal to the process group reaches the child once (TERM, INT, HUP)',
    {timeout: 90_000},
    async () => {
      const r = await pipeRun(['group:SIGTERM', 'group:SIGINT', 'group:SIGHUP', 'parent:SIGUSR1'])
      assert.equal(r.code, 0, r.err)
      assert.equal(r.out, 'counts {"SIGTERM":1,"SIGINT":1,"SIGHUP":1,"SIGUSR1":1}\n')
    },
  )

  it(
    'pipe mode: SIGALRM, SIGXCPU, SIGVTALRM, SIGPROF are each handled like SIGTERM: forwarded once, files removed',
    {timeout: 90_000},
    async () => {
      const runs = await Promise.all(
        ['parent:SIGALRM', 'group:SIGXCPU', 'parent:SIGVTALRM', 'parent:SIGPROF'].map((action, i) =>
          pipeRun([action], `${info}-${i}`),
        ),
      )
      for (const [i, r] of runs.entries()) {
        const sig = ['SIGALRM', 'SIGXCPU', 'SIGVTALRM', 'SIGPROF'][i]
        assert.equal(r.code, 0, r.err)
        assert.equal(r.out, `counts {"${sig}":1}\n`)
        const dir = readFileSync(`${info}-${i}`, 'utf8')
        assert.match(dir, /secrets-exec-/)
        assert.equal(existsSync(dir), false)
      }
    },
  )

  it('on a terminal: a signal to secrets or its group reaches the child once', {timeout: 90_000}, async (t) => {
    if (skipWithoutPty(t)) return
    const {code, output} = await onTerminal(
      process.execPath,
      [
        BIN,
        'exec',
        '--',
        process.execPath,
        counter,
        'parent:SIGINT',
        'group:SIGTERM',
        'group:SIGHUP',
        'parent:SIGUSR2',
      ],
      [],
      {cwd: sb.project, env: sb.env({TERM: 'xterm', INFO: info})},
    )
    assert.equal(code, 0, output)
    assert.ok(output.includes('counts {"SIGINT":1,"SIGTERM":1,"SIGHUP":1,"SIGUSR2":1}'), JSON.stringify(output))
    assert.equal(existsSync(readFileSync(info, 'utf8')), false)
  })

  it('`exec -- yes | head` ends the child with SIGPIPE, not ECONNRESET', {timeout: 60_000}, () => {
    const r = spawnSync(
      'sh',
      ['-c', `"${process.execPath}" "${BIN}" exec -- sh -c 'yes; echo "yes-status=$?" >&2' | head -n 2`],
      {cwd: sb.project, env: sb.env(), encoding: 'utf8', timeout: 30_000},
    )
    assert.equal(r.stdout, 'y\ny\n')
    assert.equal(r.stderr, 'yes-status=141\n')
    assert.equal(r.status, 0)
  })

  it('an environment value over the OS limit is USAGE naming the variable, suggesting files:', async () => {
    assert.equal((await sb.run(['set', 'HUGE_BLOB'], {input: 'x'.repeat(200_000)})).code, 0)
    try {
      const r = await sb.run(['exec', '--', 'true'])
      assert.equal(r.code, 2, r.stderr)
      assert.match(r.stderr, /HUGE_BLOB \(200011 bytes\) is over the operating system's limit/)
      assert.match(r.stderr, /files:/)
      assert.ok(!r.stderr.includes('xxxxxxxx'))
    } finally {
      await sb.run(['delete', 'HUGE_BLOB', '--yes'])
    }
  })
})
