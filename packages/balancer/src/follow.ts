import type { Discovery, ServiceInstance, ServiceQuery } from '@grapevine/core'

/** A running watch of one service. */
export interface Following {
  /** Stops the watcher; `onList` is not called afterwards. */
  stop(): Promise<void>
  /** Why following ended early (the watcher failed while not stopped), if it did. */
  readonly error: Error | undefined
}

/**
 * Calls `onList` with the service's instances now (as soon as the watcher has a non-empty
 * list) and after every change, until `stop()`. If the watcher fails for any reason other
 * than being stopped, following ends and the last list stays in force: Grapevine serves what
 * it last knew rather than nothing. `discovery.watch` throwing (a stopped agent) propagates.
 */
export function followService(
  discovery: Discovery,
  name: string,
  query: ServiceQuery | undefined,
  onList: (instances: readonly ServiceInstance[]) => void,
): Following {
  const watcher = discovery.watch(name, query)
  let stopped = false
  let error: Error | undefined

  void (async () => {
    for (;;) {
      let list: ServiceInstance[]
      try {
        list = await watcher.next()
      } catch (err) {
        if (!stopped) error = err instanceof Error ? err : new Error(String(err))
        return
      }
      if (stopped) return
      onList(list)
    }
  })()

  return {
    async stop() {
      if (stopped) return
      stopped = true
      await watcher.stop()
    },
    get error() {
      return error
    },
  }
}
