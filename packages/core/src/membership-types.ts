import type { MemberState } from './agent-api.js'

/**
 * The membership protocol's vocabulary (SWIM with Lifeguard, see `swim.ts`). Records are the
 * facts members tell each other; each is signed by whoever states it: ALIVE and LEFT by the
 * member itself (so only it can join, refute or leave), SUSPECT and DEAD by the accuser.
 * Records order by `(gen, incarnation)`: a restart is a new generation, a refutation a new
 * incarnation of the same generation.
 */

export interface AliveRecord {
  readonly kind: 'alive'
  readonly id: string
  readonly gen: number
  readonly incarnation: number
  /** The member's node name (a host name unless configured). */
  readonly name: string
  /** Multiaddrs where the member can be dialed. */
  readonly addrs: readonly string[]
  /**
   * How far the member had written in `gen` when it signed this record (its own `covered`).
   * A member that thought it dead shows its claims again once it holds this much, with no
   * need to ask the member itself (DESIGN.md, Liveness). Absent from older senders.
   */
  readonly covered?: number
  readonly sig: Uint8Array
}

export interface SuspectRecord {
  readonly kind: 'suspect'
  readonly id: string
  readonly gen: number
  readonly incarnation: number
  /** The accuser, whose probe of `id` failed; it signed the record. */
  readonly from: string
  readonly sig: Uint8Array
}

export interface DeadRecord {
  readonly kind: 'dead'
  readonly id: string
  readonly gen: number
  readonly incarnation: number
  /** The member whose suspicion of `id` ran out; it signed the record. */
  readonly from: string
  readonly sig: Uint8Array
}

export interface LeftRecord {
  readonly kind: 'left'
  readonly id: string
  readonly gen: number
  readonly incarnation: number
  readonly sig: Uint8Array
}

export type MemberRecord = AliveRecord | SuspectRecord | DeadRecord | LeftRecord

/** Who signs a record: the member itself for ALIVE and LEFT, the accuser otherwise. */
export function signerOf(record: MemberRecord): string {
  return record.kind === 'suspect' || record.kind === 'dead' ? record.from : record.id
}

/**
 * About how many bytes `record` takes on the wire (msgpack, field names included), a little
 * over rather than under: what the piggyback budget counts (`SwimInit.maxPiggybackBytes`).
 */
export function approximateRecordBytes(record: MemberRecord): number {
  const base = 40 + record.id.length + record.sig.byteLength
  if (record.kind === 'alive') {
    const coveredBytes = record.covered === undefined ? 0 : 13
    const addrBytes = record.addrs.reduce((n, a) => n + a.length + 3, 0)
    return base + 12 + coveredBytes + record.name.length + addrBytes
  }
  if (record.kind === 'suspect' || record.kind === 'dead') return base + 8 + record.from.length
  return base
}

/** Messages of the probe protocol; each piggybacks a few records (`updates`). */
export type SwimMessage =
  /** Are you alive? `target` is who the sender means (a stale address may reach another node). */
  | {
      readonly kind: 'ping'
      readonly seq: number
      readonly target: string
      readonly updates: readonly MemberRecord[]
      /** The sender's member-table tag (`member-table-tag.ts`); absent from older senders. */
      readonly table?: number
    }
  /** Yes: answers a ping (or relays an indirect answer) with the ping's `seq`. */
  | {
      readonly kind: 'ack'
      readonly seq: number
      readonly updates: readonly MemberRecord[]
      readonly table?: number
    }
  /** Please ping `target` for me and relay its ack under my `seq`. */
  | {
      readonly kind: 'ping-req'
      readonly seq: number
      readonly target: string
      readonly updates: readonly MemberRecord[]
    }
  /** I pinged `target` for your `seq` and it did not answer (so I, at least, am working). */
  | { readonly kind: 'nack'; readonly seq: number; readonly updates: readonly MemberRecord[] }
  /**
   * Push-pull: the sender's whole member table (each member's ALIVE, and the record that put
   * it in its current state). Sent to a peer it did not know, at join, and every
   * `pushPullInterval` to one random member whose table tag differs from ours (to any
   * random member every tenth time). `reply` asks for the receiver's table back.
   */
  | { readonly kind: 'state'; readonly reply: boolean; readonly records: readonly MemberRecord[] }

/** An outgoing message of the state machine. */
export interface SwimOutgoing {
  readonly to: string
  readonly message: SwimMessage
}

/** What the registry is told: the only thing it learns of membership. */
export interface MemberFact {
  readonly id: string
  readonly state: MemberState
  readonly gen: number
  readonly name: string
  readonly addrs: readonly string[]
  /** With `alive`: the member's own `covered` from its ALIVE, when it stated one. */
  readonly covered?: number
}

/**
 * Timings and sizes of the membership protocol, in milliseconds. See `profiles.ts` for `lan`
 * and `wan`, and memberlist's `config.go` for the parameters these mirror.
 */
export interface SwimTimings {
  /** One member is probed per period (round-robin over a shuffled list). */
  probeInterval: number
  /** Wait for a direct ack before asking `indirectChecks` others to probe. */
  probeTimeout: number
  /** Members asked to probe indirectly when the direct probe times out. */
  indirectChecks: number
  /** Minimum suspicion timeout = `suspicionMult · max(1, log10 n) · probeInterval`. */
  suspicionMult: number
  /** Maximum suspicion timeout (one accuser, no confirmation) = this · minimum. */
  suspicionMaxMult: number
  /** Each update is piggybacked `retransmitMult · ceil(log10(n + 1))` times. */
  retransmitMult: number
  /** Local health ceiling: timeouts stretch up to this factor on a starved node. */
  awarenessMax: number
  /**
   * How often a member whose table differs from ours (by the tags on probes) gets our whole
   * table (push-pull), repairing missed updates; a converged cluster skips the exchange.
   */
  pushPullInterval: number
  /** How often one dead member is probed, so that partitions heal and paused nodes return. */
  reconnectInterval: number
}

/** A record before it is signed (what its signature covers, with the cluster name). */
export type UnsignedMemberRecord = MemberRecord extends infer R
  ? R extends MemberRecord
    ? Omit<R, 'sig'>
    : never
  : never
