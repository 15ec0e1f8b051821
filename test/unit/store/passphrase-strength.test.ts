import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {nonInteractive} from '../../../src/core/interaction.js'
import {newPassphrase} from '../../../src/core/store/new-passphrase.js'
import {
  MIN_PASSPHRASE_SCORE,
  passphraseStrength,
  strengthAdvice,
  weakness,
} from '../../../src/core/store/passphrase-strength.js'
import {typingTerminal} from './helpers.js'

const STRONG = 'plum orbit canyon whisk'
const ADVICE = 'Four or more uncommon words, or a long one from a password manager, is strong enough.'
const reason = (time: string, score: number) =>
  `guessable in ${time} offline (strength ${score} of 4; at least 4 is required): the store is meant to be committed, so anyone with a copy can keep guessing`

describe('passphrase strength (zxcvbn-ts)', () => {
  it('refuses below score 4, with the offline slow-hash crack time and zxcvbn feedback', async () => {
    assert.equal(MIN_PASSPHRASE_SCORE, 4)
    const common = await passphraseStrength('password1')
    assert.deepEqual(common, {
      score: 0,
      crackTime: 'less than a second',
      warning: 'This is a commonly used password.',
      suggestions: ['Add more words that are less common.'],
    })
    assert.equal(weakness(common), reason('less than a second', 0))
    assert.deepEqual(strengthAdvice(common), [
      'This is a commonly used password.',
      'Add more words that are less common.',
      ADVICE,
    ])
    // Score 3 is one step short: hours offline, for a file anyone may copy.
    const three = await passphraseStrength('purple monkey')
    assert.equal(three.score, 3)
    assert.equal(weakness(three), reason('3 hours', 3))
    assert.equal(weakness(await passphraseStrength('')), reason('less than a second', 0))
  })

  it('accepts a passphrase of score 4', async () => {
    const strong = await passphraseStrength(STRONG)
    assert.equal(strong.score, 4)
    assert.equal(strong.crackTime, 'centuries')
    assert.equal(weakness(strong), undefined)
  })

  it('scores lower a passphrase built on the user inputs (project, label)', async () => {
    assert.equal((await passphraseStrength('acmewidgets2024')).score, 4)
    const leaning = await passphraseStrength('acmewidgets2024', ['acmewidgets'])
    assert.equal(leaning.score, 1)
    assert.equal(leaning.warning, 'It leans on the name of this tool, the project or the recipient label.')
  })

  it('never repeats the passphrase in its verdict', async () => {
    for (const p of ['password1', 'Summer2024!', 'hunter22', STRONG]) {
      const s = await passphraseStrength(p)
      const text = [weakness(s) ?? '', ...strengthAdvice(s), JSON.stringify(s)].join('\n')
      assert.ok(!text.includes(p), p)
    }
  })
})

describe('newPassphrase: where a passphrase being set comes from', () => {
  const unchanged = 'Nothing was changed.'

  it('takes SECRETS_NEW_PASSPHRASE when strong, without asking', async () => {
    const ui = typingTerminal([])
    assert.equal(await newPassphrase({env: {SECRETS_NEW_PASSPHRASE: STRONG}, ui, unchanged}), STRONG)
    assert.deepEqual(ui.prompts, [])
  })

  it('refuses a weak SECRETS_NEW_PASSPHRASE with USAGE (exit 2) and the reason, even on a terminal', async () => {
    const ui = typingTerminal([])
    await assert.rejects(newPassphrase({env: {SECRETS_NEW_PASSPHRASE: 'hunter22'}, ui, unchanged}), {
      code: 'USAGE',
      exitCode: 2,
      message: `SECRETS_NEW_PASSPHRASE is too weak: ${reason('2 seconds', 1)}. Nothing was changed.`,
      suggestions: ['This is similar to a commonly used password.', 'Add more words that are less common.', ADVICE],
    })
    assert.deepEqual(ui.prompts, [])
  })

  it('never reads SECRETS_PASSPHRASE as the new one, and says so without a terminal', async () => {
    await assert.rejects(
      newPassphrase({env: {SECRETS_PASSPHRASE: STRONG}, ui: nonInteractive(), unchanged: 'Nothing was created.'}),
      {
        code: 'USAGE',
        message:
          'A new passphrase is needed: SECRETS_NEW_PASSPHRASE is not set, and there is no terminal to ask on (or CI is set). Nothing was created.',
        suggestions: [
          'Set SECRETS_NEW_PASSPHRASE to the new passphrase, or run on a terminal to be asked.',
          'SECRETS_PASSPHRASE is set, but it is only ever the passphrase that opens an existing store; a passphrase being set is read from SECRETS_NEW_PASSPHRASE.',
        ],
      },
    )
  })

  it('on a terminal: typed twice; a weak one or two that differ are asked again', async () => {
    const ui = typingTerminal(['hunter22', STRONG, 'plum orbit canyon', STRONG, STRONG])
    assert.equal(await newPassphrase({env: {}, ui, unchanged}), STRONG)
    assert.deepEqual(ui.prompts, [
      'New store passphrase',
      'New store passphrase',
      'Repeat the passphrase',
      'New store passphrase',
      'Repeat the passphrase',
    ])
    assert.deepEqual(ui.warnings, [
      `That passphrase is too weak: ${reason('2 seconds', 1)}. This is similar to a commonly used password. Add more words that are less common. ${ADVICE} Type another (2 tries left).`,
      'The two passphrases differ. Type the new one again (1 try left).',
    ])
  })

  it('on a terminal: the third weak one is USAGE with the reason', async () => {
    const ui = typingTerminal(['password1', 'password1', 'password1'])
    await assert.rejects(newPassphrase({env: {}, ui, unchanged}), {
      code: 'USAGE',
      message: `The passphrase typed is too weak: ${reason('less than a second', 0)}. Nothing was changed.`,
    })
    assert.equal(ui.prompts.length, 3)
  })

  it('on a terminal: three mismatches are USAGE', async () => {
    const ui = typingTerminal([STRONG, 'x', STRONG, 'y', STRONG, 'z'])
    await assert.rejects(newPassphrase({env: {}, ui, unchanged}), {
      code: 'USAGE',
      message: 'The two passphrases differ, 3 times running. Nothing was changed.',
      suggestions: ['Run the command again and type the same passphrase twice.'],
    })
    assert.equal(ui.prompts.length, 6)
  })
})
