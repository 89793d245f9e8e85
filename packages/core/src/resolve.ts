import type { MemberState } from './agent-api.js'
import type { Claim } from './claim.js'
import { compareVectors, vectorSum } from './version-vector.js'

/** The outcome of resolving one instance id from its claims. */
export interface Resolution {
  /** The claim the view shows; undefined when no live, visible claim remains. */
  readonly winner: Claim | undefined
  /**
   * Origins of the maximal (mutually concurrent) live claims, winner first. More than one
   * means several live nodes claim the id concurrently: a conflict.
   */
  readonly claimants: readonly string[]
}

const NONE: Resolution = Object.freeze({ winner: undefined, claimants: Object.freeze([]) })

/**
 * An origin's claims are visible unless the origin is known to be dead or to have left.
 * An origin never heard directly (known only through relayed claims) is visible: absence of
 * evidence is not evidence of death, and liveness will tell when it is.
 */
export function isVisibleState(state: MemberState | undefined): boolean {
  return state !== 'dead' && state !== 'left'
}

/**
 * The deterministic order between concurrent claims: larger vector sum first, then larger
 * origin id. Every replica holding the same claims therefore picks the same winner.
 */
export function compareClaimants(a: Claim, b: Claim): number {
  const sumA = vectorSum(a.vv)
  const sumB = vectorSum(b.vv)
  if (sumA !== sumB) return sumB - sumA
  return a.origin < b.origin ? 1 : a.origin > b.origin ? -1 : 0
}

/**
 * Resolves one instance id from every stored claim for it (any origin, live or tombstone).
 *
 * Rules:
 * 1. Only live claims (`instance !== null`) of visible origins take part.
 * 2. A claim whose vector is strictly before another participant's is superseded and dropped.
 * 3. Among what remains (pairwise concurrent), `compareClaimants` picks the winner.
 *
 * A tombstone is its own key `(origin, id)`: it removes only that origin's claim (the replica
 * already replaced it) and never hides another origin's live claim, even one it dominates.
 * Pure; O(k²) in the number of claims for the id, which is almost always one or two.
 */
export function resolve(
  claims: readonly Claim[],
  isVisible: (origin: string) => boolean,
): Resolution {
  // Fast path: the common case is a single claim.
  if (claims.length === 1) {
    const only = claims[0]!
    if (only.instance === null || !isVisible(only.origin)) return NONE
    return { winner: only, claimants: [only.origin] }
  }
  const live: Claim[] = []
  for (const claim of claims) {
    if (claim.instance !== null && isVisible(claim.origin)) live.push(claim)
  }
  if (live.length === 0) return NONE
  const maximal = live.filter((claim) =>
    live.every((other) => other === claim || compareVectors(claim.vv, other.vv) !== 'before'),
  )
  maximal.sort(compareClaimants)
  return { winner: maximal[0], claimants: maximal.map((claim) => claim.origin) }
}
