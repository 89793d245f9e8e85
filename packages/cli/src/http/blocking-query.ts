import type { ChangeFeed } from './change-feed.js'

/** A result and its content index (see `contentIndex`). */
export interface Indexed<T> {
  readonly index: number
  readonly body: T
}

export interface BlockingQuery<T> {
  feed: ChangeFeed
  /** The service to watch, or undefined for all services. */
  name: string | undefined
  /** Computes the current result; called once per relevant event. */
  compute: () => Indexed<T>
  /** The index the client already has; undefined or 0 answers at once. */
  index: number | undefined
  /** Longest wait in milliseconds; the current result is returned when it runs out. */
  waitMs: number
  /**
   * Aborted when the client goes away or the server closes. A function, called only when the
   * query does block: most reads answer at once, and a signal per request (with its listener
   * and the DOMException an abort creates) is a measurable share of a fast read.
   */
  signal: () => AbortSignal
}

/**
 * Consul-style blocking query: answers as soon as the result's index differs from the one the
 * client holds, or with the unchanged result when `waitMs` runs out. Events only wake it up;
 * the answer is always recomputed from the current view, so a missed or coalesced event cannot
 * make it return stale data.
 */
export function blockingQuery<T>(query: BlockingQuery<T>): Promise<Indexed<T>> {
  const first = query.compute()
  if (query.index === undefined || query.index === 0 || first.index !== query.index) {
    return Promise.resolve(first)
  }
  const signal = query.signal()
  if (signal.aborted) return Promise.resolve(first)
  return new Promise((resolve) => {
    const finish = (result: Indexed<T>) => {
      clearTimeout(timer)
      unsubscribe()
      endUnsubscribe()
      signal.removeEventListener('abort', onAbort)
      resolve(result)
    }
    const onAbort = () => finish(query.compute())
    const timer = setTimeout(() => finish(query.compute()), query.waitMs)
    const unsubscribe = query.feed.subscribe(query.name, () => {
      const next = query.compute()
      if (next.index !== query.index) finish(next)
    })
    const endUnsubscribe = query.feed.onEnd(onAbort)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
