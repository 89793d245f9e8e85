import { createHash } from 'node:crypto'

/**
 * Monotonic blocking-query indexes, for clients that need the index to grow (Consul's): the
 * consul npm client's watch, Prometheus and go-kit compare with `>` and ignore a lower index.
 * The native API's content hash has no order, so each query key (route, name and filters)
 * keeps the hash it last answered with and the index it got; when the hash changes, the key
 * takes the next tick of one clock. The clock starts at the wall-clock milliseconds of the
 * process start, so an agent restart does not hand out lower indexes than before.
 *
 * Keys are kept for the last `maxKeys` distinct queries (filters come from clients, so the
 * set is bounded); a forgotten key just gets a fresh index, which wakes a blocked client
 * once, harmlessly.
 */
export interface IndexClock {
  /** The index for `key` whose answer hashes to `hash`. */
  indexFor(key: string, hash: string): number
}

export function createIndexClock(start: number, maxKeys = 4096): IndexClock {
  let clock = start
  const keys = new Map<string, { hash: string; index: number }>()
  return {
    indexFor(key, hash) {
      const known = keys.get(key)
      if (known !== undefined && known.hash === hash) return known.index
      clock += 1
      keys.delete(key)
      keys.set(key, { hash, index: clock })
      if (keys.size > maxKeys) keys.delete(keys.keys().next().value!)
      return clock
    },
  }
}

/** A hash of any JSON answer, for `indexFor`. */
export function hashJson(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('base64')
}
