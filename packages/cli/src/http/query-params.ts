import { type ServiceQuery, ValidationError, validateMetadataKey } from '@grapevine/core'
import { parseDuration } from '../duration.js'

/** Fastify's parsed query string: repeated keys become arrays. */
export type QueryString = Readonly<Record<string, string | string[] | undefined>>

/** Consul's cap on `wait`, and its default when a client gives an index without a wait. */
export const MAX_WAIT_MS = 10 * 60_000
export const DEFAULT_WAIT_MS = 5 * 60_000

function all(query: QueryString, key: string): string[] {
  const value = query[key]
  if (value === undefined) return []
  return Array.isArray(value) ? value : [value]
}

function one(query: QueryString, key: string): string | undefined {
  const values = all(query, key)
  if (values.length > 1) throw new ValidationError(key, 'must be given at most once')
  return values[0]
}

function flag(query: QueryString, key: string): boolean {
  const value = one(query, key)
  if (value === undefined || value === 'false' || value === '0') return false
  // `?all` with no value means true, as in Consul's `?stale`.
  if (value === '' || value === 'true' || value === '1') return true
  throw new ValidationError(key, `must be true or false, got "${value}"`)
}

/**
 * `?tag=a&tag=b&version=v1&meta=zone=a&all=true` → a `ServiceQuery`. Metadata pairs are
 * `key=value`, the syntax of `--meta` on the command line (metadata keys hold no `=`).
 */
export function parseServiceQuery(query: QueryString): ServiceQuery {
  const result: ServiceQuery = {}
  const tags = all(query, 'tag')
  const version = one(query, 'version')
  const metas = all(query, 'meta')
  if (tags.length > 0) result.tags = tags
  if (version !== undefined) result.version = version
  if (metas.length > 0) {
    const metadata: Record<string, string> = {}
    for (const pair of metas) {
      const eq = pair.indexOf('=')
      if (eq <= 0) {
        throw new ValidationError('meta', `expected key=value (as --meta takes), got "${pair}"`)
      }
      // A key no instance can have (`__proto__` would even vanish from this object, making the
      // query match everything) is a mistake to report, not a filter to ignore.
      const key = validateMetadataKey(pair.slice(0, eq), 'meta')
      metadata[key] = pair.slice(eq + 1)
    }
    result.metadata = metadata
  }
  if (flag(query, 'all')) result.includeCritical = true
  return result
}

/**
 * `?passing`: only instances whose status is `passing` (Consul's `?passing`); without it,
 * reads return passing and warning instances, and `all` adds critical ones.
 */
export function parsePassing(query: QueryString): boolean {
  const passing = flag(query, 'passing')
  if (passing && flag(query, 'all')) {
    throw new ValidationError('passing', 'cannot be combined with all')
  }
  return passing
}

/** Tags and `all` for the service list. */
export function parseServicesQuery(query: QueryString): {
  tags?: string[]
  includeCritical?: boolean
} {
  const tags = all(query, 'tag')
  return {
    ...(tags.length > 0 ? { tags } : {}),
    ...(flag(query, 'all') ? { includeCritical: true } : {}),
  }
}

/** `?index=N&wait=30s`; `index` undefined means "answer at once". */
export function parseBlocking(query: QueryString): { index: number | undefined; waitMs: number } {
  const indexText = one(query, 'index')
  const waitText = one(query, 'wait')
  let index: number | undefined
  if (indexText !== undefined) {
    if (!/^\d{1,16}$/.test(indexText) || !Number.isSafeInteger(Number(indexText))) {
      throw new ValidationError('index', `must be a non-negative integer, got "${indexText}"`)
    }
    index = Number(indexText)
  }
  const waitMs = waitText === undefined ? DEFAULT_WAIT_MS : parseDuration(waitText, 'wait')
  if (waitMs > MAX_WAIT_MS) throw new ValidationError('wait', 'must be at most 10m')
  return { index, waitMs }
}
