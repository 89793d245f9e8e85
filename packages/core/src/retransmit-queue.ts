/**
 * Dissemination by piggyback (memberlist's `TransmitLimitedQueue`): every membership update
 * this node learns rides on its next probe messages, least-sent first, until it has been sent
 * `limit` times, `retransmitMult · ceil(log10(n + 1))` for n members. Epidemic spread then
 * reaches every member in O(log n) protocol periods with high probability, and the cost per
 * message stays bounded by `maxPerMessage`. A newer update about the same member replaces
 * the queued one.
 */

/** `mult · ceil(log10(n + 1))`: how often each update is passed on. */
export function retransmitLimit(mult: number, members: number): number {
  return mult * Math.ceil(Math.log10(members + 1))
}

interface Queued<T> {
  readonly item: T
  transmits: number
  /** Insertion order: among equally-sent items, the newest goes first. */
  readonly order: number
}

export class RetransmitQueue<T> {
  private readonly items = new Map<string, Queued<T>>()
  private counter = 0

  get size(): number {
    return this.items.size
  }

  /** Queues `item` under `key` (the member it is about), replacing an older one. */
  push(key: string, item: T): void {
    this.items.set(key, { item, transmits: 0, order: this.counter++ })
  }

  /** The queued item about `key`, if any. */
  get(key: string): T | undefined {
    return this.items.get(key)?.item
  }

  /**
   * Up to `max` items to piggyback, least-transmitted (then newest) first; each taken counts
   * as one transmit and is dropped once sent `limit` times. With a `budget`, items that would
   * take the total past `budget.bytes` are left for the next message.
   */
  take(
    max: number,
    limit: number,
    skip?: (key: string) => boolean,
    budget?: { readonly bytes: number; sizeOf(item: T): number },
  ): T[] {
    if (this.items.size === 0 || max <= 0) return []
    const candidates = [...this.items].filter(([key]) => skip === undefined || !skip(key))
    candidates.sort(([, a], [, b]) => a.transmits - b.transmits || b.order - a.order)
    const out: T[] = []
    let room = budget?.bytes ?? Number.POSITIVE_INFINITY
    for (const [key, queued] of candidates) {
      if (out.length >= max) break
      if (budget !== undefined) {
        const size = budget.sizeOf(queued.item)
        if (size > room) continue
        room -= size
      }
      out.push(queued.item)
      queued.transmits++
      if (queued.transmits >= limit) this.items.delete(key)
    }
    return out
  }

  clear(): void {
    this.items.clear()
  }
}
