import type {Session} from '../session.js'

/** What the caller asked of the offline cache: the flags of the CLI, the options of the library. */
export interface FallbackRequest {
  fallback?: boolean
  maxAgeMs?: number
  offline?: boolean
}

/**
 * Turn the request (or `cache:` in secrets.yaml when nothing is asked) into the session's fallback
 * settings. Nothing is set, and no cache code loads, when neither asks for it.
 */
export function chooseFallback(session: Session, asked: FallbackRequest): void {
  const wanted = asked.fallback || asked.offline || asked.maxAgeMs !== undefined
  const configured = session.config.cache
  if (!wanted && configured === undefined) return
  session.fallback = {maxAgeMs: asked.maxAgeMs ?? configured?.maxAgeMs, offline: Boolean(asked.offline)}
}
