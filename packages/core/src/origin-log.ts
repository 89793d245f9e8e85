import { type Claim, estimateClaimBytes } from './claim.js'
import type { Seal } from './signing.js'

/**
 * Received seq ranges beyond `covered` are remembered (as disjoint, sorted `[from, to]` pairs)
 * so that `covered` jumps over them once the hole before them fills. This makes the result of
 * merging independent of delivery order. The list is bounded: forgetting a range only delays
 * coverage until a sync re-sends it, it never loses a claim.
 */
export const MAX_PENDING_RANGES = 32

/**
 * Everything a replica holds of one origin's current generation: its claims by instance id,
 * the same claims in seq order (for sync parts), what seqs it covers, its GC floor, and the
 * local receive time of each tombstone (the only per-claim metadata, and only for tombstones).
 *
 * Internal to the replica: it stores without judging; `replica.ts` applies the merge rules.
 */
export class OriginLog {
  /** Every write up to here is reflected in the claims (exact prefix). */
  covered = 0
  /** Tombstones at or below it may be missing; above `covered` while receiving a snapshot. */
  floor = 0
  /** Flat `[from, to, from, to, …]` exact ranges above `covered + 1`, ascending; null when none. */
  private pending: number[] | null = null
  readonly byId = new Map<string, Claim>()
  /** Claims in arrival order; may hold replaced or removed claims (`stale`) until compacted. */
  private order: Claim[] = []
  private sorted = true
  private stale = 0
  /** Receive time of each stored tombstone, in insertion order, i.e. ascending time. */
  tombstones: Map<string, number> | null = null
  /** Estimated bytes of the stored claims (`estimateClaimBytes`), for the origin's quota. */
  bytes = 0
  /** The newest seal of this generation received (or, for our own origin, unused). */
  seal: Seal | undefined = undefined

  constructor(readonly gen: number) {}

  /** True while a snapshot cut below its level is being received (see `SyncPart.floor`). */
  get receivingSnapshot(): boolean {
    return this.floor > this.covered
  }

  /** True when the writes at `seq` are known: at or below `covered`, or in a pending range. */
  knows(seq: number): boolean {
    if (seq <= this.covered) return true
    const pending = this.pending
    if (pending === null) return false
    for (let i = 0; i < pending.length; i += 2) {
      if (seq < pending[i]!) return false
      if (seq <= pending[i + 1]!) return true
    }
    return false
  }

  /** Extends `covered` to `to` (the caller checked contiguity), then over adjoining ranges. */
  join(to: number): void {
    if (to > this.covered) this.covered = to
    const pending = this.pending
    if (pending === null) return
    let i = 0
    while (i < pending.length && pending[i]! <= this.covered + 1) {
      if (pending[i + 1]! > this.covered) this.covered = pending[i + 1]!
      i += 2
    }
    if (i > 0) pending.splice(0, i)
    if (pending.length === 0) this.pending = null
  }

  /**
   * Restarts coverage at a snapshot: exact up to `covered`, at level `floor`. While the
   * snapshot is incomplete, ranges at or below its level are forgotten: they were not
   * reconciled against the deletions the level stands for.
   */
  restart(covered: number, floor: number): void {
    this.covered = covered
    this.floor = floor
    if (this.pending !== null && floor > covered) {
      const kept: number[] = []
      for (let i = 0; i < this.pending.length; i += 2) {
        if (this.pending[i]! > floor) kept.push(this.pending[i]!, this.pending[i + 1]!)
      }
      this.pending = kept.length > 0 ? kept : null
    }
    this.join(covered)
  }

  /** Remembers the exact range `from..to` beyond a hole (`from > covered + 1`). */
  addPending(from: number, to: number): void {
    const ranges = this.pending ?? []
    const merged: number[] = []
    let placed = false
    let lo = from
    let hi = to
    for (let i = 0; i < ranges.length; i += 2) {
      const a = ranges[i]!
      const b = ranges[i + 1]!
      if (b + 1 < lo) merged.push(a, b)
      else if (hi + 1 < a) {
        if (!placed) merged.push(lo, hi)
        placed = true
        merged.push(a, b)
      } else {
        // Overlapping or adjacent: widen the new range and keep scanning.
        lo = Math.min(lo, a)
        hi = Math.max(hi, b)
      }
    }
    if (!placed) merged.push(lo, hi)
    // Over the bound, forget the highest ranges: they are the furthest from being needed.
    if (merged.length > 2 * MAX_PENDING_RANGES) merged.length = 2 * MAX_PENDING_RANGES
    this.pending = merged
  }

  /**
   * Stores `claim` as the current claim of its id, replacing `previous` if any. `grows` is the
   * change in estimated bytes, when the caller has it already (the replica's quota check).
   */
  put(
    claim: Claim,
    previous: Claim | undefined,
    receivedAt: () => number,
    grows = estimateClaimBytes(claim) - (previous === undefined ? 0 : estimateClaimBytes(previous)),
  ): void {
    this.byId.set(claim.id, claim)
    this.bytes += grows
    const order = this.order
    if (order.length > 0 && order[order.length - 1]!.seq > claim.seq) this.sorted = false
    order.push(claim)
    if (previous !== undefined) this.noteStale()
    if (claim.instance === null) {
      if (this.tombstones === null) this.tombstones = new Map()
      // Delete first so that Map insertion order stays receive order.
      this.tombstones.delete(claim.id)
      this.tombstones.set(claim.id, receivedAt())
    } else if (previous?.instance === null) {
      this.tombstones?.delete(claim.id)
    }
  }

  remove(claim: Claim): void {
    this.byId.delete(claim.id)
    this.bytes -= estimateClaimBytes(claim)
    if (claim.instance === null) this.tombstones?.delete(claim.id)
    this.noteStale()
  }

  private noteStale(): void {
    this.stale++
    // Compact once stale entries outnumber live ones: amortised O(1) per write, and the
    // array never grows past twice the number of stored claims.
    if (this.stale > 64 && this.stale > this.byId.size) this.compact()
  }

  private compact(): void {
    if (this.stale > 0) {
      const byId = this.byId
      this.order = this.order.filter((claim) => byId.get(claim.id) === claim)
      this.stale = 0
    }
    if (!this.sorted) {
      this.order.sort((a, b) => a.seq - b.seq)
      this.sorted = true
    }
  }

  /** Stored claims in ascending seq. The array is internal: read it, never keep or change it. */
  ordered(): readonly Claim[] {
    this.compact()
    return this.order
  }

  /** The position in `ordered()` of the first stored claim with `seq > after`. */
  firstAfter(after: number): number {
    const order = this.ordered()
    let lo = 0
    let hi = order.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (order[mid]!.seq <= after) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /** Stored claims with `after < seq <= upTo`, ascending. */
  range(after: number, upTo: number): Claim[] {
    const order = this.ordered()
    const start = this.firstAfter(after)
    let end = start
    while (end < order.length && order[end]!.seq <= upTo) end++
    return order.slice(start, end)
  }
}
