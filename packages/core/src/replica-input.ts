import type { Claim } from './claim.js'
import { ValidationError } from './errors.js'
import type { Delta, SyncPart } from './replica-types.js'

function isSeq(value: unknown, allowZero: boolean): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= (allowZero ? 0 : 1)
}

/**
 * Checks that an input is internally consistent before anything is stored, so a bad input
 * leaves the replica untouched. Claim contents are the wire's job (`validateClaim`); this only
 * checks what the merge relies on: every claim belongs to the envelope's origin and
 * generation, seqs are strictly ascending and inside the declared range.
 */
function checkEnvelope(kind: string, input: Delta | SyncPart, from: number, to: number): void {
  if (typeof input.origin !== 'string' || input.origin.length === 0) {
    throw new ValidationError(`${kind}.origin`, 'must be a non-empty string')
  }
  if (!isSeq(input.gen, false))
    throw new ValidationError(`${kind}.gen`, 'must be a positive integer')
  let last = from - 1
  for (const claim of input.claims) {
    if (claim.origin !== input.origin || claim.gen !== input.gen) {
      throw new ValidationError(`${kind}.claims`, `must all be of ${kind}.origin and ${kind}.gen`)
    }
    if (!isSeq(claim.seq, false) || claim.seq <= last || claim.seq > to) {
      throw new ValidationError(
        `${kind}.claims`,
        `seqs must ascend strictly within ${from}..${to} (got ${claim.seq})`,
      )
    }
    last = claim.seq
  }
}

/**
 * The level of a part from a sender that does not state it: the highest seq in `1..covered`
 * it does not carry. Anything missing from an exact range was replaced or collected at the
 * sender, and we cannot tell which, so the level covers every hole. Safe, but a cut snapshot
 * at this level may need to restart rather than continue.
 */
function highestHole(claims: readonly Claim[], covered: number): number {
  let expected = covered
  for (let i = claims.length - 1; i >= 0 && claims[i]!.seq === expected; i--) expected--
  return expected
}

/** Throws `ValidationError` unless the DELTA's range and claims are consistent. */
export function checkDelta(delta: Delta): void {
  if (!isSeq(delta.fromSeq, false) || !isSeq(delta.toSeq, false) || delta.toSeq < delta.fromSeq) {
    throw new ValidationError('delta.fromSeq', 'must be a positive integer no greater than toSeq')
  }
  checkEnvelope('delta', delta, delta.fromSeq, delta.toSeq)
}

/** Throws `ValidationError` unless the part's range, level and claims are consistent. */
export function checkPart(part: SyncPart): void {
  if (!isSeq(part.after, true) || !isSeq(part.covered, true) || part.covered < part.after) {
    throw new ValidationError('part.covered', 'must be a non-negative integer no less than after')
  }
  if (part.floor !== undefined && !isSeq(part.floor, true)) {
    throw new ValidationError('part.floor', 'must be a non-negative integer')
  }
  checkEnvelope('part', part, part.after + 1, part.covered)
}

/** The part's level (`SyncPart.floor`), derived safely when the sender did not state it. */
export function partLevel(part: SyncPart): number {
  return part.floor ?? highestHole(part.claims, part.covered)
}
