import { parseDuration as parseAnyDuration, ValidationError } from '@grapevine/core'

export { formatDuration } from '@grapevine/core'

/**
 * Core's duration grammar (a bare number is milliseconds there too), as the CLI reads it from
 * flags, environment variables and query strings; a negative span is refused. Whole
 * milliseconds.
 */
export function parseDuration(value: unknown, field: string): number {
  const ms = parseAnyDuration(value, field)
  if (ms < 0) {
    throw new ValidationError(field, 'must be a non-negative duration or number of milliseconds')
  }
  return Math.round(ms)
}
