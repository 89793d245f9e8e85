import type { ServiceInstance } from '@grapevine/core'
import type { Candidate, Picker } from './picker.js'

/** Metadata key holding an instance's weight. */
export const WEIGHT_KEY = 'weight'
/** Weight of an instance without a (valid) `weight`. */
export const DEFAULT_WEIGHT = 1

/**
 * An instance's weight from its metadata: a finite, non-negative decimal number such as `3`
 * or `0.5`. Missing or invalid values (empty, negative, `NaN`, `Infinity`, `abc`) count as
 * `DEFAULT_WEIGHT`: a typo should neither drain an instance nor flood it. `0` is valid and
 * means "drained": the instance gets no traffic while any other candidate weighs more.
 */
export function instanceWeight(instance: ServiceInstance, key = WEIGHT_KEY): number {
  const raw = instance.metadata[key]
  if (raw === undefined || !/^\s*\d+(\.\d+)?\s*$/.test(raw)) return DEFAULT_WEIGHT
  const weight = Number(raw)
  return Number.isFinite(weight) ? weight : DEFAULT_WEIGHT
}

export interface WeightedInit {
  /** Metadata key read for the weight. @default 'weight' */
  key?: string
}

/**
 * Smooth weighted round-robin, nginx's algorithm: on each pick every candidate's `current`
 * grows by its weight, the largest `current` wins and pays back the total weight. It is
 * deterministic and exact — over one cycle of `sum(weights)` picks each candidate is chosen
 * `weight` times — and smooth: weights 5,1,1 give `a a b a c a a`, not `a a a a a b c`.
 * Chosen over weighted random because small clients (a few calls) still get the right ratio.
 * When every candidate weighs 0, all are treated as weight 1 rather than failing the call.
 */
export function createWeightedPicker(init: WeightedInit = {}): Picker {
  const key = init.key ?? WEIGHT_KEY
  const current = new Map<string, number>()
  return {
    pick(candidates) {
      const weights = candidates.map((c) => instanceWeight(c.instance, key))
      let total = weights.reduce((sum, w) => sum + w, 0)
      if (total === 0) {
        weights.fill(1)
        total = candidates.length
      }
      let best: Candidate | undefined
      let bestCurrent = Number.NEGATIVE_INFINITY
      candidates.forEach((candidate, i) => {
        const weight = weights[i]!
        if (weight === 0) return
        const value = (current.get(candidate.key) ?? 0) + weight
        current.set(candidate.key, value)
        if (value > bestCurrent) {
          best = candidate
          bestCurrent = value
        }
      })
      current.set(best!.key, bestCurrent - total)
      return { candidate: best! }
    },
    update(candidates) {
      const keys = new Set(candidates.map((c) => c.key))
      for (const k of current.keys()) if (!keys.has(k)) current.delete(k)
    },
  }
}
