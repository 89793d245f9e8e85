import { parseDuration, ValidationError } from '@grapevine/core'
import { NotSupportedError } from '../errors.js'
import type { QueryString } from '../http/query-params.js'
import { DEFAULT_WAIT_MS, MAX_WAIT_MS } from '../http/query-params.js'

function all(query: QueryString, key: string): string[] {
  const value = query[key]
  if (value === undefined) return []
  return Array.isArray(value) ? value : [value]
}

/** `?passing`, `?passing=true`, `?passing=1` → true; absent or `false`/`0` → false. */
export function consulFlag(query: QueryString, key: string): boolean {
  const value = all(query, key).at(-1)
  if (value === undefined || value === 'false' || value === '0') return false
  return true
}

export function consulTagsFilter(query: QueryString): string[] {
  return all(query, 'tag').filter((tag) => tag !== '')
}

/**
 * `?index=N&wait=30s` as Consul reads them: a wait above 10 minutes is cut to 10 minutes
 * rather than refused, and Go's `wait=55000ms` works. A bad index is refused (400).
 */
export function consulBlocking(query: QueryString): { index: number | undefined; waitMs: number } {
  const indexText = all(query, 'index').at(-1)
  const waitText = all(query, 'wait').at(-1)
  let index: number | undefined
  if (indexText !== undefined && indexText !== '') {
    if (!/^\d{1,16}$/.test(indexText) || !Number.isSafeInteger(Number(indexText))) {
      throw new ValidationError('index', `must be a non-negative integer, got "${indexText}"`)
    }
    index = Number(indexText)
  }
  let waitMs = DEFAULT_WAIT_MS
  if (waitText !== undefined && waitText !== '') {
    waitMs = /^\d+$/.test(waitText) ? Number(waitText) * 1000 : parseDuration(waitText, 'wait')
    if (waitMs < 0) throw new ValidationError('wait', 'must not be negative')
  }
  return { index, waitMs: Math.min(waitMs, MAX_WAIT_MS) }
}

/**
 * Query parameters that change what Consul answers and that this agent cannot honour: they
 * are refused rather than ignored, so a client never takes an unfiltered answer for a
 * filtered one. `dc` is fine when it names this cluster.
 */
export function refuseUnsupported(query: QueryString, datacenter: string): void {
  if (all(query, 'filter').some((f) => f !== '')) {
    throw new NotSupportedError('filter expressions (?filter=); use ?tag= and ?passing')
  }
  const dc = all(query, 'dc').at(-1)
  if (dc !== undefined && dc !== '' && dc.toLowerCase() !== datacenter.toLowerCase()) {
    throw new ValidationError(
      'dc',
      `no path to datacenter "${dc}": this cluster is "${datacenter}"`,
    )
  }
}
