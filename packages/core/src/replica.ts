import { type Claim, estimateClaimBytes } from './claim.js'
import { createClaimIndex } from './claim-index.js'
import { OriginLog } from './origin-log.js'
import { cutPart, planPart } from './part-plan.js'
import { checkDelta, checkPart, partLevel } from './replica-input.js'
import type {
  ApplyResult,
  Delta,
  OriginQuota,
  OriginState,
  PartOptions,
  Replica,
  ReplicaInit,
  SyncPart,
} from './replica-types.js'
import type { Seal } from './signing.js'

/**
 * Per-origin storage limits. 100,000 claims (the largest registry the join benchmark
 * measures, held by one node) and 64 MiB of estimated claim bytes (about 250 bytes per claim
 * at 100,000, with room for rich metadata): one member cannot make every agent hold
 * gigabytes (issue 9, finding 5). Raise them for nodes that register more.
 */
export const DEFAULT_ORIGIN_QUOTA: OriginQuota = Object.freeze({
  claims: 100_000,
  bytes: 64 * 1024 * 1024,
})

type Coverage = 'join' | 'pending' | 'none' | 'empty'

/**
 * True if every claim of `stored` (ascending seq) is one of `claims` (ascending seq) itself:
 * what a part just stored. The common case of a join's parts, checked without building a set
 * of the ids a part carries for each of them.
 */
function carriesAll(claims: readonly Claim[], stored: readonly Claim[]): boolean {
  let j = 0
  for (const claim of stored) {
    while (j < claims.length && claims[j]!.seq < claim.seq) j++
    if (claims[j] !== claim) return false
  }
  return true
}

/**
 * Creates the claim store with DESIGN.md's merge rules.
 *
 * Per origin `O = {gen, covered, floor}`; an input of generation `g` covers seqs
 * `fromSeq..toSeq` (DELTA) or `(after, covered]` (part).
 * 1. `g < O.gen`: the input is dropped. `g > O.gen`: the origin restarted; every claim of
 *    the older generation is dropped and `O` restarts at `{g, 0, 0}`.
 * 2. A claim replaces the stored claim of its key `(origin, id)` only if newer by seq. A
 *    claim for a key we do not hold is dropped if its seq is already known (covered, or in a
 *    range held beyond a hole): the key was deregistered or replaced since and its tombstone
 *    may be gone. This is the no-resurrection rule.
 * 3. Coverage grows only over contiguous ranges; ranges received beyond a hole are kept and
 *    joined once the hole fills, so the result does not depend on delivery order.
 * 4. Every range is exact: a DELTA holds every write of it, and a part the sender's current
 *    claims of it, so stored claims in a part's range that it does not carry are dropped.
 * 5. Floors: GC of a covered tombstone raises `floor` to its seq. A peer below our floor may
 *    hold a claim whose tombstone is gone, so it gets a snapshot (`full`, from seq 1, at our
 *    floor as its level), which it adopts. A snapshot cut at the budget below its level
 *    leaves the receiver at `floor > covered`; peers at or above that level continue it
 *    with exact parts at the same level until `covered` reaches it.
 */
export function createReplica(init: ReplicaInit): Replica {
  const { now, tombstoneTtl } = init
  const quota: OriginQuota = { ...DEFAULT_ORIGIN_QUOTA, ...init.quota }
  const origins = new Map<string, OriginLog>()
  /** Claims refused by the quota during the current apply (reset by each input). */
  let overQuota = 0
  const index = createClaimIndex()
  let size = 0

  function removeClaim(log: OriginLog, claim: Claim, changed: Set<string>): void {
    log.remove(claim)
    index.remove(claim)
    size--
    changed.add(claim.id)
  }

  function dropAll(log: OriginLog, changed: Set<string>): void {
    for (const claim of log.byId.values()) {
      index.remove(claim)
      changed.add(claim.id)
    }
    size -= log.byId.size
  }

  /** Rule 1: the log that receives an input of generation `gen`, or undefined if it is stale. */
  function logFor(
    origin: string,
    gen: number,
    changed: Set<string>,
  ): { log: OriginLog | undefined; restarted: boolean } {
    const log = origins.get(origin)
    if (log !== undefined && gen === log.gen) return { log, restarted: false }
    if (log !== undefined && gen < log.gen) return { log: undefined, restarted: false }
    if (log !== undefined) dropAll(log, changed)
    const fresh = new OriginLog(gen)
    origins.set(origin, fresh)
    return { log: fresh, restarted: log !== undefined }
  }

  /**
   * Rule 2 for each claim; returns how many were stored. A claim for a key we hold is stored
   * only if newer by seq. A claim for a key we do not hold is dropped when its seq is already
   * known (`knownUpTo`, or a pending range): we know its key was deregistered or replaced
   * since, and the tombstone may be collected. `knownUpTo` is `covered` for the input whose
   * range is accepted as exact, and `max(covered, floor)` for the others: during a snapshot,
   * only parts at its level may fill in what lies between.
   */
  function storeClaims(
    log: OriginLog,
    claims: readonly Claim[],
    knownUpTo: number,
    changed: Set<string>,
  ): number {
    let stored = 0
    let time: number | undefined
    const receivedAt = (): number => {
      time ??= now()
      return time
    }
    for (const claim of claims) {
      const previous = log.byId.get(claim.id)
      if (previous === undefined) {
        if (claim.seq <= knownUpTo || log.knows(claim.seq)) continue
      } else if (claim.seq <= previous.seq) continue
      // Estimated once: the quota and the log's byte count both need it.
      const grows =
        estimateClaimBytes(claim) - (previous === undefined ? 0 : estimateClaimBytes(previous))
      if (overLimit(log, claim, previous, grows)) {
        overQuota++
        continue
      }
      log.put(claim, previous, receivedAt, grows)
      index.put(claim, previous)
      if (previous === undefined) size++
      changed.add(claim.id)
      stored++
    }
    return stored
  }

  /**
   * The quota: a new key past `quota.claims`, or a claim that takes the origin past
   * `quota.bytes` (it `grows` the origin's estimated bytes by that much), is refused. A tombstone replacing a stored claim never is (it only shrinks).
   */
  function overLimit(
    log: OriginLog,
    claim: Claim,
    previous: Claim | undefined,
    grows: number,
  ): boolean {
    if (previous !== undefined && claim.instance === null) return false
    if (previous === undefined && log.byId.size >= quota.claims) return true
    return grows > 0 && log.bytes + grows > quota.bytes
  }

  /** Keeps the newest seal of the log's generation (the caller verified it). */
  function keepSeal(log: OriginLog, seal: Seal | undefined): void {
    if (seal === undefined || seal.gen !== log.gen) return
    if (log.seal === undefined || seal.covered > log.seal.covered) log.seal = seal
  }

  /**
   * A relayed part, cut (like a part cut at a byte budget) just before the first stored claim
   * in its range that it does not carry at that seq or later: the relay may be hiding it, so
   * the range is exact only up to there. Undefined when nothing before that is left to apply.
   */
  function trimRelayed(log: OriginLog, part: SyncPart): SyncPart | undefined {
    const inRange = log.range(part.after, part.covered)
    if (inRange.length === 0) return part
    const carried = new Map<string, number>()
    for (const claim of part.claims) carried.set(claim.id, claim.seq)
    let firstUnproven: number | undefined
    for (const claim of inRange) {
      if ((carried.get(claim.id) ?? 0) < claim.seq) {
        firstUnproven = claim.seq
        break
      }
    }
    if (firstUnproven === undefined) return part
    const covered = firstUnproven - 1
    const claims = part.claims.filter((claim) => claim.seq <= covered)
    if (claims.length === 0 && covered === part.after) return undefined
    return { ...part, covered, claims }
  }

  /** An exact range: stored claims in `(after, covered]` that the input does not carry are gone. */
  function dropUncarried(
    log: OriginLog,
    claims: readonly Claim[],
    after: number,
    covered: number,
    changed: Set<string>,
  ): void {
    const inRange = log.range(after, covered)
    if (inRange.length === 0) return
    if (carriesAll(claims, inRange)) return
    const carried = new Set<string>()
    for (const claim of claims) carried.add(claim.id)
    for (const claim of inRange) {
      if (!carried.has(claim.id)) removeClaim(log, claim, changed)
    }
  }

  /**
   * What an input's seq range `from..to` does to coverage (rule 3): `join` extends `covered`,
   * `pending` is remembered beyond a hole, `none` adds nothing. During a snapshot, a range
   * may close it only if it reaches the snapshot's level or is itself at that level
   * (`atLevel`): otherwise claims it leaves out may be stale against collected tombstones.
   */
  function coverage(log: OriginLog, from: number, to: number, atLevel: boolean): Coverage {
    if (to < from) return 'empty'
    const snapshot = log.receivingSnapshot
    if (from > log.covered + 1) return !snapshot || from > log.floor ? 'pending' : 'none'
    if (snapshot && !atLevel && to < log.floor) return 'none'
    return 'join'
  }

  function result(
    changedIds: Set<string>,
    applied: number,
    total: number,
    gap: boolean,
    restarted: boolean,
  ): ApplyResult {
    const refused = overQuota
    overQuota = 0
    return { changedIds, applied, dropped: total - applied, gap, restarted, overQuota: refused }
  }

  function applyDelta(delta: Delta): ApplyResult {
    checkDelta(delta)
    const changed = new Set<string>()
    const { log, restarted } = logFor(delta.origin, delta.gen, changed)
    if (log === undefined) return result(changed, 0, delta.claims.length, false, false)
    // A DELTA holds every write of its range, so it is exact without dropping anything.
    keepSeal(log, delta.seal)
    const effect = coverage(log, delta.fromSeq, delta.toSeq, false)
    const knownUpTo = effect === 'none' ? Math.max(log.covered, log.floor) : log.covered
    const applied = storeClaims(log, delta.claims, knownUpTo, changed)
    if (effect === 'join') log.join(delta.toSeq)
    else if (effect === 'pending') log.addPending(delta.fromSeq, delta.toSeq)
    return result(changed, applied, delta.claims.length, effect !== 'join', restarted)
  }

  function applyPart(input: SyncPart, options?: PartOptions): ApplyResult {
    checkPart(input)
    const changed = new Set<string>()
    const { log, restarted } = logFor(input.origin, input.gen, changed)
    if (log === undefined) return result(changed, 0, input.claims.length, false, false)
    keepSeal(log, input.seal)
    const part = options?.relayed === true ? trimRelayed(log, input) : input
    if (part === undefined) return result(changed, 0, input.claims.length, false, restarted)
    const { after, covered, claims } = part
    const level = partLevel(part)
    const snapshot =
      after === 0 && (log.receivingSnapshot ? level > log.floor : log.covered < level)
    if (snapshot) {
      // A snapshot (re)starts at its level: below it, what we held may hide collected deletions.
      const applied = storeClaims(log, claims, log.covered, changed)
      dropUncarried(log, claims, 0, covered, changed)
      log.restart(covered, level)
      return result(changed, applied, claims.length, false, restarted)
    }
    const effect = coverage(log, after + 1, covered, level >= log.floor)
    const exact = effect === 'join' || effect === 'pending'
    const knownUpTo = exact ? log.covered : Math.max(log.covered, log.floor)
    const applied = storeClaims(log, claims, knownUpTo, changed)
    if (exact) dropUncarried(log, claims, after, covered, changed)
    if (effect === 'join') {
      log.join(covered)
      // Tombstones the sender collected (up to its level) are now gone here too, if the range
      // reached below that level (a snapshot from seq 1; increments start above it).
      if (level > after) log.floor = Math.max(log.floor, Math.min(level, covered))
    } else if (effect === 'pending') log.addPending(after + 1, covered)
    return result(
      changed,
      applied,
      claims.length,
      effect === 'pending' || effect === 'none',
      restarted,
    )
  }

  function stateOf(log: OriginLog): OriginState {
    return { gen: log.gen, covered: log.covered, floor: log.floor }
  }

  return {
    applyDelta,
    applyPart,

    digest() {
      const digest: Record<string, OriginState> = {}
      for (const [origin, log] of origins) digest[origin] = stateOf(log)
      return digest
    },

    origin(origin) {
      const log = origins.get(origin)
      return log === undefined ? undefined : stateOf(log)
    },

    partsFor(peer, budgetBytes, maxParts = Number.POSITIVE_INFINITY) {
      const parts: SyncPart[] = []
      let used = 0
      let sent = 0
      for (const [origin, log] of origins) {
        if (parts.length >= maxParts) break
        const plan = planPart(log, Object.hasOwn(peer, origin) ? peer[origin] : undefined)
        if (plan === undefined) continue
        const { part, bytes, cut } = cutPart(origin, log, plan, budgetBytes - used, sent === 0)
        // A part cut before its first claim carries nothing the peer can use.
        if (!cut || part.claims.length > 0) {
          const seal = init.ownSeal?.(origin, stateOf(log)) ?? log.seal
          parts.push(seal === undefined ? part : { ...part, seal })
        }
        sent += part.claims.length
        used += bytes
        if (cut) break
      }
      return parts
    },

    seal: (origin) => origins.get(origin)?.seal,
    claimCount: (origin) => origins.get(origin)?.byId.size ?? 0,

    get originCount() {
      return origins.size
    },

    behind(peer) {
      const wanted: string[] = []
      for (const origin of Object.keys(peer)) {
        const theirs = peer[origin]!
        const log = origins.get(origin)
        if (
          log === undefined ||
          theirs.gen > log.gen ||
          (theirs.gen === log.gen && theirs.covered > log.covered)
        ) {
          wanted.push(origin)
        }
      }
      return wanted
    },

    claimsFor: (id) => index.get(id),

    claimsOf(origin) {
      const log = origins.get(origin)
      return log === undefined ? [] : log.ordered().slice()
    },

    collectGarbage() {
      const time = now()
      const unused = new Set<string>()
      let collected = 0
      for (const log of origins.values()) {
        if (log.tombstones === null) continue
        for (const [id, receivedAt] of log.tombstones) {
          // Insertion order is receive order: the rest are younger still.
          if (time - receivedAt < tombstoneTtl) break
          const claim = log.byId.get(id)!
          // Above `covered` we cannot vouch for what came before it: keep it until covered.
          if (claim.seq > log.covered) continue
          removeClaim(log, claim, unused)
          log.floor = Math.max(log.floor, claim.seq)
          collected++
        }
      }
      return collected
    },

    retire(origin, gen) {
      const changed = new Set<string>()
      const log = origins.get(origin)
      if (log !== undefined && log.gen < gen) logFor(origin, gen, changed)
      return changed
    },

    forgetOrigin(origin) {
      const changed = new Set<string>()
      const log = origins.get(origin)
      if (log === undefined) return changed
      dropAll(log, changed)
      origins.delete(origin)
      return changed
    },

    get size() {
      return size
    },
  }
}
