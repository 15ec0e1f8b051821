import {createHash} from 'node:crypto'

/** A short fingerprint of a lease id for audit records and messages (the id itself can renew or revoke). */
export function leaseTag(id: string): string {
  return createHash('sha256').update(id).digest('hex').slice(0, 16)
}
