import { type Claim, type Delta, estimateClaimBytes } from '@grapevine/core'
import { WIRE_LIMITS } from './messages.js'

/**
 * DELTA batching, serf's coalescer shape: pure functions decide how writes merge and split;
 * the batcher only drives them with a timer. A burst of registrations (an agent starting
 * with 50 instances, a health check flipping many at once) goes out as a few messages
 * instead of one per write, and no message exceeds the pubsub limit.
 */

/**
 * Room for the DELTA envelope (type, version, origin, gen, seqs, hbSeq, msgpack headers):
 * claim bytes per message are at most `pubsubMessageBytes` minus this.
 */
export const DELTA_ENVELOPE_BYTES = 1024

/** One DELTA covering `a` then `b`, or undefined if they are not contiguous writes of one origin. */
export function mergeDeltas(a: Delta, b: Delta): Delta | undefined {
  if (a.origin !== b.origin || a.gen !== b.gen || b.fromSeq !== a.toSeq + 1) return undefined
  return {
    origin: a.origin,
    gen: a.gen,
    fromSeq: a.fromSeq,
    toSeq: b.toSeq,
    claims: [...a.claims, ...b.claims],
  }
}

/**
 * Splits a DELTA at claim boundaries so that each piece's claims fit `budgetBytes` (by
 * `estimateClaimBytes`). Pieces are contiguous: each starts right after the previous one's
 * `toSeq`, and the last ends at the input's `toSeq`, so a receiver's `covered` advances over
 * them exactly as over the whole. A claim alone over budget gets a piece of its own.
 */
export function splitDelta(delta: Delta, budgetBytes: number): Delta[] {
  const pieces: Delta[] = []
  let claims: Claim[] = []
  let bytes = 0
  let fromSeq = delta.fromSeq
  for (const claim of delta.claims) {
    const size = estimateClaimBytes(claim)
    if (claims.length > 0 && bytes + size > budgetBytes) {
      const toSeq = claims[claims.length - 1]!.seq
      pieces.push({ origin: delta.origin, gen: delta.gen, fromSeq, toSeq, claims })
      fromSeq = toSeq + 1
      claims = []
      bytes = 0
    }
    claims.push(claim)
    bytes += size
  }
  pieces.push({ origin: delta.origin, gen: delta.gen, fromSeq, toSeq: delta.toSeq, claims })
  return pieces
}

export interface DeltaBatcherInit {
  /**
   * How long writes are collected before they go out, in ms. Longer means fewer, larger
   * messages; every write waits this long before its first copy leaves. @default 5
   */
  delay?: number
  /** Estimated claim bytes per DELTA. @default 64 KiB minus `DELTA_ENVELOPE_BYTES` */
  budgetBytes?: number
}

export interface DeltaBatcherComponents {
  /** Sends a batch: contiguous, in seq order, each piece within the budget. */
  send(deltas: Delta[]): void
}

export interface DeltaBatcher {
  add(delta: Delta): void
  /** Sends what is pending now (before a HEARTBEAT or LEAVE, which must not overtake it). */
  flush(): void
  /** Drops what is pending and the timer. */
  stop(): void
}

export function createDeltaBatcher(
  init: DeltaBatcherInit,
  components: DeltaBatcherComponents,
): DeltaBatcher {
  const delay = init.delay ?? 5
  const budgetBytes = init.budgetBytes ?? WIRE_LIMITS.pubsubMessageBytes - DELTA_ENVELOPE_BYTES
  let pending: Delta[] = []
  let timer: ReturnType<typeof setTimeout> | undefined

  function flush(): void {
    clearTimeout(timer)
    timer = undefined
    if (pending.length === 0) return
    const batch = pending.flatMap((delta) => splitDelta(delta, budgetBytes))
    pending = []
    components.send(batch)
  }

  return {
    add(delta) {
      const last = pending[pending.length - 1]
      const merged = last === undefined ? undefined : mergeDeltas(last, delta)
      if (merged === undefined) pending.push(delta)
      else pending[pending.length - 1] = merged
      timer ??= setTimeout(flush, delay)
    },
    flush,
    stop() {
      clearTimeout(timer)
      timer = undefined
      pending = []
    },
  }
}
