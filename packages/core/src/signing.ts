import { Packr } from 'msgpackr'
import type { Claim } from './claim.js'

/**
 * Records that travel beyond their origin are signed by it: a claim (one write) and a seal
 * (the origin's statement of how far its writes go). Core defines what is signed, the
 * canonical bytes, and the two interfaces; the network layer implements them with the node's
 * key (Ed25519, the libp2p identity) and checks a signature against the origin's peer id.
 * Core stays pure: signing and verifying are injected.
 */

/** Signs with this node's private key. */
export interface Signer {
  sign(bytes: Uint8Array): Uint8Array
}

/** Checks that `sig` over `bytes` was made by the key of node `origin` (its peer id). */
export interface Verifier {
  verify(origin: string, bytes: Uint8Array, sig: Uint8Array): boolean
}

/**
 * An origin's signed statement about its own log, for one generation: it has written every
 * seq up to `covered`, and it has garbage collected tombstones up to `floor`. Relays pass the
 * newest seal they hold along with the origin's claims; a receiver takes an origin's
 * generation and coverage from a verified seal only, never from a relayed number.
 */
export interface Seal {
  readonly origin: string
  readonly gen: number
  readonly covered: number
  readonly floor: number
  readonly sig: Uint8Array
}

/** Longest signature accepted (Ed25519 is 64 bytes). */
export const MAX_SIGNATURE_BYTES = 128

// Canonical bytes: msgpack of a fixed-order array with sorted maps, independent of how the
// object was built or decoded. The leading tag keeps a claim's bytes from ever being read as
// a seal's (or as a message of another protocol signed with the same key).
const packr = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true })

function sortedEntries(record: Readonly<Record<string, string | number>>): (string | number)[] {
  const out: (string | number)[] = []
  for (const key of Object.keys(record).sort()) out.push(key, record[key]!)
  return out
}

/**
 * What the origin signs for a claim: every field of it, and the cluster it was written in.
 * Check summaries (added after the format was first fixed) are appended only when the instance
 * has some, so the bytes of an instance without checks are what they always were.
 */
export function claimSigningBytes(cluster: string, claim: Claim): Uint8Array {
  const { instance } = claim
  const checks = instance?.checks
  const body =
    instance === null
      ? null
      : [
          instance.name,
          instance.version,
          sortedEntries(instance.metadata),
          instance.endpoints,
          instance.tags,
          instance.status,
          ...(checks === undefined || checks.length === 0
            ? []
            : [checks.map((check) => [check.id, check.name, check.status, check.output])]),
        ]
  return packr.pack([
    'grapevine/claim/2',
    cluster,
    claim.origin,
    claim.gen,
    claim.seq,
    claim.id,
    sortedEntries(claim.vv),
    body,
  ])
}

/** What the origin signs for a seal. */
export function sealSigningBytes(cluster: string, seal: Omit<Seal, 'sig'>): Uint8Array {
  return packr.pack(['grapevine/seal/2', cluster, seal.origin, seal.gen, seal.covered, seal.floor])
}

/** A signer and the cluster it signs for: what a claim writer needs. */
export interface ClaimSigning {
  readonly cluster: string
  readonly signer: Signer
}

/** The claim with its origin's signature. */
export function signClaim(signing: ClaimSigning, claim: Claim): Claim {
  return Object.freeze({
    ...claim,
    sig: signing.signer.sign(claimSigningBytes(signing.cluster, claim)),
  })
}

/** A seal of this origin's log, signed. */
export function signSeal(signing: ClaimSigning, body: Omit<Seal, 'sig'>): Seal {
  return Object.freeze({
    ...body,
    sig: signing.signer.sign(sealSigningBytes(signing.cluster, body)),
  })
}

/** True if the claim carries a valid signature of its origin. */
export function verifyClaim(cluster: string, verifier: Verifier, claim: Claim): boolean {
  const sig = claim.sig
  if (sig === undefined) return false
  return verifier.verify(claim.origin, claimSigningBytes(cluster, claim), sig)
}

/** True if the seal carries a valid signature of its origin. */
export function verifySeal(cluster: string, verifier: Verifier, seal: Seal): boolean {
  return verifier.verify(seal.origin, sealSigningBytes(cluster, seal), seal.sig)
}
