import { type Seal, type SyncPart, type Verifier, verifyClaim, verifySeal } from '@grapevine/core'
import type { DropReason } from './errors.js'

/**
 * The checks on a sync part that a node other than its origin sent (a relay). Noise
 * authenticates the sender of a stream, so a part from the origin itself needs no signature
 * check: it can only hurt its own origin. A relayed one is taken only as far as its origin
 * signed it:
 * - its seal (the origin's signed `{gen, covered, floor}`) must verify, be of the part's
 *   generation, and cover the part's range and level: a relay cannot invent a generation
 *   (2^53 − 1 wiped an origin everywhere) or coverage (+1,000,000 hid later writes);
 * - each claim must carry its origin's signature; the part is cut just before the first one
 *   that does not (dropped on its own, the rest of the frame applies).
 * What it leaves out is the replica's concern (`PartOptions.relayed`).
 */

export type RelayVerdict =
  | { readonly ok: true; readonly part: SyncPart; readonly forged: number }
  | { readonly ok: false; readonly reason: DropReason; readonly detail: string }

export interface RelayCheck {
  check(part: SyncPart): RelayVerdict
  /** Signatures verified so far (seals and claims), for the cost figures. */
  readonly verified: number
}

/** Seals verified recently (by signature bytes): relays resend the same seal many times. */
const SEAL_CACHE_SIZE = 4_096

export function createRelayCheck(cluster: string, verifier: Verifier): RelayCheck {
  const sealsSeen = new Set<string>()
  let verified = 0

  function sealValid(seal: Seal): boolean {
    const key = `${seal.origin}:${Buffer.from(seal.sig).toString('base64')}`
    if (sealsSeen.has(key)) return true
    verified++
    if (!verifySeal(cluster, verifier, seal)) return false
    if (sealsSeen.size >= SEAL_CACHE_SIZE) sealsSeen.delete(sealsSeen.values().next().value!)
    sealsSeen.add(key)
    return true
  }

  return {
    get verified() {
      return verified
    },
    check(part) {
      const seal = part.seal
      if (seal === undefined) {
        return { ok: false, reason: 'seal', detail: `relayed part of ${part.origin} has no seal` }
      }
      if (
        seal.gen !== part.gen ||
        part.covered > seal.covered ||
        (part.floor ?? 0) > seal.covered
      ) {
        return {
          ok: false,
          reason: 'seal',
          detail: `part ${part.origin} gen ${part.gen} to ${part.covered} is beyond its seal (gen ${seal.gen} to ${seal.covered})`,
        }
      }
      if (!sealValid(seal)) {
        return { ok: false, reason: 'signature', detail: `seal of ${part.origin} does not verify` }
      }
      for (const [i, claim] of part.claims.entries()) {
        verified++
        if (verifyClaim(cluster, verifier, claim)) continue
        const claims = part.claims.slice(0, i)
        return {
          ok: true,
          part: { ...part, covered: claim.seq - 1, claims },
          forged: part.claims.length - i,
        }
      }
      return { ok: true, part, forged: 0 }
    },
  }
}
