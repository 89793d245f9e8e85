import type { Claim } from '@grapevine/core'

/**
 * A claim as it travels inside a DELTA or a sync part: the envelope already names its origin
 * and generation, and a live instance's `id` and `node` equal the claim's id and origin, so
 * those copies stay home (a peer id is 52 characters; this is about 40% of a sync's bytes).
 * `schema.ts` puts them back from the envelope before validating.
 */
export function compactClaim(claim: Claim): object {
  const { id, seq, vv, instance, sig } = claim
  const signed = sig === undefined ? {} : { sig }
  if (instance === null) return { id, seq, vv, instance: null, ...signed }
  const { id: _id, node: _node, ...fields } = instance
  return { id, seq, vv, instance: fields, ...signed }
}

/**
 * The msgpack bytes of each claim's compact form, encoded once and kept for as long as the
 * claim object lives. Serving a 100k-instance join re-encoded every claim: ~1 s of the
 * holder's CPU per joiner (10 µs a claim in msgpackr), on the core the joiner's GC threads
 * needed, and ~100 MB of garbage a join, which is what brought the holder's full GCs into
 * the join (its tail). From the cache a reply is copies: ~0.1 µs a claim.
 *
 * Never stale: the key is the claim object itself, and a claim is immutable (frozen, with a
 * frozen instance and vector; a new write is a new object). A claim that is not frozen is
 * encoded every time, never kept. Bounded: one entry per claim object still alive (a
 * WeakMap: an entry goes with its claim), each exactly its encoded size. The bytes are kept
 * as a one-byte (latin1) string: on the V8 heap at 1 byte per byte plus a 16-byte header,
 * with no backing store per entry, and copied into a frame natively.
 */
export interface ClaimBytesCache {
  /** The claim's compact msgpack bytes as a latin1 string (one char per byte). */
  bytes(claim: Claim): string
  /** Claims encoded so far (cache misses and uncacheable claims). */
  readonly encoded: number
}

/** True if nothing reachable from the claim that is encoded can change. */
function immutable(claim: Claim): boolean {
  if (!Object.isFrozen(claim) || !Object.isFrozen(claim.vv)) return false
  const instance = claim.instance
  if (instance === null) return true
  return (
    Object.isFrozen(instance) &&
    Object.isFrozen(instance.metadata) &&
    Object.isFrozen(instance.endpoints) &&
    Object.isFrozen(instance.tags) &&
    (instance.checks === undefined || Object.isFrozen(instance.checks))
  )
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')
}

/** `pack` must be the codec's msgpack encoder (context-free: no records, no bundled strings). */
export function createClaimBytesCache(pack: (value: unknown) => Uint8Array): ClaimBytesCache {
  const cache = new WeakMap<Claim, string>()
  let encoded = 0
  return {
    bytes(claim) {
      const hit = cache.get(claim)
      if (hit !== undefined) return hit
      encoded++
      const bytes = latin1(pack(compactClaim(claim)))
      if (immutable(claim)) cache.set(claim, bytes)
      return bytes
    },
    get encoded() {
      return encoded
    },
  }
}
