import type { Candidate, Clock, Picker, RandomSource } from './picker.js'
import { randomIndex } from './picker.js'

export interface P2CInit {
  /** @default Math.random */
  random?: RandomSource
  /** @default performance.now */
  now?: Clock
  /**
   * Time constant τ of the latency average: a sample `Δt` after the previous one keeps
   * `exp(-Δt/τ)` of the old average, and an instance nobody calls sees its average decay
   * toward zero with the same constant, so an instance once slow or failing is tried again
   * after a while (Finagle's Peak EWMA; its default).
   * @default 10_000
   */
  decayMs?: number
  /**
   * Latency assumed for a new instance when no instance has a measurement yet. Once some
   * have, a new instance starts at their mean: a neutral prior, neither flooded nor starved.
   * @default 10
   */
  initialLatencyMs?: number
  /**
   * Latency recorded for a failed call when it failed faster than this. A refused connection
   * fails in microseconds; without a penalty p2c would prefer the dead instance.
   * @default 1_000
   */
  errorPenaltyMs?: number
}

interface Stats {
  inflight: number
  /** Peak EWMA of latency in ms; undefined until the first call ends. */
  ewma: number | undefined
  /** When `ewma` was last updated. */
  stamp: number
}

// Keeps cost proportional to in-flight calls once an idle instance's average decays to ~0.
const MIN_LATENCY_MS = 1e-3

/**
 * Power of two choices (Mitzenmacher; go-kratos `p2c`, Finagle's `P2CPeakEwma`): pick two
 * distinct candidates at random and take the one with the lower cost
 * `(inflight + 1) × latency`, where `latency` is a Peak EWMA — a sample above the average
 * replaces it at once (react to slowness fast), one below is blended in with weight
 * `1 - exp(-Δt/τ)` (forgive slowly). Ties go to the first drawn. Call `done` on every pick.
 */
export function createP2CPicker(init: P2CInit = {}): Picker {
  const random = init.random ?? Math.random
  const now = init.now ?? (() => performance.now())
  const decayMs = init.decayMs ?? 10_000
  const initialLatencyMs = init.initialLatencyMs ?? 10
  const errorPenaltyMs = init.errorPenaltyMs ?? 1_000
  const stats = new Map<string, Stats>()

  function decayed(s: Stats, at: number): number | undefined {
    if (s.ewma === undefined) return undefined
    return s.ewma * Math.exp(-Math.max(0, at - s.stamp) / decayMs)
  }

  function statsFor(candidate: Candidate): Stats {
    let s = stats.get(candidate.key)
    if (s === undefined) {
      s = { inflight: 0, ewma: undefined, stamp: now() }
      stats.set(candidate.key, s)
    }
    return s
  }

  function prior(candidates: readonly Candidate[], at: number): number {
    let sum = 0
    let count = 0
    for (const c of candidates) {
      const s = stats.get(c.key)
      const latency = s === undefined ? undefined : decayed(s, at)
      if (latency !== undefined) {
        sum += latency
        count++
      }
    }
    return count === 0 ? initialLatencyMs : sum / count
  }

  function cost(s: Stats, at: number, fallback: () => number): number {
    const latency = Math.max(decayed(s, at) ?? fallback(), MIN_LATENCY_MS)
    return (s.inflight + 1) * latency
  }

  function observe(s: Stats, sample: number): void {
    const at = now()
    if (s.ewma === undefined || sample > s.ewma) {
      s.ewma = sample
    } else {
      const w = Math.exp(-Math.max(0, at - s.stamp) / decayMs)
      s.ewma = s.ewma * w + sample * (1 - w)
    }
    s.stamp = at
  }

  return {
    pick(candidates) {
      let chosen: Candidate
      if (candidates.length === 1) {
        chosen = candidates[0]!
      } else {
        const i = randomIndex(random, candidates.length)
        let j = randomIndex(random, candidates.length - 1)
        if (j >= i) j++
        const a = candidates[i]!
        const b = candidates[j]!
        const at = now()
        let neutral: number | undefined
        const fallback = () => {
          neutral ??= prior(candidates, at)
          return neutral
        }
        chosen = cost(statsFor(b), at, fallback) < cost(statsFor(a), at, fallback) ? b : a
      }
      const s = statsFor(chosen)
      s.inflight++
      let finished = false
      return {
        candidate: chosen,
        done(report) {
          if (finished) return
          finished = true
          s.inflight = Math.max(0, s.inflight - 1)
          const latency = Math.max(0, report.latencyMs)
          observe(s, report.error === undefined ? latency : Math.max(latency, errorPenaltyMs))
        },
      }
    },
    update(candidates) {
      const keys = new Set(candidates.map((c) => c.key))
      for (const k of stats.keys()) if (!keys.has(k)) stats.delete(k)
    },
  }
}
