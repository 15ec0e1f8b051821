/**
 * A throwaway PostgreSQL cluster for one test file: initdb in a temp dir, a unix socket in that dir and
 * no TCP listener, password (SCRAM) logins for every role but the administrator `postgres`, which the
 * test (and the test Vault's database engine) reach without one. Debian installs the server binaries
 * under /usr/lib/postgresql/<major>/bin; the server refuses to run as root, so as root it runs as the
 * `postgres` user (runuser).
 */
import {execFile as execFileCb, execFileSync} from 'node:child_process'
import {chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'

const execFile = promisify(execFileCb)

/** The newest Debian PostgreSQL server bin directory, or why there is none. */
export function findPostgres(): {bin: string} | {missing: string} {
  const root = '/usr/lib/postgresql'
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
    : []
  for (const v of versions) {
    const bin = join(root, v, 'bin')
    if (['initdb', 'pg_ctl', 'psql', 'postgres'].every((b) => existsSync(join(bin, b)))) return {bin}
  }
  return {missing: `no PostgreSQL server binaries (initdb, pg_ctl, postgres, psql) under ${root}/*/bin`}
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const {port} = s.address() as {port: number}
      s.close(() => resolve(port))
    })
  })
}

export class PostgresCluster {
  private constructor(
    readonly bin: string,
    readonly dir: string,
    /** The directory of the unix socket (PGHOST). */
    readonly host: string,
    readonly port: number,
    private readonly asPostgres: string[],
  ) {}

  /** initdb and start; `stop()` in `after`. */
  static async start(bin: string): Promise<PostgresCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'secrets-pg-'))
    const root = process.getuid?.() === 0
    const asPostgres = root ? ['runuser', '-u', 'postgres', '--'] : []
    if (root) {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], {encoding: 'utf8'}).trim())
      const gid = Number(execFileSync('id', ['-g', 'postgres'], {encoding: 'utf8'}).trim())
      chownSync(dir, uid, gid)
    }
    const port = await freePort()
    const c = new PostgresCluster(bin, dir, dir, port, asPostgres)
    const data = join(dir, 'data')
    await c.asAdmin(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync'])
    // The administrator needs no password on the socket; every other role logs in with its password.
    writeFileSync(join(dir, 'pg_hba.conf'), 'local all postgres trust\nlocal all all scram-sha-256\n')
    if (root) execFileSync('chown', ['postgres:postgres', join(dir, 'pg_hba.conf')])
    await c.asAdmin(join(bin, 'pg_ctl'), [
      '-D',
      data,
      '-w',
      '-l',
      join(dir, 'server.log'),
      '-o',
      `-k ${dir} -p ${port} -c listen_addresses= -c hba_file=${join(dir, 'pg_hba.conf')} -c fsync=off`,
      'start',
    ])
    return c
  }

  private async asAdmin(file: string, args: string[]): Promise<string> {
    const [cmd, ...rest] = [...this.asPostgres, file, ...args]
    const {stdout} = await execFile(cmd, rest, {cwd: this.dir, encoding: 'utf8'})
    return stdout
  }

  /** Run SQL as the administrator, from stdin (never on argv: it may hold a password). */
  async sql(sql: string): Promise<string> {
    const child = execFileCb(
      join(this.bin, 'psql'),
      [
        '-h',
        this.host,
        '-p',
        String(this.port),
        '-U',
        'postgres',
        '-d',
        'postgres',
        '-v',
        'ON_ERROR_STOP=1',
        '-AtXq',
        '-f',
        '-',
      ],
      {encoding: 'utf8'},
    )
    const out = new Promise<string>((resolve, reject) => {
      let stdout = ''
      let stderr = ''
      child.stdout!.on('data', (d: string) => (stdout += d))
      child.stderr!.on('data', (d: string) => (stderr += d))
      child.on('close', (code) =>
        code === 0 ? resolve(stdout) : reject(new Error(stderr.trim() || `psql exited ${code}`)),
      )
    })
    child.stdin!.end(sql)
    return out
  }

  /** Whether a role of that name exists. */
  async roleExists(name: string): Promise<boolean> {
    const quoted = `'${name.replaceAll("'", "''")}'`
    return (await this.sql(`select count(*) from pg_roles where rolname = ${quoted};`)).trim() === '1'
  }

  async stop(): Promise<void> {
    try {
      await this.asAdmin(join(this.bin, 'pg_ctl'), ['-D', join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop'])
    } finally {
      rmSync(this.dir, {recursive: true, force: true})
    }
  }
}
