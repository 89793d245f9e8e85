import type { AgentHost, ClockOffset } from './agent-host.js'
import type { SeenEvent } from './protocol.js'

/** When one agent saw one instance come or go, on the benchmark's clock (offset removed). */
export interface Sighting {
  t: number
  cause: string
}

/** The agent `index` of host `label`, as the log names it. */
export const agentKey = (label: string, index: number): string => `${label}/${index}`

/**
 * Every add and delete that the hosts' `events()` streams reported, by instance id and by
 * observing agent: the first add, the last delete, and how often an instance came back after
 * a delete (which, for a dead node's instances, would be a flap).
 */
export class EventLog {
  readonly adds = new Map<string, Map<string, Sighting>>()
  readonly deletes = new Map<string, Map<string, Sighting>>()
  /** The latest add after a delete, by instance and observer (a paused node coming back). */
  readonly readds = new Map<string, Map<string, Sighting>>()
  /** Every delete, in order (the CPU-hog scenario counts false deaths in it). */
  readonly deleteLog: { id: string; key: string; t: number; cause: string }[] = []
  readbacks = 0
  private readonly waiters = new Set<() => void>()

  /** Follows `host`'s events; its times are moved onto our clock by `offset`. */
  attach(host: AgentHost, offset: ClockOffset): void {
    host.onEvent((event) => this.record(event, host.label, offset.offsetMs))
  }

  record(event: SeenEvent, label: string, offsetMs: number): void {
    const key = agentKey(label, event.a)
    const sighting = { t: event.t - offsetMs, cause: event.cause }
    if (event.op === 'add') {
      let seen = this.adds.get(event.id)
      if (seen === undefined) {
        seen = new Map()
        this.adds.set(event.id, seen)
      }
      if (!seen.has(key)) seen.set(key, sighting)
      if (this.deletes.get(event.id)?.has(key)) {
        this.readbacks++
        let back = this.readds.get(event.id)
        if (back === undefined) {
          back = new Map()
          this.readds.set(event.id, back)
        }
        back.set(key, sighting)
      }
    } else if (event.op === 'delete') {
      let gone = this.deletes.get(event.id)
      if (gone === undefined) {
        gone = new Map()
        this.deletes.set(event.id, gone)
      }
      gone.set(key, sighting)
      this.deleteLog.push({ id: event.id, key, t: sighting.t, cause: event.cause })
    }
    for (const waiter of this.waiters) waiter()
  }

  /**
   * Resolves true as soon as `condition` holds (checked now and after every recorded event),
   * or false after `timeoutMs`.
   */
  waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    if (condition()) return Promise.resolve(true)
    return new Promise<boolean>((resolve) => {
      const done = (result: boolean): void => {
        clearTimeout(timer)
        this.waiters.delete(check)
        resolve(result)
      }
      const check = (): void => {
        if (condition()) done(true)
      }
      const timer = setTimeout(() => done(false), timeoutMs)
      this.waiters.add(check)
    })
  }

  /** True when every one of `observers` has an add of `id`. */
  addedEverywhere(id: string, observers: readonly string[]): boolean {
    const seen = this.adds.get(id)
    return seen !== undefined && observers.every((key) => seen.has(key))
  }

  /** True when every one of `observers` has a delete of each of `ids`, at or after `since`. */
  deletedEverywhere(
    ids: readonly string[],
    observers: readonly string[],
    since = Number.NEGATIVE_INFINITY,
  ): boolean {
    return ids.every((id) => {
      const gone = this.deletes.get(id)
      return (
        gone !== undefined && observers.every((key) => (gone.get(key)?.t ?? -Infinity) >= since)
      )
    })
  }

  /** How many (id, observer) pairs of `ids` and `observers` saw a delete so far. */
  deletesSeen(ids: readonly string[], observers: readonly string[]): number {
    let count = 0
    for (const id of ids) {
      const gone = this.deletes.get(id)
      for (const key of observers) if (gone?.has(key)) count++
    }
    return count
  }
}
