// What `doctor` asks of Vault about dynamic references: the token's capabilities on each dynamic path
// and on sys/leases/renew and revoke, in one `sys/capabilities-self` request, so that no credential is
// made to find out.
import type {Reference} from '../../core/reference.js'
import {SecretsError} from '../../errors.js'
import type {LeaseAccess} from '../types.js'
import type {VaultHost} from './host.js'
import {locateRead} from './mounts.js'
import {needsWrite, requestParams} from './read.js'

const RENEW = 'sys/leases/renew'
const REVOKE = 'sys/leases/revoke'

const policyLine = (path: string, capability: string): string => `path "${path}" { capabilities = ["${capability}"] }`

/** Whether a token with `caps` on a path may do `need` there (a root token may do anything). */
function allows(caps: string[] | undefined, need: string): boolean {
  return caps !== undefined && !caps.includes('deny') && (caps.includes(need) || caps.includes('root'))
}

/** The references among `refs` that are in a secrets engine other than KV, with the capability each needs. */
async function dynamicOnes(v: VaultHost, refs: Reference[]): Promise<Array<{ref: Reference; need: string}>> {
  const out: Array<{ref: Reference; need: string}> = []
  for (const ref of refs) {
    let loc
    try {
      loc = await locateRead(v, ref.path, ref.raw)
    } catch (error) {
      // Resolving the variable reports it; this check is about leases.
      if (error instanceof SecretsError) continue
      throw error
    }
    if (!('engine' in loc)) continue
    out.push({ref, need: needsWrite(loc.engine, requestParams(ref)) ? 'update' : 'read'})
  }
  return out
}

/** `sys/capabilities-self` for `paths`: each path's capabilities. */
async function capabilitiesSelf(v: VaultHost, paths: string[]): Promise<Record<string, string[] | undefined>> {
  const res = (await v.call(() => v.client.write('sys/capabilities-self', {paths}), {
    op: 'update',
    path: 'sys/capabilities-self',
    capability: 'update',
  })) as {data?: Record<string, unknown>} & Record<string, unknown>
  const data = (res?.data ?? res ?? {}) as Record<string, unknown>
  return Object.fromEntries(paths.map((p) => [p, Array.isArray(data[p]) ? (data[p] as string[]) : undefined]))
}

/** See SecretProvider.leaseAccess. */
export async function leaseAccess(v: VaultHost, refs: Reference[]): Promise<LeaseAccess> {
  await v.authenticated()
  const dynamic = await dynamicOnes(v, refs)
  if (dynamic.length === 0) return {dynamic: [], canRevoke: true, summary: 'no dynamic paths'}
  const paths = [...new Set(dynamic.map((d) => d.ref.path))]
  const caps = await capabilitiesSelf(v, [...paths, RENEW, REVOKE])
  const shown = (p: string): string => (caps[p] ?? ['deny']).join(', ')
  const result: LeaseAccess = {
    dynamic: dynamic.map(({ref, need}) =>
      allows(caps[ref.path], need)
        ? {ref}
        : {
            ref,
            problem: new SecretsError(
              'PERMISSION_DENIED',
              `The Vault token may not ${need} ${ref.path} (it has: ${shown(ref.path)}): add \`${policyLine(ref.path, need)}\` to its policy.`,
              {ref: ref.raw},
            ),
          },
    ),
    canRevoke: allows(caps[REVOKE], 'update'),
    summary: '',
  }
  const lacking = [RENEW, REVOKE].filter((p) => !allows(caps[p], 'update'))
  if (lacking.length > 0) {
    const verbs = lacking.map((p) => p.split('/').pop()).join(' or ')
    const why = result.canRevoke
      ? '`exec` cannot keep them alive past their first TTL'
      : '`exec` cannot end the credentials it makes when the command exits (they live until their TTL ends)'
    result.leases = new SecretsError(
      'PERMISSION_DENIED',
      `The Vault token may not ${verbs} its leases (${lacking.map((p) => `${p}: ${shown(p)}`).join('; ')}), so ${why}: add ${lacking.map((p) => `\`${policyLine(p, 'update')}\``).join(' and ')} to its policy.`,
    )
  }
  const byNeed = (need: string): string[] =>
    [...new Set(dynamic.filter((d) => d.need === need).map((d) => d.ref.path))].sort()
  const may = [
    byNeed('read').length > 0 ? `read ${byNeed('read').join(', ')}` : '',
    byNeed('update').length > 0 ? `write ${byNeed('update').join(', ')}` : '',
  ].filter((x) => x !== '')
  result.summary = `the token may ${may.join(' and ')}, and renew and revoke its leases`
  return result
}
