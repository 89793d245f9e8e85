import type { Claim } from './claim.js'
import { ValidationError } from './errors.js'
import type { ServiceInstance } from './instance.js'
import type { Delta, Replica } from './replica-types.js'
import { type ClaimSigning, signClaim } from './signing.js'
import { incrementVector, mergeVectors, type VersionVector } from './version-vector.js'

export interface ClaimWriterInit {
  /** This node's id: the origin of every claim written. */
  origin: string
  /** This node's generation; must be newer than any the replica holds for `origin`. */
  gen: number
  /** The local replica: read for version vectors and seqs, written with every batch. */
  replica: Replica
  /** Signs every claim written (a networked node). @default unsigned */
  signing?: ClaimSigning
}

/** One write: a live instance (register or update) or `null` (a tombstone: deregister). */
export interface ClaimEntry {
  readonly id: string
  readonly instance: ServiceInstance | null
}

/** Turns this node's registrations into claims of its origin. */
export interface ClaimWriter {
  /**
   * Writes a batch: one claim per entry, at consecutive seqs, applied to the replica and
   * returned as one `Delta` to publish. Throws `ValidationError` (writing nothing) when the
   * batch is empty or an instance is not this origin's or not the entry's id.
   */
  write(entries: readonly ClaimEntry[]): Delta
}

/**
 * Creates the single writer of one origin's claims.
 *
 * Rules:
 * - seq: the next after what the replica covers for our origin and generation. The replica
 *   applies our writes contiguously, so `covered` is our last seq.
 * - vv: the pointwise maximum of the vectors of every claim the replica holds for the id (any
 *   origin, tombstones included), plus one for us. The claim therefore supersedes everything
 *   we have seen of the id, and is concurrent with what we have not.
 * - On creation the writer announces the generation to the replica (an empty full part), so
 *   a sync tells peers that we restarted even before our first write, and they drop the
 *   previous generation's claims.
 */
export function createClaimWriter(init: ClaimWriterInit): ClaimWriter {
  const { origin, gen, replica, signing } = init
  const known = replica.origin(origin)
  if (known !== undefined && known.gen > gen) {
    throw new ValidationError('gen', `must be at least ${known.gen}, the newest seen for ${origin}`)
  }
  if (known === undefined || known.gen < gen) {
    replica.applyPart({ origin, gen, full: true, after: 0, covered: 0, claims: [] })
  }

  return {
    write(entries) {
      if (entries.length === 0) throw new ValidationError('entries', 'must not be empty')
      for (const { id, instance } of entries) {
        if (instance !== null && (instance.id !== id || instance.node !== origin)) {
          throw new ValidationError('instance', `must have id "${id}" and node "${origin}"`)
        }
      }
      const fromSeq = (replica.origin(origin)?.covered ?? 0) + 1
      // Vectors written earlier in this batch are not in the replica yet.
      const batchVectors = new Map<string, VersionVector>()
      const claims: Claim[] = entries.map(({ id, instance }, i) => {
        let vv = batchVectors.get(id)
        if (vv === undefined) {
          vv = {}
          for (const claim of replica.claimsFor(id)) vv = mergeVectors(vv, claim.vv)
        }
        vv = Object.freeze(incrementVector(vv, origin))
        batchVectors.set(id, vv)
        const claim: Claim = Object.freeze({ origin, gen, seq: fromSeq + i, id, vv, instance })
        return signing === undefined ? claim : signClaim(signing, claim)
      })
      const delta: Delta = Object.freeze({
        origin,
        gen,
        fromSeq,
        toSeq: fromSeq + entries.length - 1,
        claims: Object.freeze(claims),
      })
      replica.applyDelta(delta)
      return delta
    },
  }
}
