import type { Claim, Digest, MemberRecord, Seal, SyncPart } from '@grapevine/core'

/**
 * The Grapevine wire protocol, version 2 (DESIGN.md, "Wire"). Every message is a msgpack map
 * with the protocol version `v` and the message type `t`. The wire is a contract: change a
 * shape only together with `PROTOCOL_VERSION`, the pubsub topic and the sync protocol id.
 */

/** `v` of every message this node sends; messages with another `v` are dropped (`version`). */
export const PROTOCOL_VERSION = 2

/**
 * Message types, the `t` field. Only append to this list; never renumber or reuse a value,
 * since nodes of different releases share a cluster during a rolling upgrade.
 */
export const MessageType = {
  /** pubsub: an origin's batched writes */
  DELTA: 1,
  // 2 and 3 were HEARTBEAT and LEAVE (protocol 1), retired by membership: never reuse them.
  /** sync: the initiator's digest */
  SYN: 4,
  /** sync: what the initiator lacks, and the responder's digest */
  ACK: 5,
  /** sync: what the responder lacks */
  ACK2: 6,
  // 10–19: records and seals (trust). 20–29: membership (SWIM), below.
  /** swim stream: are you alive? */
  PING: 20,
  /** swim stream: yes (answers a PING, or relays an indirect one) */
  PING_ACK: 21,
  /** swim stream: please ping `target` for me */
  PING_REQ: 22,
  /** swim stream: I pinged `target` for you and got no answer */
  PING_NACK: 23,
  /** swim stream: the sender's whole member table (push-pull) */
  MEMBERS: 24,
  /** member record (pubsub, piggybacked, in MEMBERS): a member is alive, signed by itself */
  ALIVE: 25,
  /** member record: a member is suspected, signed by the accuser */
  SUSPECT: 26,
  /** member record: a member is dead, signed by the member that declared it */
  DEAD: 27,
  /** member record: a member left, signed by itself */
  LEFT: 28,
} as const
export type MessageType = (typeof MessageType)[keyof typeof MessageType]

/** Named limits of the wire. Raising one is a protocol change: older nodes drop what exceeds it. */
export const WIRE_LIMITS = {
  /**
   * Largest pubsub message (encoded). Gossipsub copies each message to every mesh peer and
   * keeps it in its cache for a few heartbeats, so messages stay small; DELTA batches are
   * split below this and anything bigger travels by sync instead.
   */
  pubsubMessageBytes: 64 * 1024,
  /**
   * Largest sync frame (encoded). Sync replies are cut at a byte budget well below this
   * (see `SyncProtocolInit.budgetBytes`); the frame limit only bounds what a hostile or
   * buggy peer can make this node buffer.
   */
  syncFrameBytes: 4 * 1024 * 1024,
  /** Most origins in one digest: a cluster larger than this needs a protocol change. */
  digestOrigins: 16_384,
  /** Most parts in one ACK or ACK2 (one per origin at most). */
  partsPerFrame: 16_384,
  /** Longest node id (a libp2p peer id string is about 52 characters). */
  originLength: 256,
  /** Longest cluster name. */
  clusterLength: 64,
  /** Most addresses in one ALIVE. */
  aliveAddresses: 4,
  /** Longest address in an ALIVE. */
  addressLength: 256,
  /** Longest node name in an ALIVE (a DNS host name is at most 253). */
  nameLength: 253,
  /** Longest signature of a member record (Ed25519: 64 bytes). */
  memberSignatureBytes: 128,
  /** Largest frame on the swim stream (a MEMBERS table of a large cluster). */
  swimFrameBytes: 4 * 1024 * 1024,
  /** Most records piggybacked on one PING, PING_ACK, PING_REQ or PING_NACK. */
  piggybackRecords: 16,
  /**
   * Largest membership datagram, sealed (memberlist's `UDPBufferSize`): fits a 1,500-byte
   * Ethernet MTU unfragmented. A frame that does not fit goes on the swim stream instead.
   */
  swimDatagramBytes: 1_400,
  /** Most records in one MEMBERS table (two per member at most). */
  membersRecords: 2 * 16_384,
} as const

/**
 * `DELTA`: an origin's writes `fromSeq..toSeq` (contiguous), claims in ascending seq. Its
 * `toSeq` is the origin's `covered` advert: a receiver that holds less pulls by sync. `hbSeq`
 * counts the origin's DELTAs (protocol 1 shared it with HEARTBEAT); membership, not DELTAs,
 * decides whether the origin is alive.
 */
export interface DeltaMessage {
  readonly v: number
  readonly t: typeof MessageType.DELTA
  readonly origin: string
  readonly gen: number
  readonly hbSeq: number
  readonly fromSeq: number
  readonly toSeq: number
  readonly claims: readonly Claim[]
  /** The origin's seal at send time (signed): relays pass it on with the origin's parts. */
  readonly seal?: Seal
}

/**
 * A member record on the pubsub topic (ALIVE, SUSPECT, DEAD or LEFT; see `swim-wire.ts` for
 * its fields). Only the record's signer publishes it there: the member itself for ALIVE and
 * LEFT, the accuser for SUSPECT and DEAD.
 */
export interface MemberRecordMessage {
  readonly v: number
  readonly t:
    | typeof MessageType.ALIVE
    | typeof MessageType.SUSPECT
    | typeof MessageType.DEAD
    | typeof MessageType.LEFT
  readonly record: MemberRecord
}

/** `SYN`: opens a sync round with the initiator's digest. */
export interface SynMessage {
  readonly v: number
  readonly t: typeof MessageType.SYN
  readonly cluster: string
  readonly digest: Digest
}

/** `ACK`: parts the initiator lacks (cut at a byte budget), and the responder's own digest. */
export interface AckMessage {
  readonly v: number
  readonly t: typeof MessageType.ACK
  readonly parts: readonly SyncPart[]
  readonly want: Digest
}

/** `ACK2`: parts the responder lacks (cut at a byte budget); closes the round. */
export interface Ack2Message {
  readonly v: number
  readonly t: typeof MessageType.ACK2
  readonly parts: readonly SyncPart[]
}

/** What travels on the pubsub topic. */
export type PubsubMessage = DeltaMessage | MemberRecordMessage

/** What travels on a sync stream. */
export type SyncFrame = SynMessage | AckMessage | Ack2Message

/** The pubsub topic of a cluster; the trailing number is the protocol version. */
export function clusterTopic(cluster: string): string {
  return `grapevine/${cluster}/${PROTOCOL_VERSION}`
}

/** The stream protocol id of the sync protocol. */
export const SYNC_PROTOCOL = '/grapevine/sync/2.0.0'

/** The stream protocol id of membership probes (PING, PING_ACK, PING_REQ, PING_NACK, MEMBERS). */
export const SWIM_PROTOCOL = '/grapevine/swim/2.0.0'
