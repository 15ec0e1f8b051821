import {accessSync, constants, existsSync} from 'node:fs'
import {dirname} from 'node:path'

import {SecretsError, fsError} from '../../errors.js'
import {auditLogFile} from '../audit/log.js'
import {auditKeyFile} from '../audit/key.js'
import {ensureDir} from '../lib/atomic-write.js'
import {assertPrivateFile, loadIdentities} from '../store/identity.js'
import type {Session} from '../session.js'

export interface Check {
  name: string
  status: 'ok' | 'warn' | 'fail'
  detail: string
  code?: string
  exitCode?: number
}

async function attempt(name: string, fn: () => Promise<string> | string): Promise<Check> {
  try {
    return {name, status: 'ok', detail: await fn()}
  } catch (error) {
    if (error instanceof SecretsError)
      return {name, status: 'fail', detail: error.message.split('\n')[0], code: error.code, exitCode: error.exitCode}
    return {
      name,
      status: 'fail',
      detail: error instanceof Error ? error.message : String(error),
      code: 'INTERNAL',
      exitCode: 1,
    }
  }
}

/** Check config, identity, every provider and the audit log; never stops at the first failure. */
export async function runDoctor(session: Session): Promise<Check[]> {
  const checks: Check[] = []
  const config = await attempt('config', () => {
    const c = session.config
    return `${c.file}: ${c.providers.size} provider(s), ${c.env.size} variable(s), ${c.environments.size} environment(s)`
  })
  checks.push(config)
  checks.push(
    await attempt('identity', async () => {
      const ids = await loadIdentities(session.env)
      if (ids.length === 0) {
        if (session.env.SECRETS_PASSPHRASE) return 'no age identity; SECRETS_PASSPHRASE is set'
        throw new SecretsError(
          'IDENTITY_MISSING',
          'No identity: set SECRETS_AGE_KEY or SECRETS_IDENTITY, or run `secrets init`.',
        )
      }
      return ids.map((i) => `${i.recipient} (from ${i.source})`).join(', ')
    }),
  )
  if (config.status === 'ok') {
    for (const alias of session.config.providers.keys()) {
      checks.push(await attempt(`provider ${alias}`, async () => (await session.provider(alias)).check()))
    }
  }
  checks.push(
    await attempt('audit log', () => {
      const file = auditLogFile(session.env)
      ensureDir(dirname(file))
      if (existsSync(file)) {
        try {
          accessSync(file, constants.W_OK)
        } catch (error) {
          throw fsError(error, file, 'opening the audit log for writing')
        }
      }
      // The key that chains and fingerprints the records: refused by every append if others can read it.
      const key = auditKeyFile(session.env)
      if (existsSync(key)) assertPrivateFile(key, 'The audit key')
      return file
    }),
  )
  return checks
}
