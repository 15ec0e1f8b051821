import assert from 'node:assert/strict'
import {existsSync, mkdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {ROOT, Sandbox} from './helpers/cli.js'
import {envBlocks, expressions, readAction, runAction} from './helpers/composite.js'

// Canaries: none of them may appear anywhere but in $GITHUB_ENV, a mask line, or the command's own file.
const API_KEY = 'canary-api-key-$HOME-`id`-7Qx9Lm2V'
const CERT = '-----BEGIN KEY-----\ncanary-cert-line-2\n-----END KEY-----'
const STAGING_DB = 'canary-staging-db-Rt8Zw4Vp'
const VALUES = [API_KEY, 'canary-cert-line-2', STAGING_DB]

const CONFIG = `providers:
  local: {type: local, path: .secrets/store.json}
env: {}
environments:
  staging:
    env:
      DATABASE_URL: local://STAGING_DB
  broken:
    env:
      MISSING_TOKEN: local://NOT_THERE
`

const MASKS = [
  `::add-mask::${API_KEY}`,
  '::add-mask::-----BEGIN KEY-----',
  '::add-mask::canary-cert-line-2',
  '::add-mask::-----END KEY-----',
  `::add-mask::${STAGING_DB}`,
]

function assertNoValue(text: string, label: string): void {
  for (const v of VALUES) assert.ok(!text.includes(v), `${label} shows a secret value`)
}

describe('action.yml', () => {
  const action = readAction()
  const steps = action.runs.steps

  it('is a composite action whose every step is a bash script with a name', () => {
    assert.equal(action.runs.using, 'composite')
    assert.ok(steps.length >= 2)
    // The Marketplace shows at most 125 characters of the description.
    assert.ok(action.description.length <= 125, `description has ${action.description.length} characters`)
    for (const step of steps) {
      assert.equal(step.shell, 'bash', step.name)
      assert.equal(typeof step.run, 'string', step.name)
      assert.equal(step.uses, undefined, step.name)
      assert.ok(step.name, 'every step is named in the log')
    }
  })

  it('no `${{ }}` expression inside a run: script; inputs reach the scripts through env:', () => {
    for (const step of steps) assert.deepEqual(expressions(step.run!), [], `${step.name}: ${step.run}`)
    // The scripts themselves hold no expression either (the runner would not expand it, but a copy into
    // a run: block would).
    for (const file of ['install.sh', 'run.sh'])
      assert.doesNotMatch(readFileSync(join(ROOT, 'action', file), 'utf8'), /\$\{\{/, file)
  })

  it('every expression names a declared input or an earlier step, and every input is used', () => {
    const declared = Object.keys(action.inputs)
    const used = new Set<string>()
    const ids: string[] = []
    for (const step of steps) {
      const texts = [...Object.values(step.env ?? {}), step['working-directory'] ?? '']
      for (const expr of texts.flatMap((t) => expressions(String(t)))) {
        const input = /^inputs\.([\w-]+)$/.exec(expr)
        const output = /^steps\.([\w-]+)\.outputs\.[\w-]+$/.exec(expr)
        assert.ok(input || output, `${step.name}: unexpected expression ${expr}`)
        if (input) {
          assert.ok(declared.includes(input[1]), `${step.name}: input ${input[1]} is not declared`)
          used.add(input[1])
        } else assert.ok(ids.includes(output![1]), `${step.name}: no earlier step ${output![1]}`)
      }
      if (step.id) ids.push(step.id)
    }
    assert.deepEqual([...used].sort(), [...declared].sort())
    assert.deepEqual(declared.sort(), ['config', 'env', 'only', 'run', 'version', 'working-directory'])
    for (const [name, input] of Object.entries(action.inputs)) assert.ok(input.description, `${name} has a description`)
  })

  it("installs this package's own version by default, and checks for the Node version package.json needs", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
    assert.equal(action.inputs.version.default, pkg.version)
    const install = readFileSync(join(ROOT, 'action', 'install.sh'), 'utf8')
    assert.equal(`>=${/^MIN_NODE=(.+)$/m.exec(install)?.[1]}`, pkg.engines.node)
    assert.match(install, /^PACKAGE=secrets-cli$/m)
    assert.equal(pkg.name, 'secrets-cli')
    for (const file of ['install.sh', 'run.sh'])
      assert.equal(statSync(join(ROOT, 'action', file)).mode & 0o111, 0o111, `${file} is executable`)
  })
})

describe('the action, run locally', () => {
  let sb: Sandbox
  before(async () => {
    sb = new Sandbox()
    await sb.init()
    for (const [name, value] of [
      ['API_KEY', API_KEY],
      ['CERT_PEM', CERT],
      ['STAGING_DB', STAGING_DB],
    ])
      assert.equal((await sb.run(['set', name], {input: value})).code, 0)
    writeFileSync(join(sb.project, 'secrets.yaml'), CONFIG)
    mkdirSync(join(sb.project, 'services', 'api'), {recursive: true})
  })
  after(() => sb.cleanup())

  it('installs secrets-cli at the version into RUNNER_TEMP and puts its bin on GITHUB_PATH', () => {
    const r = runAction(sb, {only: 'API_KEY'})
    assert.equal(r.code, 0, JSON.stringify(r.steps))
    const prefix = join(r.dir, 'temp', 'secrets-cli')
    assert.deepEqual(r.npmArgs, [
      'install',
      '--prefix',
      prefix,
      '--no-save',
      '--no-package-lock',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      'secrets-cli@0.1.0',
    ])
    assert.deepEqual(r.githubPath, [join(prefix, 'node_modules', '.bin')])
    assert.match(r.steps[0].stdout, /^Installing secrets-cli@0\.1\.0 into .*\nInstalled secrets-cli\/0\.1\.0 /)
    // A second use in the same job finds that version installed; another version is installed over it.
    const again = runAction(sb, {only: 'API_KEY'}, {runner: r.dir})
    assert.equal(again.code, 0, JSON.stringify(again.steps))
    assert.equal(again.npmArgs, undefined, 'npm was not called again')
    assert.equal(again.steps[0].stdout, `secrets-cli@0.1.0 is already installed in ${prefix}\n`)
    assert.deepEqual(envBlocks(again.githubEnv), [
      ['API_KEY', API_KEY],
      ['API_KEY', API_KEY],
    ])
    const pinned = runAction(sb, {version: '1.2.3-rc.1', only: 'API_KEY'}, {runner: r.dir})
    assert.equal(pinned.code, 0)
    assert.equal(pinned.npmArgs?.at(-1), 'secrets-cli@1.2.3-rc.1')
  })

  it('export mode: ::add-mask:: for every line of every value on stdout, then the values in GITHUB_ENV', () => {
    const r = runAction(sb, {env: 'staging'})
    assert.equal(r.code, 0, JSON.stringify(r.steps))
    const resolve = r.steps[1]
    // Every local secret under its own name plus the environment's references, in name order.
    assert.equal(resolve.stdout, [...MASKS.slice(0, 4), MASKS[4], MASKS[4], ''].join('\n'))
    assert.equal(resolve.stderr, `✓ 4 variable(s) appended to ${join(r.dir, 'github_env')}\n`)
    assert.deepEqual(envBlocks(r.githubEnv), [
      ['API_KEY', API_KEY],
      ['CERT_PEM', CERT],
      ['DATABASE_URL', STAGING_DB],
      ['STAGING_DB', STAGING_DB],
    ])
    assertNoValue(resolve.stderr + r.steps[0].stdout + r.steps[0].stderr, 'the logs')
  })

  it('only, config and working-directory reach secrets as flags', () => {
    const r = runAction(sb, {
      only: 'API_KEY\n  CERT_PEM ',
      config: '../../secrets.yaml',
      'working-directory': 'services/api',
    })
    assert.equal(r.code, 0, JSON.stringify(r.steps))
    assert.equal(r.steps[1].stdout, [...MASKS.slice(0, 4), ''].join('\n'))
    assert.deepEqual(envBlocks(r.githubEnv), [
      ['API_KEY', API_KEY],
      ['CERT_PEM', CERT],
    ])
    const wrong = runAction(sb, {config: 'secrets.yaml', 'working-directory': 'services/api'})
    assert.equal(wrong.code, 3)
    assert.match(wrong.steps[1].stderr, /^Error \[CONFIG_NOT_FOUND\]: .*services\/api\/secrets\.yaml/)
  })

  it('run mode: the script runs under exec with the secrets, masked, and its exit status is the step status', () => {
    const out = join(sb.root, 'seen-by-the-command')
    const r = runAction(
      sb,
      {
        run: 'printf "%s\\n" "$API_KEY" "${INPUT_RUN:-no INPUT_RUN}" "$PWD"\nprintf %s "$API_KEY" > "$OUT_FILE"\nexit 7',
        only: 'API_KEY',
        'working-directory': 'services/api',
      },
      {jobEnv: {OUT_FILE: out}},
    )
    assert.equal(r.code, 7)
    assert.equal(r.steps[1].stdout, `<secret:API_KEY>\nno INPUT_RUN\n${join(sb.project, 'services', 'api')}\n`)
    assert.equal(r.steps[1].stderr, '')
    assert.equal(readFileSync(out, 'utf8'), API_KEY)
    assert.equal(r.githubEnv, '', 'run mode exports nothing into the job')
    const ok = runAction(sb, {run: 'test -n "$STAGING_DB"', env: 'staging'})
    assert.equal(ok.code, 0, JSON.stringify(ok.steps))
    // The script runs with -e and pipefail, as a run: step does.
    const failing = runAction(sb, {run: 'false | true\nfalse\necho not reached'})
    assert.equal(failing.code, 1)
    assert.equal(failing.steps[1].stdout, '')
  })

  it('a missing secret fails the step with NOT_FOUND (5), names it, exports nothing and starts nothing', () => {
    const exported = runAction(sb, {env: 'broken'})
    assert.equal(exported.code, 5)
    assert.equal(exported.steps[1].stdout, '', 'no mask line: nothing was resolved')
    assert.match(
      exported.steps[1].stderr,
      /^Error \[NOT_FOUND\]: Could not resolve 1 of 4 variable\(s\); nothing was used:\n {2}MISSING_TOKEN = local:\/\/NOT_THERE /,
    )
    assert.equal(exported.githubEnv, '')
    const out = join(sb.root, 'started')
    const ran = runAction(sb, {env: 'broken', run: 'touch "$OUT_FILE"'}, {jobEnv: {OUT_FILE: out}})
    assert.equal(ran.code, 5)
    assert.match(ran.steps[1].stderr, /^Error \[NOT_FOUND\]: .*\n {2}MISSING_TOKEN = local:\/\/NOT_THERE /)
    assert.ok(!existsSync(out), 'the command was not started')
    assertNoValue(exported.steps[1].stderr + ran.steps[1].stderr, 'the error')
  })

  it('an input is a value, never shell: quotes, $( ) and globs reach secrets as they are', () => {
    const r = runAction(sb, {env: 'staging"; touch pwned; echo "$(touch pwned2)'})
    assert.equal(r.code, 3)
    assert.match(
      r.steps[1].stderr,
      /^Error \[CONFIG_INVALID\]: Environment "staging\\"; touch pwned; echo \\"\$\(touch pwned2\)" is not defined/,
    )
    const names = runAction(sb, {only: '$(touch pwned3) *'})
    assert.equal(names.code, 5)
    assert.equal(
      names.steps[1].stderr.split('\n')[0],
      'Error [NOT_FOUND]: --only names $(touch, pwned3), *, which are not variables of this environment.',
    )
    for (const file of ['pwned', 'pwned2', 'pwned3']) assert.ok(!existsSync(join(sb.project, file)), file)
    assert.equal(r.githubEnv + names.githubEnv, '')
  })

  it('a version that is not one fails with USAGE (2) before npm runs, in one line that cannot forge a command', () => {
    const r = runAction(sb, {version: 'github:evil/repo\n::add-mask::x'})
    assert.equal(r.code, 2)
    assert.equal(r.steps.length, 1, 'the resolve step does not run')
    assert.equal(
      r.steps[0].stdout,
      `::error title=secrets action::Input 'version' "github:evil/repo?::add-mask::x" is not a version: write an exact version such as 0.1.0 (or latest); ranges, tags and URLs are not installed.\n`,
    )
    assert.equal(r.npmArgs, undefined, 'npm was not called')
    for (const version of ['^0.1.0', 'latest; rm -rf /', '']) {
      const bad = runAction(sb, {version})
      assert.equal(bad.code, 2, version)
      assert.equal(bad.npmArgs, undefined)
    }
    assert.equal(runAction(sb, {version: 'latest', only: 'API_KEY'}).npmArgs?.at(-1), 'secrets-cli@latest')
  })

  it('an unknown version is NOT_FOUND (5), another npm failure UNAVAILABLE (9), an old Node USAGE (2)', () => {
    const missing = runAction(sb, {version: '9.9.9'}, {npm: 'e404'})
    assert.equal(missing.code, 5)
    assert.equal(
      missing.steps[0].stdout.split('\n').at(-2),
      "::error title=secrets action::npm has no secrets-cli@9.9.9: check the input 'version' against the package's published versions.",
    )
    assert.match(missing.steps[0].stderr, /npm error code E404/)
    const offline = runAction(sb, {}, {npm: 'offline'})
    assert.equal(offline.code, 9)
    assert.match(offline.steps[0].stdout, /::error title=secrets action::npm could not install secrets-cli@0\.1\.0 /)
    const old = runAction(sb, {}, {nodeVersion: '18.19.0'})
    assert.equal(old.code, 2)
    assert.equal(
      old.steps[0].stdout,
      '::error title=secrets action::secrets-cli needs Node.js 20.12 or later, and this runner has 18.19.0: add actions/setup-node (node-version: 22) before this step.\n',
    )
    assert.equal(old.npmArgs, undefined)
    assert.deepEqual([missing.githubPath, offline.githubPath, old.githubPath], [[], [], []])
  })
})
