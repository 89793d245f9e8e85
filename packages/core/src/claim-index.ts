import type { Claim } from './claim.js'

/** Every stored claim by instance id, across origins: what the view resolves an id from. */
export interface ClaimIndex {
  /** Adds `claim`, or puts it in place of `previous` (the same key's older claim). */
  put(claim: Claim, previous: Claim | undefined): void
  remove(claim: Claim): void
  /** The claims of one id; the array is frozen and never changes, so it may be kept. */
  get(id: string): readonly Claim[]
}

const NONE: readonly Claim[] = Object.freeze([])

function isList(entry: Claim | readonly Claim[]): entry is readonly Claim[] {
  return Array.isArray(entry)
}

/**
 * Memory matters here (one entry per instance id): a single claim, the common case, is stored
 * bare; several as a frozen array that is replaced on change, never mutated.
 */
export function createClaimIndex(): ClaimIndex {
  const index = new Map<string, Claim | readonly Claim[]>()
  return {
    put(claim, previous) {
      const entry = index.get(claim.id)
      if (entry === undefined) index.set(claim.id, claim)
      else if (!isList(entry)) {
        index.set(claim.id, entry === previous ? claim : Object.freeze([entry, claim]))
      } else {
        const list =
          previous === undefined
            ? [...entry, claim]
            : entry.map((c) => (c === previous ? claim : c))
        index.set(claim.id, Object.freeze(list))
      }
    },

    remove(claim) {
      const entry = index.get(claim.id)
      if (entry === undefined) return
      if (!isList(entry)) {
        if (entry === claim) index.delete(claim.id)
        return
      }
      const rest = entry.filter((c) => c !== claim)
      index.set(claim.id, rest.length === 1 ? rest[0]! : Object.freeze(rest))
    },

    get(id) {
      const entry = index.get(id)
      if (entry === undefined) return NONE
      return isList(entry) ? entry : [entry]
    },
  }
}
