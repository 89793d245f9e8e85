import type { ServiceQuery } from './agent-api.js'
import type { ServiceInstance } from './instance.js'
import type { View } from './view.js'

/** Filters of `services()`: a subset of `ServiceQuery`. */
export interface ServicesQuery {
  tags?: readonly string[]
  includeCritical?: boolean
}

/** Instances a query returns by default: everything but `critical` (callers reach what works). */
export function isHealthy(instance: ServiceInstance): boolean {
  return instance.status !== 'critical'
}

/** True when the query has no filter besides the default health filter. */
function isPlain(query: ServiceQuery | undefined): boolean {
  return (
    query === undefined ||
    ((query.tags === undefined || query.tags.length === 0) &&
      query.version === undefined &&
      query.metadata === undefined)
  )
}

/** Whether one instance passes every filter of `query` (status included). */
export function matchesQuery(instance: ServiceInstance, query: ServiceQuery | undefined): boolean {
  if (query === undefined) return isHealthy(instance)
  if (query.includeCritical !== true && !isHealthy(instance)) return false
  if (query.version !== undefined && instance.version !== query.version) return false
  if (query.tags !== undefined) {
    for (const tag of query.tags) if (!instance.tags.includes(tag)) return false
  }
  if (query.metadata !== undefined) {
    for (const key in query.metadata) {
      if (instance.metadata[key] !== query.metadata[key]) return false
    }
  }
  return true
}

/**
 * Instances of one service matching `query`, sorted by id. Without filters this is the
 * view's cached frozen array (O(1)); with filters, a fresh array.
 */
export function queryService(
  view: View,
  name: string,
  query?: ServiceQuery,
): readonly ServiceInstance[] {
  if (isPlain(query)) return query?.includeCritical === true ? view.all(name) : view.healthy(name)
  return view.all(name).filter((instance) => matchesQuery(instance, query))
}

/**
 * Every service with its matching instances, by name in sorted order (the same on every
 * replica); services left with none are omitted. With
 * tags, candidates come from the smallest tag index, so the cost follows the matches, not
 * the whole view.
 */
export function queryServices(
  view: View,
  query?: ServicesQuery,
): Map<string, readonly ServiceInstance[]> {
  const out = new Map<string, readonly ServiceInstance[]>()
  const tags = query?.tags ?? []
  if (tags.length === 0) {
    for (const name of [...view.names()].sort()) {
      const list = query?.includeCritical === true ? view.all(name) : view.healthy(name)
      if (list.length > 0) out.set(name, list)
    }
    return out
  }
  let smallest: ReadonlySet<string> | undefined
  for (const tag of tags) {
    const ids = view.idsWithTag(tag)
    if (ids === undefined) return out
    if (smallest === undefined || ids.size < smallest.size) smallest = ids
  }
  const names = new Set<string>()
  for (const id of smallest!) {
    const instance = view.get(id)
    if (instance !== undefined) names.add(instance.name)
  }
  for (const name of [...names].sort()) {
    const list = queryService(view, name, query)
    if (list.length > 0) out.set(name, list)
  }
  return out
}
