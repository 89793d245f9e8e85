import { ValidationError } from '@grapevine/core'

// Same grammar as the health checks' durations (Go's time.ParseDuration without ns/µs), so a
// user writes '10s' the same way in a check, a flag, an env variable and a query string.
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
const PART = /(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h)/y

/**
 * Parses milliseconds (a number, or a string of digits) or a duration such as `'1m30s'`.
 * Throws `ValidationError` naming `field` for anything else or a negative value.
 */
export function parseDuration(value: unknown, field: string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return value
    throw new ValidationError(field, 'must be a non-negative number of milliseconds')
  }
  const invalid = () =>
    new ValidationError(
      field,
      `${JSON.stringify(value)} is not a duration; use milliseconds or a duration like '10s', '500ms' or '1m'`,
    )
  if (typeof value !== 'string') throw invalid()
  const text = value.trim()
  if (/^\d+$/.test(text)) return Number(text)
  if (text === '') throw invalid()
  let total = 0
  PART.lastIndex = 0
  while (PART.lastIndex < text.length) {
    const start = PART.lastIndex
    const match = PART.exec(text)
    if (match === null || match.index !== start) throw invalid()
    total += Number(match[1]) * (UNIT_MS[match[2]!] ?? Number.NaN)
  }
  return Math.round(total)
}

/** `1500` → `'1.5s'`, `120000` → `'2m'`, `250` → `'250ms'`. */
export function formatDuration(ms: number): string {
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000}m`
  if (ms >= 1000) return `${Number((ms / 1000).toFixed(1))}s`
  return `${Math.round(ms)}ms`
}
