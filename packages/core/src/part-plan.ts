import { estimateClaimBytes } from './claim.js'
import type { OriginLog } from './origin-log.js'
import type { OriginState, SyncPart } from './replica-types.js'

/** Estimated bytes of a part's envelope (origin, gen, flags, seqs), counted against the budget. */
const PART_OVERHEAD_BYTES = 32

/** Which range of an origin to send a peer, and at what level (`SyncPart.floor`). */
export interface PartPlan {
  readonly full: boolean
  readonly after: number
  readonly level: number
}

/**
 * What a peer at `theirs` needs of an origin we hold as `log`; undefined when nothing.
 *
 * - Unknown origin or older generation: a snapshot from seq 1 at our floor.
 * - Peer ahead or equal: nothing.
 * - Peer at or above our floor: an increment from its `covered` (it lacks no tombstone we lack).
 * - Peer below our floor: a snapshot, since it may hold claims whose tombstones are gone.
 * - Peer inside a snapshot (its floor above its covered, see `OriginLog.receivingSnapshot`):
 *   continue it at its level if we cover that level and lack no tombstone above it, restart it
 *   at our level if ours is higher, else leave it to a peer that can. Restarts only go up in
 *   level, so two senders cannot take turns restarting one receiver.
 */
export function planPart(log: OriginLog, theirs: OriginState | undefined): PartPlan | undefined {
  if (theirs === undefined || theirs.gen < log.gen)
    return { full: true, after: 0, level: log.floor }
  if (theirs.gen > log.gen || log.covered <= theirs.covered) return undefined
  if (theirs.floor > theirs.covered) {
    if (log.floor <= theirs.floor && theirs.floor <= log.covered) {
      return { full: true, after: theirs.covered, level: theirs.floor }
    }
    return log.floor > theirs.floor ? { full: true, after: 0, level: log.floor } : undefined
  }
  if (theirs.covered >= log.floor) return { full: false, after: theirs.covered, level: log.floor }
  return { full: true, after: 0, level: log.floor }
}

/**
 * The planned part, cut to `room` bytes at a claim boundary. `mustSend` forces the first claim
 * out even when it alone is over budget, so every call makes progress. Scuttlebutt rule: a cut
 * part declares `covered` = the last seq it carries, so the peer never skips a seq.
 */
export function cutPart(
  origin: string,
  log: OriginLog,
  plan: PartPlan,
  room: number,
  mustSend: boolean,
): { part: SyncPart; bytes: number; cut: boolean } {
  const { full, after, level } = plan
  const envelope = { origin, gen: log.gen, full, after, floor: level }
  let bytes = PART_OVERHEAD_BYTES + origin.length
  if (bytes > room && !mustSend) {
    return { part: { ...envelope, covered: after, claims: [] }, bytes: 0, cut: true }
  }
  // Walked in place up to the budget: a copy of the whole rest of the range (up to 100k claims
  // per reply in a join, and again for every `stillAhead` probe) cost the sender ~60 ms a join.
  const order = log.ordered()
  const start = log.firstAfter(after)
  let end = start
  let cut = false
  for (; end < order.length && order[end]!.seq <= log.covered; end++) {
    const claimBytes = estimateClaimBytes(order[end]!)
    if (bytes + claimBytes > room && !(mustSend && end === start)) {
      cut = true
      break
    }
    bytes += claimBytes
  }
  const claims = order.slice(start, end)
  const count = claims.length
  const covered = cut ? (count === 0 ? after : claims[count - 1]!.seq) : log.covered
  return { part: { ...envelope, covered, claims }, bytes, cut }
}
