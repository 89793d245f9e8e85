import type { Endpoint, ServiceInstance } from '@grapevine/core'

/** One instance a balancer may pick, with the endpoint callers will use. */
export interface Candidate {
  /** Stable identity for per-instance picker state: instance id and endpoint URL. */
  readonly key: string
  readonly instance: ServiceInstance
  readonly endpoint: Endpoint
}

/** How one call made on a picked candidate went; feeds load-aware pickers (p2c). */
export interface CallReport {
  /** Set when the call failed. */
  readonly error?: unknown
  /** Time from pick to the end of the call. */
  readonly latencyMs: number
}

/** A picker's choice and, for pickers that track load, what to call when the call ends. */
export interface Picked {
  readonly candidate: Candidate
  readonly done?: (report: CallReport) => void
}

/**
 * A load-balancing policy (go-kratos `selector.Balancer`). Pickers are stateful and belong to
 * one balancer: create one per service.
 */
export interface Picker {
  /** Chooses one of `candidates`, which is never empty and sorted by key. */
  pick(candidates: readonly Candidate[]): Picked
  /** The candidate list changed: forget state kept for keys that are gone. */
  update?(candidates: readonly Candidate[]): void
}

/** A source of uniform numbers in [0, 1), like `Math.random`; inject a seeded one in tests. */
export type RandomSource = () => number

/** A monotonic clock in milliseconds, like `performance.now`; inject a fake one in tests. */
export type Clock = () => number

/** A uniform index in [0, n). */
export function randomIndex(random: RandomSource, n: number): number {
  // Guard against sources that return exactly 1 (or slightly above through rounding).
  return Math.min(n - 1, Math.floor(random() * n))
}
