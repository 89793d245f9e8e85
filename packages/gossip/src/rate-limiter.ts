/**
 * A token bucket per peer: at most `burst` messages at once and `perSecond` sustained. The
 * topic validator checks it before decoding, so a flooding peer's excess costs a map lookup;
 * what it sends past the rate is ignored (not relayed, not penalised: an honest relay of a
 * burst may hit it too, and anti-entropy repairs what was skipped). Pure: the clock is injected.
 */
export interface RateLimiter {
  /** True if `peer` may send one more message now (and takes a token). */
  take(peer: string): boolean
  /** Forgets peers idle long enough to be full again (bounds the map). */
  prune(): void
}

export interface RateLimiterInit {
  perSecond: number
  burst: number
  now: () => number
}

export function createRateLimiter(init: RateLimiterInit): RateLimiter {
  const { perSecond, burst, now } = init
  const buckets = new Map<string, { tokens: number; at: number }>()
  return {
    take(peer) {
      const time = now()
      const bucket = buckets.get(peer) ?? { tokens: burst, at: time }
      bucket.tokens = Math.min(burst, bucket.tokens + ((time - bucket.at) * perSecond) / 1_000)
      bucket.at = time
      buckets.set(peer, bucket)
      if (bucket.tokens < 1) return false
      bucket.tokens -= 1
      return true
    },
    prune() {
      const time = now()
      const full = (burst / perSecond) * 1_000
      for (const [peer, bucket] of buckets) if (time - bucket.at > full) buckets.delete(peer)
    },
  }
}
