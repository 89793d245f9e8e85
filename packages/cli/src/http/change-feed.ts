import type { Agent, ServiceEvent } from '@grapevine/core'

export type ChangeListener = (event: ServiceEvent) => void

/**
 * One subscription to the agent's events, fanned out to blocking queries and SSE streams.
 * Listeners unsubscribe synchronously, which an async iterator per request could not do (its
 * `return()` waits for the pending `next()`), so a closed request never leaks a reader.
 */
export interface ChangeFeed {
  /** Calls `listener` for each event of service `name`, or of every service when undefined. */
  subscribe(name: string | undefined, listener: ChangeListener): () => void
  /** Calls `listener` once when the agent's event stream ends (the agent stopped). */
  onEnd(listener: () => void): () => void
  close(): void
}

export function createChangeFeed(
  agent: Pick<Agent, 'events'>,
  onError: (err: unknown) => void,
): ChangeFeed {
  const byName = new Map<string | undefined, Set<ChangeListener>>()
  const endListeners = new Set<() => void>()
  const iterator = agent.events()
  let closed = false

  const dispatch = (event: ServiceEvent) => {
    for (const key of [event.instance.name, undefined]) {
      for (const listener of byName.get(key) ?? []) {
        try {
          listener(event)
        } catch (err) {
          onError(err)
        }
      }
    }
  }

  void (async () => {
    try {
      for (;;) {
        const next = await iterator.next()
        if (next.done || closed) break
        dispatch(next.value)
      }
    } catch (err) {
      if (!closed) onError(err)
    } finally {
      closed = true
      for (const listener of endListeners) listener()
      endListeners.clear()
    }
  })()

  return {
    subscribe(name, listener) {
      let set = byName.get(name)
      if (set === undefined) {
        set = new Set()
        byName.set(name, set)
      }
      set.add(listener)
      return () => {
        set.delete(listener)
        if (set.size === 0 && byName.get(name) === set) byName.delete(name)
      }
    },
    onEnd(listener) {
      if (closed) {
        listener()
        return () => {}
      }
      endListeners.add(listener)
      return () => endListeners.delete(listener)
    },
    close() {
      if (closed) return
      closed = true
      // Not awaited: a generator's return() waits for its pending next(), which may be never.
      void iterator.return?.()?.catch(() => {})
      for (const listener of endListeners) listener()
      endListeners.clear()
    },
  }
}
