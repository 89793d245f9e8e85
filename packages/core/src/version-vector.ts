/**
 * Version vectors over node ids. A claim's vector records every write to its instance id
 * that the writer had seen; comparing two vectors tells whether one claim supersedes the
 * other or whether they were written concurrently.
 */
export type VersionVector = Readonly<Record<string, number>>

export type Ordering = 'before' | 'after' | 'equal' | 'concurrent'

/** How `a` relates to `b`: `before` means every entry of a is ≤ b's and one is smaller. */
export function compareVectors(a: VersionVector, b: VersionVector): Ordering {
  let aLess = false
  let bLess = false
  for (const node in a) {
    const x = a[node]!
    const y = b[node] ?? 0
    if (x < y) aLess = true
    else if (x > y) bLess = true
  }
  for (const node in b) {
    if (node in a) continue
    if (b[node]! > 0) aLess = true
  }
  if (aLess && bLess) return 'concurrent'
  if (aLess) return 'before'
  if (bLess) return 'after'
  return 'equal'
}

/** Pointwise maximum. */
export function mergeVectors(a: VersionVector, b: VersionVector): VersionVector {
  const out: Record<string, number> = { ...a }
  for (const node in b) {
    const y = b[node]!
    if ((out[node] ?? 0) < y) out[node] = y
  }
  return out
}

/**
 * Largest counter (see `MAX_VECTOR_COUNTER` in claim.ts, which validates received vectors
 * against it): increments saturate here, so no write ever produces an unsafe integer.
 */
const COUNTER_CAP = 2 ** 32

/** A copy of `vv` with `node`'s entry one higher, saturating at 2^32. */
export function incrementVector(vv: VersionVector, node: string): VersionVector {
  return { ...vv, [node]: Math.min(COUNTER_CAP, (vv[node] ?? 0) + 1) }
}

/** Sum of all entries: the first key of the deterministic tie-break between concurrent claims. */
export function vectorSum(vv: VersionVector): number {
  let sum = 0
  for (const node in vv) sum += vv[node]!
  return sum
}
