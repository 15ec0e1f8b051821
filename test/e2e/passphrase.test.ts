// Passphrases as a user meets them: strength-checked where one is set (init, key add), typed twice on a
// terminal, asked again when wrong, SECRETS_NEW_PASSPHRASE for the one being set, never in any output.
import assert from 'node:assert/strict'
import {existsSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import {stripVTControlCharacters} from 'node:util'
import {after, before, describe, it} from 'node:test'

import {ROOT, Sandbox} from '../helpers/cli.js'
import {cliOnTerminal, skipWithoutPty} from '../helpers/terminal.js'

const STRONG = 'plum orbit canyon whisk'
const OTHER_STRONG = 'velvet tractor sunset marble'
const WEAK = 'hunter22'
const WEAKER = 'password1'
const ALL = [STRONG, OTHER_STRONG, WEAK, WEAKER]
const ADVICE = 'Four or more uncommon words, or a long one from a password manager, is strong enough.'
const reason = (time: string, score: number) =>
  `guessable in ${time} offline (strength ${score} of 4; at least 4 is required): the store is meant to be committed, so anyone with a copy can keep guessing`

/** What a terminal showed, without its colour and cursor sequences and the \r it adds before each \n. */
const screen = (output: string) => stripVTControlCharacters(output).replaceAll('\r', '')

function assertNoPassphrase(...outputs: string[]): void {
  for (const text of outputs) for (const p of ALL) assert.ok(!text.includes(p), `a passphrase was printed: ${text}`)
}

/** The store's recipient types and labels. */
function recipients(file: string): string[] {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as {recipients: Array<{type: string; label?: string}>}
  return doc.recipients.map((r) => `${r.type}${r.label ? `:${r.label}` : ''}`)
}

describe('init --passphrase without a terminal', () => {
  const sb = new Sandbox()
  after(() => sb.cleanup())

  it('a weak SECRETS_NEW_PASSPHRASE is USAGE (exit 2) with the reason, and nothing is created', async () => {
    const r = await sb.run(['init', '--yes', '--passphrase'], {env: {SECRETS_NEW_PASSPHRASE: WEAK}})
    assert.equal(r.code, 2, r.stderr)
    assert.equal(
      r.stderr,
      `Error [USAGE]: SECRETS_NEW_PASSPHRASE is too weak: ${reason('2 seconds', 1)}. Nothing was created.\n` +
        '  → This is similar to a commonly used password.\n' +
        '  → Add more words that are less common.\n' +
        `  → ${ADVICE}\n`,
    )
    assert.equal(r.stdout, '')
    assert.deepEqual(readdirSync(sb.project), [])
    assert.ok(!existsSync(sb.identityFile), 'the identity was created although init refused')
  })

  it('with --json, the same error as the documented object', async () => {
    const r = await sb.run(['init', '--yes', '--passphrase', '--json'], {env: {SECRETS_NEW_PASSPHRASE: WEAKER}})
    assert.equal(r.code, 2, r.stderr)
    assert.deepEqual(JSON.parse(r.stdout), {
      error: {
        code: 'USAGE',
        exitCode: 2,
        message: `SECRETS_NEW_PASSPHRASE is too weak: ${reason('less than a second', 0)}. Nothing was created.`,
        suggestions: ['This is a commonly used password.', 'Add more words that are less common.', ADVICE],
      },
    })
    assertNoPassphrase(r.stdout, r.stderr)
  })

  it('SECRETS_PASSPHRASE is never taken as the new passphrase: USAGE naming SECRETS_NEW_PASSPHRASE', async () => {
    const r = await sb.run(['init', '--yes', '--passphrase'], {env: {SECRETS_PASSPHRASE: STRONG}})
    assert.equal(r.code, 2, r.stderr)
    assert.equal(
      r.stderr,
      'Error [USAGE]: A new passphrase is needed: SECRETS_NEW_PASSPHRASE is not set, and there is no terminal to ask on (or CI is set). Nothing was created.\n' +
        '  → Set SECRETS_NEW_PASSPHRASE to the new passphrase, or run on a terminal to be asked.\n' +
        '  → SECRETS_PASSPHRASE is set, but it is only ever the passphrase that opens an existing store; a passphrase being set is read from SECRETS_NEW_PASSPHRASE.\n',
    )
    assert.deepEqual(readdirSync(sb.project), [])
  })

  it('a strong SECRETS_NEW_PASSPHRASE is taken, and SECRETS_PASSPHRASE alone then opens the store', async () => {
    const r = await sb.run(['init', '--yes', '--passphrase'], {env: {SECRETS_NEW_PASSPHRASE: STRONG}})
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(recipients(sb.storeFile), ['age', 'scrypt:passphrase'])
    const set = await sb.run(['set', 'TOKEN'], {input: 'token-value-1'})
    assert.equal(set.code, 0, set.stderr)
    const noIdentity = {XDG_CONFIG_HOME: join(sb.root, 'nowhere')}
    const get = await sb.run(['get', 'TOKEN'], {env: {...noIdentity, SECRETS_PASSPHRASE: STRONG}})
    assert.equal(get.stdout, 'token-value-1', get.stderr)
    // SECRETS_NEW_PASSPHRASE opens nothing: it is only ever a passphrase being set.
    const mixed = await sb.run(['get', 'TOKEN'], {env: {...noIdentity, SECRETS_NEW_PASSPHRASE: STRONG}})
    assert.equal(mixed.code, 7, mixed.stderr)
    assertNoPassphrase(r.stdout, r.stderr, set.stderr, get.stderr, mixed.stderr)
  })

  it('on a store that exists, --passphrase says it was not used and how to add one', async () => {
    const before = readFileSync(sb.storeFile, 'utf8')
    const r = await sb.run(['init', '--yes', '--passphrase'], {env: {SECRETS_NEW_PASSPHRASE: OTHER_STRONG}})
    assert.equal(r.code, 0, r.stderr)
    assert.match(
      r.stderr,
      /^Warning: The store .secrets\/store\.json exists already, so --passphrase was not used: add a passphrase to it with `secrets key add --passphrase`\.$/m,
    )
    assert.equal(readFileSync(sb.storeFile, 'utf8'), before)
    assertNoPassphrase(r.stdout, r.stderr)
  })
})

describe('key add --passphrase without a terminal', () => {
  const sb = new Sandbox()
  before(() => sb.init())
  after(() => sb.cleanup())

  it('a weak SECRETS_NEW_PASSPHRASE is USAGE (exit 2) with the reason, the store unchanged', async () => {
    const store = readFileSync(sb.storeFile, 'utf8')
    const r = await sb.run(['key', 'add', '--passphrase', '--label', 'break-glass'], {
      env: {SECRETS_NEW_PASSPHRASE: WEAKER},
    })
    assert.equal(r.code, 2, r.stderr)
    assert.equal(
      r.stderr.split('\n')[0],
      `Error [USAGE]: SECRETS_NEW_PASSPHRASE is too weak: ${reason('less than a second', 0)}. Nothing was changed.`,
    )
    assert.equal(readFileSync(sb.storeFile, 'utf8'), store)
    assertNoPassphrase(r.stdout, r.stderr)
  })

  it('without SECRETS_NEW_PASSPHRASE and a terminal it is USAGE naming the variable', async () => {
    const r = await sb.run(['key', 'add', '--passphrase'], {env: {SECRETS_PASSPHRASE: STRONG}})
    assert.equal(r.code, 2, r.stderr)
    assert.equal(
      r.stderr.split('\n')[0],
      'Error [USAGE]: A new passphrase is needed: SECRETS_NEW_PASSPHRASE is not set, and there is no terminal to ask on (or CI is set). Nothing was changed.',
    )
  })

  it('a strong SECRETS_NEW_PASSPHRASE is added', async () => {
    const r = await sb.run(['key', 'add', '--passphrase', '--label', 'break-glass'], {
      env: {SECRETS_NEW_PASSPHRASE: STRONG},
    })
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(recipients(sb.storeFile), ['age', 'scrypt:break-glass'])
    assertNoPassphrase(r.stdout, r.stderr)
  })
})

describe('passphrases on a terminal', () => {
  const sb = new Sandbox()
  after(() => sb.cleanup())

  it('init: a weak one is refused with the reason and asked again; two that differ are asked again', async (t) => {
    if (skipWithoutPty(t)) return
    const r = await cliOnTerminal(
      sb,
      ['init', '--yes', '--passphrase'],
      [
        ['New store passphrase', `${WEAK}\r`],
        ['Type another (2 tries left).', ''],
        ['New store passphrase', `${STRONG}\r`],
        ['Repeat the passphrase', `${OTHER_STRONG}\r`],
        ['Type the new one again (1 try left).', ''],
        ['New store passphrase', `${STRONG}\r`],
        ['Repeat the passphrase', `${STRONG}\r`],
      ],
    )
    const out = screen(r.output)
    assert.equal(r.code, 0, out)
    assert.ok(
      out.includes(
        `Warning: That passphrase is too weak: ${reason('2 seconds', 1)}. This is similar to a commonly used password. Add more words that are less common. ${ADVICE} Type another (2 tries left).\n`,
      ),
      out,
    )
    assert.ok(out.includes('Warning: The two passphrases differ. Type the new one again (1 try left).\n'), out)
    assert.match(out, /created {2}store {5}.*store\.json \(2 recipients\)/)
    // The prompt echoes nothing, not even one mask character per key.
    assert.doesNotMatch(out, /\*{4,}/)
    assertNoPassphrase(r.output)
    assert.deepEqual(recipients(sb.storeFile), ['age', 'scrypt:passphrase'])
  })

  it('key add: the third weak one is USAGE (exit 2), the store unchanged', async (t) => {
    if (skipWithoutPty(t)) return
    const store = readFileSync(sb.storeFile, 'utf8')
    const r = await cliOnTerminal(
      sb,
      ['key', 'add', '--passphrase', '--label', 'second'],
      [
        ['New store passphrase', `${WEAKER}\r`],
        ['Type another (2 tries left).', ''],
        ['New store passphrase', `${WEAKER}\r`],
        ['Type another (1 try left).', ''],
        ['New store passphrase', `${WEAKER}\r`],
      ],
    )
    const out = screen(r.output)
    assert.equal(r.code, 2, out)
    assert.ok(
      out.includes(
        `Error [USAGE]: The passphrase typed is too weak: ${reason('less than a second', 0)}. Nothing was changed.\n`,
      ),
      out,
    )
    assert.equal(out.match(/Type another/g)?.length, 2, out)
    assert.equal(readFileSync(sb.storeFile, 'utf8'), store)
    assertNoPassphrase(r.output)
  })

  it('key add: a strong one typed twice is added', async (t) => {
    if (skipWithoutPty(t)) return
    const r = await cliOnTerminal(
      sb,
      ['key', 'add', '--passphrase', '--label', 'second'],
      [
        ['New store passphrase', `${OTHER_STRONG}\r`],
        ['Repeat the passphrase', `${OTHER_STRONG}\r`],
      ],
    )
    assert.equal(r.code, 0, screen(r.output))
    assert.deepEqual(recipients(sb.storeFile), ['age', 'scrypt:passphrase', 'scrypt:second'])
    assertNoPassphrase(r.output)
  })

  describe('opening the store with a typed passphrase', () => {
    const noIdentity = {XDG_CONFIG_HOME: join(sb.root, 'nowhere')}
    before(async () => {
      const set = await sb.run(['set', 'TOKEN'], {input: 'token-value-2'})
      assert.equal(set.code, 0, set.stderr)
    })

    it('a wrong one is asked again, and a right one on the second try opens it', async (t) => {
      if (skipWithoutPty(t)) return
      const prompt = `Passphrase for ${sb.storeFile}`
      const r = await cliOnTerminal(
        sb,
        ['get', 'TOKEN'],
        [
          [prompt, 'wrong\r'],
          ['Try again (2 tries left).', ''],
          [prompt, `${STRONG}\r`],
        ],
        noIdentity,
      )
      const out = screen(r.output)
      assert.equal(r.code, 0, out)
      assert.ok(
        out.includes(`Warning: That passphrase does not open ${sb.storeFile}. Try again (2 tries left).\n`),
        out,
      )
      assert.match(out, /token-value-2\s*$/)
      assertNoPassphrase(r.output)
    })

    it('with --json, which quiets warnings, the reason is still shown before it asks again', async (t) => {
      if (skipWithoutPty(t)) return
      const prompt = `Passphrase for ${sb.storeFile}`
      const r = await cliOnTerminal(
        sb,
        ['get', 'TOKEN', '--json'],
        [
          [prompt, 'wrong\r'],
          ['Try again (2 tries left).', ''],
          [prompt, `${STRONG}\r`],
        ],
        noIdentity,
      )
      const out = screen(r.output)
      assert.equal(r.code, 0, out)
      assert.ok(
        out.includes(`Warning: That passphrase does not open ${sb.storeFile}. Try again (2 tries left).\n`),
        out,
      )
      assert.match(out, /"token-value-2"/)
      assertNoPassphrase(r.output)
    })

    it('wrong three times: DECRYPT_FAILED (exit 7) after the third', async (t) => {
      if (skipWithoutPty(t)) return
      const prompt = `Passphrase for ${sb.storeFile}`
      const r = await cliOnTerminal(
        sb,
        ['get', 'TOKEN'],
        [
          [prompt, 'wrong\r'],
          ['Try again (2 tries left).', ''],
          [prompt, 'wrong again\r'],
          ['Try again (1 try left).', ''],
          [prompt, 'still wrong\r'],
        ],
        noIdentity,
      )
      const out = screen(r.output)
      assert.equal(r.code, 7, out)
      assert.ok(out.includes('(1 try left).\n'), out)
      assert.ok(
        out.includes(`Error [DECRYPT_FAILED]: The passphrase does not open the store ${sb.storeFile} (3 tries).\n`),
        out,
      )
      assert.ok(!out.includes('token-value-2'))
      assertNoPassphrase(r.output)
      for (const typed of ['wrong again', 'still wrong']) assert.ok(!out.includes(typed), out)
    })
  })
})

describe('the strength estimator loads only where a passphrase is set', () => {
  const sb = new Sandbox()
  before(() => sb.init())
  after(() => sb.cleanup())

  /** The modules a command loaded, from the trace hook (test/helpers/trace-imports.mjs). */
  async function traced(args: string[], env: Record<string, string> = {}, input = ''): Promise<string[]> {
    const file = join(sb.root, `trace-${args[0]}.txt`)
    rmSync(file, {force: true})
    const r = await sb.run(args, {
      input,
      node: ['--import', join(ROOT, 'test', 'helpers', 'trace-imports.mjs')],
      env: {TRACE_IMPORTS_FILE: file, ...env},
    })
    assert.equal(r.code, 0, r.stderr)
    return readFileSync(file, 'utf8').split('\n')
  }
  const zxcvbn = (lines: string[]) => lines.filter((l) => l.includes('/node_modules/@zxcvbn-ts/'))

  it('exec, get and set never load it; key add --passphrase does (so the trace can see it)', async () => {
    assert.deepEqual(zxcvbn(await traced(['set', 'X'], {}, 'x-value')), [])
    assert.deepEqual(zxcvbn(await traced(['get', 'X'])), [])
    assert.deepEqual(zxcvbn(await traced(['exec', '--', 'true'])), [])
    const added = zxcvbn(await traced(['key', 'add', '--passphrase'], {SECRETS_NEW_PASSPHRASE: STRONG}))
    for (const pkg of ['core', 'language-common', 'language-en'])
      assert.ok(
        added.some((l) => l.includes(`/@zxcvbn-ts/${pkg}/`)),
        `@zxcvbn-ts/${pkg} not traced`,
      )
  })
})
