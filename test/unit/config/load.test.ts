import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it} from 'node:test'

import {findConfigFile, loadConfig, parseConfig, parseConfigFull} from '../../../src/core/config/load.js'
import {SecretsError} from '../../../src/errors.js'

const FILE = '/p/secrets.yaml'

describe('secrets.yaml loading', () => {
  it('reads configs the same through js-yaml as through the yaml library, lines included', () => {
    const texts = [
      'providers:\n  local: {type: local, path: .secrets/store.json}\n',
      'version: 1\nproviders:\n  local:\n    type: local\n    inject: false\n  vault: {type: vault}\nenv:\n  A: local://A\n  B: "vault://secret/x#y?version=2"\n  C: &c local://C\n  D: *c\n',
      'providers:\n  local: {type: local}\nfiles:\n  CERT: {ref: local://C, mode: "0400"}\n  KEY: {ref: local://K, mode: 600}\nenvironments:\n  prod:\n    files:\n      CERT: local://C2\n',
      "# comment\nproviders: {local: {type: local}}\nenv: {X_1: 'local://X'}\n",
    ]
    for (const text of texts) {
      const fast = parseConfig(text, FILE)
      const full = parseConfigFull(text, FILE)
      assert.deepEqual(fast, full, text)
      assert.deepEqual(
        [...fast.env.values()].map((e) => e.line),
        [...full.env.values()].map((e) => e.line),
      )
    }
  })

  it('is found by walking up, and --config / SECRETS_CONFIG override that', () => {
    const root = mkdtempSync(join(tmpdir(), 'secrets-cfg-'))
    const deep = join(root, 'a', 'b', 'c')
    mkdirSync(deep, {recursive: true})
    writeFileSync(join(root, 'secrets.yaml'), 'providers:\n  local: {type: local}\n')
    writeFileSync(join(root, 'other.yaml'), 'providers:\n  team: {type: local}\n')
    assert.equal(findConfigFile(deep), join(root, 'secrets.yaml'))
    assert.deepEqual([...loadConfig({cwd: deep, env: {}}).providers.keys()], ['local'])
    assert.deepEqual(
      [...loadConfig({cwd: deep, env: {SECRETS_CONFIG: join(root, 'other.yaml')}}).providers.keys()],
      ['team'],
    )
    assert.deepEqual(
      [...loadConfig({cwd: deep, env: {SECRETS_CONFIG: 'nope.yaml'}, flag: join(root, 'other.yaml')}).providers.keys()],
      ['team'],
    )
    assert.throws(() => loadConfig({cwd: tmpdir(), env: {}, flag: join(root, 'missing.yaml')}), {
      code: 'CONFIG_NOT_FOUND',
    })
  })

  it('refuses an unknown tag, an alias bomb and invalid UTF-8, naming the line', () => {
    const invalid = (message: string) => (e: unknown) => {
      assert.ok(e instanceof SecretsError)
      assert.equal(e.code, 'CONFIG_INVALID')
      assert.equal(e.message, message)
      return true
    }
    const head = 'providers:\n  local: {type: local}\n'
    for (const parse of [parseConfig, parseConfigFull]) {
      assert.throws(
        () => parse(head + 'env: !custom {}\n', FILE),
        invalid(`${FILE}:3: invalid YAML: Unresolved tag: !custom`),
      )
      assert.throws(
        () => parse(head + 'env:\n  A: !!binary aGVsbG8=\n', FILE),
        invalid(`${FILE}:4: invalid YAML: Unresolved tag: tag:yaml.org,2002:binary`),
      )
    }
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]']
    for (const l of 'bcdefghi')
      levels.push(
        `${l}: &${l} [${Array(9)
          .fill(`*${levels.at(-1)![0]}`)
          .join(', ')}]`,
      )
    assert.throws(
      () => parseConfigFull(`${head}x:\n  ${levels.join('\n  ')}\n`, FILE),
      invalid(`${FILE}:5: invalid YAML: its aliases (*name) expand to too many nodes.`),
    )
    const dir = mkdtempSync(join(tmpdir(), 'secrets-load-'))
    writeFileSync(
      join(dir, 'secrets.yaml'),
      Buffer.concat([Buffer.from(head + '# caf'), Buffer.from([0xe9]), Buffer.from('\n')]),
    )
    assert.throws(
      () => loadConfig({cwd: dir, env: {}}),
      invalid(`${join(dir, 'secrets.yaml')}:3: invalid UTF-8: the file must be UTF-8 text.`),
    )
  })

  it('refuses a FIFO, /dev/zero and /proc/self/mem as --config at once', () => {
    for (const [flag, kind] of [
      ['/dev/zero', 'is a character device, not a regular file'],
      ['/proc/self/mem', 'cannot be read as a file (EIO)'],
    ]) {
      assert.throws(
        () => loadConfig({flag, cwd: '/', env: {}}),
        (e: unknown) =>
          e instanceof SecretsError && e.code === 'CONFIG_INVALID' && e.message === `The config file ${flag} ${kind}.`,
      )
    }
  })
})
