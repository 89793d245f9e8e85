import type { Scheduler } from '../../src/checks/index.js'

interface Timer {
  readonly at: number
  readonly seq: number
  readonly callback: () => void
}

/**
 * A clock and scheduler that move only when a test says so, so runner tests are exact and
 * instant. `advance` fires due timers in time order and lets the promises they start settle
 * before the next one, as the event loop would.
 */
export function createManualClock(start = 0) {
  let now = start
  let seq = 0
  const timers = new Map<number, Timer>()
  const settle = () => new Promise<void>((resolve) => setImmediate(resolve))

  const scheduler: Scheduler = {
    setTimeout(callback, ms) {
      seq += 1
      timers.set(seq, { at: now + Math.max(0, ms), seq, callback })
      return seq
    },
    clearTimeout(handle) {
      timers.delete(handle as number)
    },
  }

  function nextDue(until: number): Timer | undefined {
    let next: Timer | undefined
    for (const timer of timers.values()) {
      if (timer.at > until) continue
      if (
        next === undefined ||
        timer.at < next.at ||
        (timer.at === next.at && timer.seq < next.seq)
      ) {
        next = timer
      }
    }
    return next
  }

  return {
    now: () => now,
    scheduler,
    /** Timers not yet fired. */
    pending: () => timers.size,
    /** Moves time forward by `ms`, firing every timer that falls due on the way. */
    async advance(ms: number): Promise<void> {
      const target = now + ms
      await settle()
      for (let timer = nextDue(target); timer !== undefined; timer = nextDue(target)) {
        timers.delete(timer.seq)
        now = timer.at
        timer.callback()
        await settle()
      }
      now = target
    },
  }
}
