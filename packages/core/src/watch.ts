import type { ServiceEvent, Watcher } from './agent-api.js'
import { WatcherClosedError } from './errors.js'
import type { ServiceInstance } from './instance.js'

/**
 * The hub between the view and everyone who follows it: go-kratos watchers, event streams
 * and synchronous listeners. The engine `publish`es each batch of view events once; the hub
 * fans it out. No timers: delivery resolves promises, so consumers run on microtasks.
 */
export interface WatchHub {
  /** Delivers one batch of view events (in order) to listeners, streams and watchers. */
  publish(events: readonly ServiceEvent[]): void
  /**
   * A watcher over one service; `list` computes its current (filtered) instances from the
   * view. It wakes only when that list changes, so filters apply to wake-ups too.
   */
  watch(name: string, list: () => readonly ServiceInstance[]): Watcher
  /** Every event of one service (or of all) from now on; unbounded queue. */
  events(name?: string): AsyncIterableIterator<ServiceEvent>
  /** Synchronous listener for every event; returns an unsubscribe function. */
  onEvent(listener: (event: ServiceEvent) => void): () => void
  /** Stops every watcher (pending and later `next()` reject) and ends every stream. */
  close(): void
  readonly closed: boolean
}

interface WatcherState {
  /** Called with the service's list after a batch touched the service. */
  update(): void
  close(): void
}

interface StreamState {
  readonly name: string | undefined
  push(event: ServiceEvent): void
  end(): void
}

function sameList(a: readonly ServiceInstance[], b: readonly ServiceInstance[]): boolean {
  return a === b || (a.length === b.length && a.every((instance, i) => instance === b[i]))
}

/**
 * go-kratos semantics: the first `next()` resolves at once when the list is not empty, else
 * on the first change; later calls resolve on the next change, at once when one happened
 * since the previous call returned. A change is the filtered list becoming different
 * (element identity: the view swaps instance objects exactly when something changed).
 */
function createWatcher(
  list: () => readonly ServiceInstance[],
  detach: () => void,
): { watcher: Watcher; state: WatcherState } {
  let last = list()
  let started = false
  let dirty = false
  let closed = false
  let pending:
    | { promise: Promise<ServiceInstance[]>; resolve: (list: ServiceInstance[]) => void }
    | undefined
  let rejectPending: ((err: Error) => void) | undefined

  function wait(): Promise<ServiceInstance[]> {
    if (pending !== undefined) return pending.promise
    let resolve!: (list: ServiceInstance[]) => void
    const promise = new Promise<ServiceInstance[]>((res, rej) => {
      resolve = res
      rejectPending = rej
    })
    pending = { promise, resolve }
    return promise
  }

  const state: WatcherState = {
    update() {
      const current = list()
      if (sameList(current, last)) return
      last = current
      if (!started) return
      if (pending !== undefined) {
        const { resolve } = pending
        pending = undefined
        rejectPending = undefined
        dirty = false
        resolve([...current])
      } else {
        dirty = true
      }
    },
    close() {
      if (closed) return
      closed = true
      const reject = rejectPending
      pending = undefined
      rejectPending = undefined
      reject?.(new WatcherClosedError())
    },
  }

  const watcher: Watcher = {
    next() {
      if (closed) return Promise.reject(new WatcherClosedError())
      if (!started) {
        started = true
        last = list()
        if (last.length > 0) return Promise.resolve([...last])
        return wait()
      }
      if (dirty) {
        dirty = false
        return Promise.resolve([...last])
      }
      return wait()
    },
    async stop() {
      state.close()
      detach()
    },
  }
  return { watcher, state }
}

/** An async iterator over a FIFO fed by `push`; drains what is queued before it ends. */
function createStream(
  name: string | undefined,
  detach: () => void,
): { stream: AsyncIterableIterator<ServiceEvent>; state: StreamState } {
  let queue: ServiceEvent[] = []
  let head = 0
  let ended = false
  const waiters: ((result: IteratorResult<ServiceEvent, undefined>) => void)[] = []
  const DONE: IteratorResult<ServiceEvent, undefined> = { done: true, value: undefined }

  const state: StreamState = {
    name,
    push(event) {
      if (ended) return
      const waiter = waiters.shift()
      if (waiter !== undefined) waiter({ done: false, value: event })
      else queue.push(event)
    },
    end() {
      ended = true
      for (const waiter of waiters.splice(0)) waiter(DONE)
    },
  }

  const stream: AsyncIterableIterator<ServiceEvent> = {
    next() {
      if (head < queue.length) {
        const value = queue[head++]!
        // Compact now and then so a long-lived stream does not keep consumed events.
        if (head > 1024 && head * 2 > queue.length) {
          queue = queue.slice(head)
          head = 0
        }
        return Promise.resolve({ done: false, value })
      }
      if (ended) return Promise.resolve(DONE)
      return new Promise((resolve) => waiters.push(resolve))
    },
    return() {
      queue = []
      head = 0
      state.end()
      detach()
      return Promise.resolve(DONE)
    },
    [Symbol.asyncIterator]() {
      return stream
    },
  }
  return { stream, state }
}

export function createWatchHub(): WatchHub {
  const watchers = new Map<string, Set<WatcherState>>()
  const streams = new Set<StreamState>()
  const listeners = new Set<(event: ServiceEvent) => void>()
  let closed = false

  return {
    publish(events) {
      if (closed || events.length === 0) return
      // A throwing listener must not starve the others nor leave streams behind the view:
      // deliver everything, then rethrow the first error to the caller that changed the view.
      let failure: { error: unknown } | undefined
      for (const event of events) {
        for (const listener of listeners) {
          try {
            listener(event)
          } catch (error) {
            failure ??= { error }
          }
        }
        for (const stream of streams) {
          if (stream.name === undefined || stream.name === event.instance.name) stream.push(event)
        }
      }
      const touched = new Set<string>()
      for (const event of events) touched.add(event.instance.name)
      for (const name of touched) {
        const set = watchers.get(name)
        if (set !== undefined) for (const watcher of set) watcher.update()
      }
      if (failure !== undefined) throw failure.error
    },

    watch(name, list) {
      if (closed) {
        return {
          next: () => Promise.reject(new WatcherClosedError()),
          stop: async () => {},
        }
      }
      let set = watchers.get(name)
      if (set === undefined) {
        set = new Set()
        watchers.set(name, set)
      }
      const { watcher, state } = createWatcher(list, () => {
        const current = watchers.get(name)
        current?.delete(state)
        if (current?.size === 0) watchers.delete(name)
      })
      set.add(state)
      return watcher
    },

    events(name) {
      const { stream, state } = createStream(name, () => streams.delete(state))
      if (closed) state.end()
      else streams.add(state)
      return stream
    },

    onEvent(listener) {
      listeners.add(listener)
      return () => {
        listeners.delete(listener)
      }
    },

    close() {
      if (closed) return
      closed = true
      for (const set of watchers.values()) for (const watcher of set) watcher.close()
      watchers.clear()
      for (const stream of streams) stream.end()
      streams.clear()
      listeners.clear()
    },

    get closed() {
      return closed
    },
  }
}
