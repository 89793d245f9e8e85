import {
  type Discovery,
  type ServiceInstance,
  type ServiceQuery,
  type Watcher,
  WatcherClosedError,
} from '@grapevine/core'

/** A small instance for tests; `id` doubles as the name of the server behind it. */
export function instance(
  id: string,
  endpoints: string[],
  extra: Partial<Omit<ServiceInstance, 'id' | 'endpoints'>> = {},
): ServiceInstance {
  return {
    id,
    name: 'svc',
    version: 'v1',
    metadata: {},
    tags: [],
    status: 'passing',
    node: 'node-1',
    ...extra,
    endpoints,
  }
}

function matches(instance: ServiceInstance, query: ServiceQuery | undefined): boolean {
  if (query?.includeCritical !== true && instance.status === 'critical') return false
  if (query?.version !== undefined && instance.version !== query.version) return false
  if (query?.tags?.some((t) => !instance.tags.includes(t))) return false
  for (const [k, v] of Object.entries(query?.metadata ?? {})) {
    if (instance.metadata[k] !== v) return false
  }
  return true
}

/** An in-memory `Discovery` with go-kratos watcher semantics, driven by `set`. */
export interface MemoryDiscovery extends Discovery {
  /** Replaces every instance (of every service) and wakes the watchers. */
  set(instances: readonly ServiceInstance[]): void
  /** Watchers not yet stopped. */
  readonly openWatchers: number
}

export function createMemoryDiscovery(initial: readonly ServiceInstance[] = []): MemoryDiscovery {
  let all: readonly ServiceInstance[] = initial
  const wakers = new Set<() => void>()

  function list(name: string, query?: ServiceQuery): ServiceInstance[] {
    return all.filter((i) => i.name === name && matches(i, query))
  }

  return {
    getService: (name) => list(name),
    watch(name, query): Watcher {
      let first = true
      let dirty = false
      let closed = false
      let waiting: { resolve: () => void; reject: (err: Error) => void } | undefined
      const wake = () => {
        dirty = true
        const w = waiting
        waiting = undefined
        w?.resolve()
      }
      wakers.add(wake)
      return {
        async next() {
          if (closed) throw new WatcherClosedError()
          if (first && list(name, query).length > 0) {
            first = false
            dirty = false
            return list(name, query)
          }
          for (;;) {
            if (dirty) {
              dirty = false
              if (first && list(name, query).length === 0) continue
              first = false
              return list(name, query)
            }
            await new Promise<void>((resolve, reject) => {
              waiting = { resolve, reject }
            })
          }
        },
        async stop() {
          closed = true
          wakers.delete(wake)
          const w = waiting
          waiting = undefined
          w?.reject(new WatcherClosedError())
        },
      }
    },
    set(instances) {
      all = instances
      for (const wake of [...wakers]) wake()
    },
    get openWatchers() {
      return wakers.size
    },
  }
}

/** Counts how often each value occurs. */
export function tally<T>(values: Iterable<T>): Map<T, number> {
  const counts = new Map<T, number>()
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1)
  return counts
}
