import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../cli/base-command.js'
import {table} from '../cli/style.js'
import {
  compareEnvironments,
  compareMirror,
  driftExitCode,
  type EnvDrift,
  type MirrorDrift,
} from '../core/drift/drift.js'
import {SecretsError} from '../errors.js'

export default class Drift extends BaseCommand<typeof Drift> {
  static override summary = 'Check that two environments, or a mirror and its source, agree, without showing a value.'
  static override description = `With two --env: for every variable of either environment, says whether it is declared on one side only, holds the same value on both, or different values. With one --env, compares the base \`env:\` with that environment. A variable declared on one side only is drift; values that differ between environments are expected and are not. The same value under two different references is reported on its own line: a production secret reused elsewhere is a finding.

With --from and --to (\`sync\`'s addressing, one --env at most): the mirror must match its source, so a variable missing from it or different in it is drift. Meant for CI after \`sync\`.

Values are compared in memory by HMAC-SHA256 under a key made for the run and never printed. Providers are read in parallel and in batches, as \`exec\` reads them; a secret that cannot be read is that error (its own exit code), not drift. Exits 17 (DRIFT) when anything drifted, 0 when nothing did.`

  static override examples = [
    '<%= config.bin %> drift --env staging --env production',
    '<%= config.bin %> drift --env production --json',
    '<%= config.bin %> drift --from aws --to local',
    '<%= config.bin %> drift --from vault://secret/myapp --to aws://prod/ --env production',
  ]

  static override flags = {
    env: Flags.string({
      description: 'An environment to compare (twice: those two; once: the base `env:` and that one).',
      multiple: true,
      env: 'SECRETS_ENV',
    }),
    from: Flags.string({description: 'Provider alias or reference prefix of the source (as for `sync`).'}),
    to: Flags.string({description: 'Provider alias or reference prefix of the mirror (as for `sync`).'}),
  }

  async run(): Promise<EnvDrift | MirrorDrift> {
    // --env is repeatable here, unlike the global one it replaces, which the flag types cannot express.
    const flags = this.flags as unknown as {env?: string[]; from?: string; to?: string}
    const envs = flags.env ?? []
    const {from, to} = flags
    if ((from === undefined) !== (to === undefined)) {
      throw new SecretsError(
        'USAGE',
        `drift needs --from and --to together; only ${from ? '--from' : '--to'} was given.`,
        {
          suggestions: ['Compare a mirror with --from SOURCE --to MIRROR, or two environments with --env A --env B.'],
        },
      )
    }
    if (from !== undefined && to !== undefined) {
      if (envs.length > 1)
        throw new SecretsError('USAGE', 'With --from and --to, drift takes at most one --env.', {
          suggestions: ['Run one drift per environment.'],
        })
      const result = await compareMirror(this.session(), {from, to, environment: envs[0]})
      if (!this.jsonEnabled()) this.printMirror(result)
      process.exitCode = driftExitCode(result)
      return result
    }
    if (envs.length === 0 || envs.length > 2) {
      throw new SecretsError(
        'USAGE',
        `drift compares two environments; ${envs.length} --env ${envs.length === 1 ? 'was' : 'were'} given.`,
        {
          suggestions: [
            'Pass --env A --env B (or one --env to compare it with the base env:), or --from and --to for a mirror.',
          ],
        },
      )
    }
    const [a, b] = envs.length === 1 ? [undefined, envs[0]] : envs
    if (a === b)
      throw new SecretsError('USAGE', `--env ${b} was given twice: there is nothing to compare it with.`, {
        suggestions: ['Name two different environments.'],
      })
    const result = await compareEnvironments(this.session(), a, b)
    if (!this.jsonEnabled()) this.printEnvironments(result)
    process.exitCode = driftExitCode(result)
    return result
  }

  private printEnvironments(r: EnvDrift): void {
    const said = {
      'only-a': `only in ${r.a}`,
      'only-b': `only in ${r.b}`,
      same: 'same value',
      different: 'different',
    } as const
    this.log(
      table(
        ['VARIABLE', r.a.toUpperCase(), r.b.toUpperCase(), 'STATUS'],
        r.items.map((i) => [i.name, i.a ?? '-', i.b ?? '-', i.sharedReference ? 'same reference' : said[i.status]]),
      ),
    )
    for (const name of r.reused) this.log(`${name}: same value in ${r.a} and ${r.b}`)
    const missing = r.items.filter((i) => i.status === 'only-a' || i.status === 'only-b').length
    this.logToStderr(
      missing === 0
        ? `No drift: both environments declare the same ${r.items.length === 1 ? 'variable' : `${r.items.length} variables`}.`
        : `Drift: ${missing === 1 ? '1 variable is' : `${missing} variables are`} declared on one side only.`,
    )
  }

  private printMirror(r: MirrorDrift): void {
    const v = (version?: string) => (version === undefined ? '' : ` (v${version})`)
    this.log(
      table(
        ['VARIABLE', 'SOURCE', 'MIRROR', 'STATUS'],
        r.items.map((i) => [
          i.name,
          `${i.from}${v(i.fromVersion)}`,
          i.status === 'missing' ? `${i.to} (missing)` : `${i.to}${v(i.toVersion)}`,
          i.status,
        ]),
      ),
    )
    const drifted = r.items.filter((i) => i.status !== 'same').length
    this.logToStderr(
      drifted === 0
        ? `No drift: ${r.to} matches ${r.from}.`
        : `Drift: ${drifted === 1 ? '1 variable is' : `${drifted} variables are`} missing from ${r.to} or different in it.`,
    )
  }
}
