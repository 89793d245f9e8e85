import type { Claim } from './claim.js'
import type { Seal } from './signing.js'

/**
 * What a replica knows of one origin: it holds every write of generation `gen` up to seq
 * `covered`; `floor` is the highest seq at or below which tombstones may be missing (garbage
 * collected here or upstream). `floor > covered` while a snapshot that was cut at a byte
 * budget is being received: peers then continue it at that level (see `SyncPart.floor`).
 */
export interface OriginState {
  readonly gen: number
  readonly covered: number
  readonly floor: number
}

/** The replica's digest: a version vector over origins, sent in SYN. */
export type Digest = Readonly<Record<string, OriginState>>

/** An origin's batched writes, seqs `fromSeq..toSeq` (gossiped as DELTA). */
export interface Delta {
  readonly origin: string
  readonly gen: number
  readonly fromSeq: number
  readonly toSeq: number
  readonly claims: readonly Claim[]
  /** The origin's signed statement of its log (see signing.ts); passed on to relays. */
  readonly seal?: Seal
}

/**
 * A sync reply for one origin: the sender's current claims of `gen` with seq in
 * `(after, covered]`, ascending. The range is exact: the receiver drops any claim of that
 * origin in the range that the part does not carry (it was replaced or garbage collected at
 * the sender). A part cut at a byte budget declares `covered` = last seq sent.
 * `full` marks a snapshot, sent to a peer that lacks the origin, is on an older generation or
 * is below our floor: it starts at `after: 0`, or continues a snapshot that was cut.
 */
export interface SyncPart {
  readonly origin: string
  readonly gen: number
  readonly full: boolean
  readonly after: number
  readonly covered: number
  readonly claims: readonly Claim[]
  /**
   * The level of the part: its claims reflect every write up to at least this seq, and
   * tombstones at or below it may be missing. For a snapshot it is the sender's floor, which
   * the receiver adopts; for a continuation, the receiver's own floor, which the sender
   * covers. When absent (a peer that predates the field), the receiver derives a safe
   * level from the part's highest missing seq, and a cut snapshot may then not progress.
   */
  readonly floor?: number
  /**
   * The newest seal of the origin the sender holds. A part relayed by another node is only
   * applied within what a verified seal states (its generation, coverage at most its
   * `covered`); a part from the origin itself is authenticated by the connection.
   */
  readonly seal?: Seal
}

/** How a sync part reached us. */
export interface PartOptions {
  /**
   * True when the part was sent by a node other than its origin. A relay is trusted for the
   * claims it carries (signed, checked by the caller), not for what it leaves out: the part
   * is applied as an exact range only up to just before the first stored claim it does not
   * carry, so a relay never deletes a claim it cannot prove superseded. @default false
   */
  readonly relayed?: boolean
}

/** Per-origin limits on what a replica stores (DESIGN.md, Security: bounded input). */
export interface OriginQuota {
  /** Most claims (live and tombstones) stored per origin. @default 100_000 */
  readonly claims: number
  /** Most estimated claim bytes (`estimateClaimBytes`) stored per origin. @default 64 MiB */
  readonly bytes: number
}

/** What applying a DELTA or a part did. */
export interface ApplyResult {
  /** Instance ids whose set of claims changed: the view must re-resolve exactly these. */
  readonly changedIds: ReadonlySet<string>
  /** Claims stored (new or newer than what was held). */
  readonly applied: number
  /** Claims dropped as stale, duplicate or from an older generation. */
  readonly dropped: number
  /** True when the input left a hole before it (seqs missing): pull that origin by sync. */
  readonly gap: boolean
  /** True when the input announced a newer generation and the older one's claims were dropped. */
  readonly restarted: boolean
  /** Claims not stored because the origin is at its quota (counted in `dropped` too). */
  readonly overQuota: number
  /**
   * True when a relayed part was refused because its origin never spoke to this node: an
   * origin enters only through its own message (a DELTA, its own sync part, or a liveness
   * record), never because a relay names it (issue 9, finding 2).
   */
  readonly unadmitted?: boolean
}

export interface ReplicaInit {
  /** Monotonic milliseconds. */
  now: () => number
  /** How long a tombstone is kept after it is covered, before GC raises the floor. */
  tombstoneTtl: number
  /** Per-origin storage limits. @default DEFAULT_ORIGIN_QUOTA */
  quota?: Partial<OriginQuota>
  /**
   * This node's own seal for its current state, for `partsFor` to attach to its own parts
   * (the registry signs it, cached). Other origins' parts carry the newest seal received.
   */
  ownSeal?: (origin: string, state: OriginState) => Seal | undefined
}

/** The claim store with the merge rules of DESIGN.md. Pure: no I/O, no timers. */
export interface Replica {
  /** Applies an origin's writes (also used for this node's own writes). */
  applyDelta(delta: Delta): ApplyResult
  /** Applies one sync part (see `PartOptions.relayed` for one that a relay sent). */
  applyPart(part: SyncPart, options?: PartOptions): ApplyResult
  digest(): Digest
  /** The state of one origin, or undefined if nothing was ever heard of it. */
  origin(origin: string): OriginState | undefined
  /**
   * What a peer with digest `peer` lacks, as parts in ascending seq, cut at `budgetBytes`
   * (estimated with `estimateClaimBytes`) at a claim boundary, never leaving a gap. A peer
   * below our floor (or on an older generation) gets a full part. Origins where the peer
   * is ahead or equal are skipped. At least one claim is sent even if it alone is over budget.
   * At most `maxParts` parts (the decoder's limit, `WIRE_LIMITS.partsPerFrame`): the rest
   * follows in the next round.
   */
  partsFor(peer: Digest, budgetBytes: number, maxParts?: number): SyncPart[]
  /** The newest seal held for an origin's current generation. */
  seal(origin: string): Seal | undefined
  /** Number of claims (live and tombstones) held of one origin. */
  claimCount(origin: string): number
  /** Number of origins held. */
  readonly originCount: number
  /** Origins where `peer` is ahead of us (newer gen or higher covered): what to ask for. */
  behind(peer: Digest): string[]
  /** Every stored claim (live and tombstone) for an instance id, from any origin. */
  claimsFor(id: string): readonly Claim[]
  /** Every stored claim of one origin, ascending seq. */
  claimsOf(origin: string): readonly Claim[]
  /** Drops tombstones covered for longer than `tombstoneTtl`, raising floors; returns how many. */
  collectGarbage(): number
  /** Forgets an origin entirely (after `purgeAfter`); returns the ids whose claims changed. */
  forgetOrigin(origin: string): ReadonlySet<string>
  /**
   * The origin is known to run generation `gen` (it said so itself): claims of any older
   * generation are dropped now, as rule 1 would on the new generation's first claim, and the
   * origin restarts empty at `gen`. Returns the ids whose claims changed; nothing when no older
   * generation is held.
   */
  retire(origin: string, gen: number): ReadonlySet<string>
  /** Number of stored claims, tombstones included. */
  readonly size: number
}
