import type { Claim, Digest, Seal, SyncPart } from '@grapevine/core'

/**
 * The Grapevine wire protocol, version 1 (DESIGN.md, "Wire"). Every message is a msgpack map
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
  /** pubsub: an origin is alive, and how far its writes go */
  HEARTBEAT: 2,
  /** pubsub: an origin leaves gracefully */
  LEAVE: 3,
  /** sync: the initiator's digest */
  SYN: 4,
  /** sync: what the initiator lacks, and the responder's digest */
  ACK: 5,
  /** sync: what the responder lacks */
  ACK2: 6,
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
  /** Most addresses in one HEARTBEAT. */
  heartbeatAddresses: 4,
  /** Longest address in a HEARTBEAT. */
  addressLength: 256,
} as const

/**
 * `DELTA`: an origin's writes `fromSeq..toSeq` (contiguous), claims in ascending seq.
 * `hbSeq` is the origin's liveness counter, shared with HEARTBEAT (every DELTA and HEARTBEAT
 * takes the next value), so that a DELTA is fresh evidence the origin is alive and a replayed
 * one is not (liveness only counts advancing `(gen, hbSeq)`).
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
 * `HEARTBEAT`: sent every `heartbeatInterval`; `covered` is the origin's own last published
 * seq, so a receiver that holds less knows it missed a DELTA and pulls the origin by sync.
 * `addrs` (optional, in the first heartbeats and then every few) are multiaddrs where the
 * origin can be dialed: nodes connect directly to the members they hear of, so that a crash
 * is seen by everyone through a closed connection rather than by lease expiry.
 */
export interface HeartbeatMessage {
  readonly v: number
  readonly t: typeof MessageType.HEARTBEAT
  readonly origin: string
  readonly gen: number
  readonly hbSeq: number
  readonly covered: number
  readonly addrs?: readonly string[]
}

/** `LEAVE`: the origin leaves gracefully, after publishing its tombstones up to `covered`. */
export interface LeaveMessage {
  readonly v: number
  readonly t: typeof MessageType.LEAVE
  readonly origin: string
  readonly gen: number
  readonly covered: number
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
export type PubsubMessage = DeltaMessage | HeartbeatMessage | LeaveMessage

/** What travels on a sync stream. */
export type SyncFrame = SynMessage | AckMessage | Ack2Message

/** The pubsub topic of a cluster; the trailing number is the protocol version. */
export function clusterTopic(cluster: string): string {
  return `grapevine/${cluster}/${PROTOCOL_VERSION}`
}

/** The stream protocol id of the sync protocol. */
export const SYNC_PROTOCOL = '/grapevine/sync/2.0.0'
