/** Timers, injectable so tests can drive time by hand. Handles are opaque to their users. */
export interface Scheduler {
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

/** Node's timers, unref'd: the agent's sockets keep a process alive, health checks must not. */
export const globalScheduler: Scheduler = {
  setTimeout(callback, ms) {
    return setTimeout(callback, ms).unref()
  },
  clearTimeout(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>)
  },
}
