import {SecretsError} from '../../errors.js'

/*
 * Times and durations, in one vocabulary: a *time* is a Date (`currentTime`, `parseTime`), a *duration*
 * is milliseconds written as `30d` or `1d12h` (`parseDuration`, `formatDuration`, which read each other's
 * output), and an *age* is a duration rounded for a person reading a message (`formatAge`).
 */

const SECOND = 1000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR
const WEEK = 7 * DAY

const DURATION_UNITS: Record<string, number> = {s: SECOND, m: MINUTE, h: HOUR, d: DAY, w: WEEK}

/** Parse `30d`, `12h`, `2w`, `90m`, `3600s` (and combinations such as `1d12h`) to milliseconds; undefined if malformed. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim()
  if (!/^(\d+[smhdw])+$/.test(t)) return undefined
  let ms = 0
  for (const m of t.matchAll(/(\d+)([smhdw])/g)) ms += Number(m[1]) * DURATION_UNITS[m[2]]
  return ms > 0 && Number.isSafeInteger(ms) ? ms : undefined
}

/** A duration in milliseconds as the largest whole unit that fits (`30d`, `36h`); parseDuration reads it back. */
export function formatDuration(ms: number): string {
  for (const unit of ['w', 'd', 'h', 'm'] as const) {
    const size = DURATION_UNITS[unit]
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`
  }
  return `${Math.round(ms / SECOND)}s`
}

/** `2h 5m`, `40s`, `3d 4h`: how old, for messages (the two largest units, rounded down). */
export function formatAge(ms: number): string {
  let rest = Math.max(0, Math.floor(ms / SECOND))
  const parts: string[] = []
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const size = DURATION_UNITS[unit] / SECOND
    if (rest >= size || (unit === 's' && parts.length === 0)) {
      parts.push(`${Math.floor(rest / size)}${unit}`)
      rest %= size
    }
    if (parts.length === 2) break
  }
  return parts.join(' ')
}

/**
 * "Now" for commands that compare times (audit log and report, rotate --due, status): `--now` (hidden) or
 * SECRETS_NOW, an ISO 8601 time or epoch milliseconds, for tests and reproducible dry runs; else the clock.
 */
export function currentTime(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): Date {
  const given = flag ?? env.SECRETS_NOW
  if (given === undefined || given === '') return new Date()
  const t = /^\d+$/.test(given) ? Number(given) : Date.parse(given)
  if (!Number.isFinite(t)) {
    throw new SecretsError(
      'USAGE',
      `${flag === undefined ? 'SECRETS_NOW' : '--now'} must be an ISO 8601 time such as 2026-11-30T12:00:00Z or epoch milliseconds, not ${JSON.stringify(given)}.`,
    )
  }
  return new Date(t)
}

/** `--since` / `--until`: a duration before now (`24h`, `7d`) or a date (`2026-11-01`, `2026-11-01T08:00Z`). */
export function parseTime(text: string, now: Date, flag: string): Date {
  const ms = parseDuration(text)
  if (ms !== undefined) return new Date(now.getTime() - ms)
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const t = Date.parse(text)
    if (!Number.isNaN(t)) return new Date(t)
  }
  throw new SecretsError(
    'USAGE',
    `${flag} expects a duration before now (90s, 30m, 24h, 7d, 2w) or a date (2026-11-01, 2026-11-01T08:00:00Z), not ${JSON.stringify(text)}.`,
  )
}
