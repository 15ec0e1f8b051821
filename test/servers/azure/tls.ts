import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

/** A CA and a server certificate for 127.0.0.1, generated with openssl for one test run. */
export interface TestTls {
  dir: string
  caFile: string
  caPem: string
  keyPem: string
  certPem: string
  cleanup(): void
}

export function generateTls(): TestTls {
  const dir = mkdtempSync(join(tmpdir(), 'azure-tls-'))
  const f = (name: string) => join(dir, name)
  const openssl = (...args: string[]) => execFileSync('openssl', args, {cwd: dir, stdio: ['ignore', 'ignore', 'pipe']})
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=secrets test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  )
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    f('server.key'),
    '-out',
    f('server.csr'),
    '-subj',
    '/CN=127.0.0.1',
  )
  writeFileSync(
    f('ext.cnf'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n',
  )
  openssl(
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.pem'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-out',
    f('server.pem'),
    '-days',
    '2',
    '-extfile',
    f('ext.cnf'),
  )
  return {
    dir,
    caFile: f('ca.pem'),
    caPem: readFileSync(f('ca.pem'), 'utf8'),
    keyPem: readFileSync(f('server.key'), 'utf8'),
    certPem: readFileSync(f('server.pem'), 'utf8'),
    cleanup: () => rmSync(dir, {recursive: true, force: true}),
  }
}

/** A self-signed client certificate (PEM with its key), for the client-certificate credential. */
export function generateClientCertificate(dir: string, name: string): {file: string; certPem: string} {
  const key = join(dir, `${name}.key`)
  const cert = join(dir, `${name}.crt`)
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
    ],
    {stdio: ['ignore', 'ignore', 'pipe']},
  )
  const certPem = readFileSync(cert, 'utf8')
  const file = join(dir, `${name}.pem`)
  writeFileSync(file, readFileSync(key, 'utf8') + certPem, {mode: 0o600})
  return {file, certPem}
}
