import { ValidationError } from './errors.js'

/**
 * A span of time as users write it (check definitions, flags, config files, query strings):
 * milliseconds as a number, or a Go/Consul duration string such as `'10s'`, `'500ms'`,
 * `'1m30s'` or `'1.5h'`. One grammar everywhere, so `'10s'` means the same in every place, and
 * so does a bare number: milliseconds, whether it comes as a JSON number or as the digits of a
 * flag, a variable or a query string (`--ttl-check 10000` and `{"ttl": 10000}` agree).
 */
export type Duration = number | string

// The units of Go's time.ParseDuration that make sense here; ns and µs are left out because
// no timer of ours resolves them.
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
const PART = /(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h)/y

/**
 * Parses a duration into milliseconds (any sign; range checks are the caller's). Throws
 * `ValidationError` naming `field` when the value is neither a finite number nor a duration.
 */
export function parseDuration(value: unknown, field = 'duration'): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return value
    throw new ValidationError(field, 'must be a finite number of milliseconds')
  }
  const examples = `a duration string like '10s', '500ms' or '1m'`
  if (typeof value !== 'string') {
    throw new ValidationError(field, `must be milliseconds or ${examples}`)
  }
  const notADuration = () =>
    new ValidationError(field, `"${value}" is not a duration; use milliseconds or ${examples}`)
  const text = value.trim()
  // Go accepts a bare "0" and a leading sign; a sign only ever matters to say "negative".
  const negative = text.startsWith('-')
  const body = negative || text.startsWith('+') ? text.slice(1) : text
  if (body === '') throw notADuration()
  if (/^(\d+(\.\d*)?|\.\d+)$/.test(body)) return negative ? -Number(body) : Number(body)
  let total = 0
  PART.lastIndex = 0
  while (PART.lastIndex < body.length) {
    const start = PART.lastIndex
    const match = PART.exec(body)
    if (match === null || match.index !== start) throw notADuration()
    total += Number(match[1]) * (UNIT_MS[match[2]!] ?? Number.NaN)
  }
  return negative ? -total : total
}

/** Formats milliseconds for people: `1500` → `'1.5s'`, `120000` → `'2m'`, `250` → `'250ms'`. */
export function formatDuration(ms: number): string {
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000}m`
  if (ms >= 1000) return `${Number((ms / 1000).toFixed(1))}s`
  return `${Math.round(ms)}ms`
}
