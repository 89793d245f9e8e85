import { parseDuration as parseAnyDuration, ValidationError } from '@grapevine/core'

export { formatDuration } from '@grapevine/core'

/**
 * Core's duration grammar, as the CLI reads it from flags, environment variables and query
 * strings: there every value is a string, so a bare number of digits means milliseconds, and
 * a negative span is refused. Whole milliseconds.
 */
export function parseDuration(value: unknown, field: string): number {
  if (typeof value === 'string' && /^\d+$/.test(value.trim())) return Number(value.trim())
  const ms = parseAnyDuration(value, field)
  if (ms < 0) {
    throw new ValidationError(field, 'must be a non-negative duration or number of milliseconds')
  }
  return Math.round(ms)
}
