import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

/** PEM files of one certificate and its key, plus their paths on disk (for VAULT_CACERT and friends). */
export interface CertFiles {
  cert: string
  key: string
  certFile: string
  keyFile: string
}

/** A throwaway PKI for one test run: a CA, a server certificate and a client certificate it signed. */
export interface TestPki {
  dir: string
  ca: CertFiles
  server: CertFiles
  client: CertFiles
  /** A second, unrelated CA with its own client certificate ("wrong CA" cases). */
  otherCa: CertFiles
  otherClient: CertFiles
  cleanup(): void
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, {cwd: dir, stdio: ['ignore', 'ignore', 'pipe']})
}

function files(dir: string, name: string): CertFiles {
  const certFile = join(dir, `${name}.pem`)
  const keyFile = join(dir, `${name}-key.pem`)
  return {certFile, keyFile, cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8')}
}

function makeCa(dir: string, name: string): CertFiles {
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    `${name}-key.pem`,
    '-out',
    `${name}.pem`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ])
  return files(dir, name)
}

function makeLeaf(dir: string, name: string, ca: string, ext: string): CertFiles {
  openssl(dir, [
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    `${name}-key.pem`,
    '-out',
    `${name}.csr`,
  ])
  writeFileSync(join(dir, `${name}.ext`), ext)
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.pem`,
    '-CAkey',
    `${ca}-key.pem`,
    '-CAcreateserial',
    '-days',
    '2',
    '-out',
    `${name}.pem`,
    '-extfile',
    `${name}.ext`,
  ])
  return files(dir, name)
}

/** Generate a fresh CA, server and client certificates with the system `openssl` (EC P-256: fast). */
export function createPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'vault-pki-'))
  const ca = makeCa(dir, 'ca')
  const server = makeLeaf(
    dir,
    'server',
    'ca',
    'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost,DNS:vault.test\n',
  )
  const client = makeLeaf(
    dir,
    'client',
    'ca',
    'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n',
  )
  const otherCa = makeCa(dir, 'other-ca')
  const otherClient = makeLeaf(
    dir,
    'other-client',
    'other-ca',
    'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n',
  )
  return {dir, ca, server, client, otherCa, otherClient, cleanup: () => rmSync(dir, {recursive: true, force: true})}
}
