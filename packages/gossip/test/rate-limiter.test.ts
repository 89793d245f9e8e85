import { describe, expect, it } from 'vitest'
import { createRateLimiter } from '../src/rate-limiter.js'

describe('per-peer rate limit (finding 6)', () => {
  it('allows a burst, then the sustained rate, per peer', () => {
    let time = 0
    const limiter = createRateLimiter({ perSecond: 10, burst: 5, now: () => time })
    const taken = Array.from({ length: 8 }, () => limiter.take('a'))
    expect(taken).toEqual([true, true, true, true, true, false, false, false])
    expect(limiter.take('b')).toBe(true)
    time += 300 // three tokens back
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([
      true,
      true,
      true,
      false,
    ])
    time += 60_000
    limiter.prune()
    expect(limiter.take('a')).toBe(true)
  })
})
