import type { MemberState } from './agent-api.js'
import type { Claim } from './claim.js'
import { compareVectors, vectorSum } from './version-vector.js'

/** The outcome of resolving one instance id from its claims. */
export interface Resolution {
  /** The claim the view shows; undefined when no live, visible claim remains. */
  readonly winner: Claim | undefined
  /**
   * Origins of every live, visible claim, winner first. More than one means several live
   * nodes claim the id: a conflict (concurrent registrations, or a takeover attempt).
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
 * Rules (DESIGN.md, "Ownership of an instance id"):
 * 1. Only live claims (`instance !== null`) of visible origins take part.
 * 2. A live owner keeps its instance: a claim whose vector is strictly after another
 *    participant's was written by a node that had seen that live claim and wrote over it.
 *    That is a takeover attempt, not a move: it loses, and the id is reported as a conflict.
 *    A move takes effect only once the old owner's claim stops taking part: its tombstone,
 *    its leave, or its death (rule 1).
 * 3. Among the claims that are after no other (the incumbents, pairwise concurrent),
 *    `compareClaimants` picks the winner.
 *
 * Every participant other than the winner is a claimant of a conflict. A tombstone is its
 * own key `(origin, id)`: it removes only that origin's claim and never hides another
 * origin's live claim. Pure; O(k²) in the number of claims for the id, almost always 1 or 2.
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
  if (live.length === 1) return { winner: live[0], claimants: [live[0]!.origin] }
  const incumbents = live.filter((claim) =>
    live.every((other) => other === claim || compareVectors(claim.vv, other.vv) !== 'after'),
  )
  incumbents.sort(compareClaimants)
  const winner = incumbents[0]!
  const others = live.filter((claim) => claim !== winner).sort(compareClaimants)
  return { winner, claimants: [winner.origin, ...others.map((claim) => claim.origin)] }
}
