#!/usr/bin/env node
// `secrets key rotate --yes` on a local store of 1,000 secrets, as a user runs it (a spawned CLI), in
// three shapes, interleaved round by round so machine noise hits all alike:
//   - 1,000 secrets, one version each, one age recipient;
//   - 1,000 secrets, three versions each (3,000 values to re-encrypt);
//   - 1,000 secrets, one version each, an age recipient and a passphrase recipient at the default work
//     factor (scrypt 2^18, paid twice: to check the passphrase, then to wrap the new key).
// Baselines: `secrets get` of one secret from the same store (start-up plus opening the 1,000-secret
// store: the floor of any command on it), and `secrets set` of one secret, times 1,000: what
// re-encrypting every value by hand with `set` would cost (and it would not even replace the data key).
// The stores are built in-process through src/core (a thousand `set` spawns would take minutes).
// Usage: npm run build && node --import tsx bench/key-rotate.mjs [rounds]
import {spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {nonInteractive} from '../src/core/interaction.ts'
import {Keyring} from '../src/core/store/keyring.ts'
import {createStore, updateStore} from '../src/core/store/open-store.ts'
import {SecretValue} from '../src/core/secret-value.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const rounds = Number(process.argv[2] ?? 5)
const SECRETS = join(root, 'bin', 'run.js')
const PASSPHRASE = 'bench passphrase, long enough'
const tmp = mkdtempSync(join(tmpdir(), 'secrets-bench-rotate-'))
const home = join(tmp, 'home')
const env = {
  PATH: process.env.PATH,
  HOME: home,
  USER: 'bench',
  LANG: 'C.UTF-8',
  NO_COLOR: '1',
  SECRETS_PASSPHRASE: PASSPHRASE,
}

function run(args, cwd, input) {
  const t0 = process.hrtime.bigint()
  const r = spawnSync(process.execPath, [SECRETS, ...args], {cwd, env, input, encoding: 'utf8'})
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  if (r.status !== 0) throw new Error(`secrets ${args.join(' ')} exited ${r.status}: ${r.stderr}`)
  return {ms, stdout: r.stdout}
}

/** A project whose store holds `count` secrets with `versions` versions each. */
async function project(name, count, versions, withPassphrase) {
  const dir = join(tmp, name)
  mkdirSync(dir, {recursive: true})
  const file = join(dir, '.secrets', 'store.json')
  writeFileSync(join(dir, 'secrets.yaml'), 'providers:\n  local: {type: local, path: .secrets/store.json}\n')
  const key = readFileSync(join(home, '.config', 'secrets', 'identity.txt'), 'utf8')
  const recipient = /# public key: (age1\w+)/.exec(key)[1]
  await createStore(file, [
    {type: 'age', recipient},
    ...(withPassphrase ? [{type: 'scrypt', passphrase: PASSPHRASE, label: 'team'}] : []),
  ])
  await updateStore(
    file,
    new Keyring({SECRETS_IDENTITY: join(home, '.config', 'secrets', 'identity.txt')}, nonInteractive()),
    (s) => {
      for (let v = 0; v < versions; v++) {
        for (let i = 0; i < count; i++)
          s.write(`SECRET_${i}`, new SecretValue(randomBytes(24).toString('base64url')), 'bench@host')
      }
    },
  )
  return dir
}

try {
  mkdirSync(home, {recursive: true})
  run(['init', '--yes', '--no-passphrase'], tmp)
  const stores = {
    '1,000 secrets x 1 version': await project('one', 1000, 1, false),
    '1,000 secrets x 3 versions': await project('three', 1000, 3, false),
    '1,000 secrets x 1 version, + passphrase (scrypt 2^18)': await project('pass', 1000, 1, true),
  }
  // A fourth store of the same shape for the get/set baselines, so the rotated stores keep their shape.
  const one = await project('base', 1000, 1, false)
  const before = run(['get', 'SECRET_7'], one).stdout
  const times = {}
  const add = (k, ms) => (times[k] ??= []).push(ms)
  for (let r = 0; r < rounds; r++) {
    for (const [name, dir] of Object.entries(stores))
      add(`key rotate --yes: ${name}`, run(['key', 'rotate', '--yes'], dir).ms)
    add('get SECRET_7 (floor)', run(['get', 'SECRET_7'], one).ms)
    add('set SECRET_7 (one of the 1,000 a by-hand re-encryption needs)', run(['set', 'SECRET_7'], one, before).ms)
  }
  if (run(['get', 'SECRET_7'], one).stdout !== before) throw new Error('SECRET_7 changed')
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  const medians = Object.fromEntries(Object.entries(times).map(([k, xs]) => [k, Math.round(median(xs))]))
  const setMs = medians['set SECRET_7 (one of the 1,000 a by-hand re-encryption needs)']
  console.log(
    JSON.stringify(
      {
        rounds,
        node: process.version,
        median_ms: medians,
        set_x_1000_ms: setMs * 1000,
        set_x_1000_over_rotate: Number(
          ((setMs * 1000) / medians['key rotate --yes: 1,000 secrets x 1 version']).toFixed(1),
        ),
      },
      null,
      2,
    ),
  )
} finally {
  rmSync(tmp, {recursive: true, force: true})
}
