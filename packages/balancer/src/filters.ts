import type { ServiceInstance } from '@grapevine/core'

/**
 * Narrows the instances a balancer picks from (go-kratos `selector.NodeFilter`). A filter
 * sees the whole list, so it can also prefer (keep zone `a` when any is there, else all).
 * Filters run in order on every registry change, not on every pick.
 */
export type Filter = (instances: readonly ServiceInstance[]) => readonly ServiceInstance[]

/** Keeps instances whose version is one of `versions` (go-kratos `filter.Version`). */
export function versionFilter(...versions: string[]): Filter {
  const wanted = new Set(versions)
  return (instances) => instances.filter((instance) => wanted.has(instance.version))
}

/** Keeps instances carrying every one of `tags`. */
export function tagsFilter(...tags: string[]): Filter {
  return (instances) => instances.filter((instance) => tags.every((t) => instance.tags.includes(t)))
}

/** Keeps instances whose metadata has each of these key/value pairs. */
export function metadataFilter(pairs: Readonly<Record<string, string>>): Filter {
  const entries = Object.entries(pairs)
  return (instances) =>
    instances.filter((instance) => entries.every(([k, v]) => instance.metadata[k] === v))
}

/**
 * Keeps instances with at least one endpoint of one of `schemes` (`http`, `grpc`…). A balancer
 * given `schemes` applies this itself and hands out the matching endpoint; use this filter
 * where only the instance list matters.
 */
export function schemeFilter(...schemes: string[]): Filter {
  const wanted = new Set(schemes.map((s) => s.replace(/:$/, '')))
  return (instances) =>
    instances.filter((instance) =>
      instance.endpoints.some((url) => wanted.has(url.slice(0, url.indexOf(':')))),
    )
}

/**
 * Keeps the instances `prefer` keeps when there are any, else all of them: locality with
 * failover, e.g. `preferFilter(metadataFilter({ zone: 'a' }))`.
 */
export function preferFilter(prefer: Filter): Filter {
  return (instances) => {
    const preferred = prefer(instances)
    return preferred.length > 0 ? preferred : instances
  }
}

/** Runs `filters` in order. */
export function applyFilters(
  instances: readonly ServiceInstance[],
  filters: readonly Filter[],
): readonly ServiceInstance[] {
  return filters.reduce((list, filter) => filter(list), instances)
}
