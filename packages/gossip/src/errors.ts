import { GrapevineError } from '@grapevine/core'

/**
 * Why a message or frame from the network was dropped. Each is a key of
 * `NetworkStats.dropped`, so keep the names stable (dashboards and alerts match them).
 */
export type DropReason =
  /** Not msgpack, truncated, or not a map. */
  | 'decode'
  /** Decoded, but a field is missing, of the wrong type, or out of bounds. */
  | 'schema'
  /** Larger than the named limit for its channel. */
  | 'oversize'
  /** A protocol version this node does not speak. */
  | 'version'
  /** A message type that does not belong on the channel it arrived on. */
  | 'type'
  /** A pubsub message whose signer is not its `origin`. */
  | 'signer'
  /** A member record whose signature is not its signer's. */
  | 'signature'
  /** A membership datagram that does not open with the key of the node it names. */
  | 'auth'
  /** A message that claims to come from this node but was not published here. */
  | 'self'
  /** Dropped on purpose by fault injection (`faults.dropDeltas`), to test anti-entropy. */
  | 'fault'
  /** A sync session from a node of another cluster. */
  | 'cluster'
  /** A sync peer that went silent past the read timeout. */
  | 'timeout'
  /** A sync stream that broke (reset, closed early, refused). */
  | 'stream'
  /** A record (claim or seal) whose signature is not its origin's. */
  | 'signature'
  /** A relayed part without a valid seal of its origin, or beyond what the seal states. */
  | 'seal'
  /** Claims past an origin's quota, or a new origin past the cap on origins. */
  | 'quota'
  /** A relayed part of an origin that never spoke to this node itself. */
  | 'origin'
  /** A peer over its rate or byte budget (sync in-flight bytes, session deadline). */
  | 'budget'

/** Thrown by the codec when bytes from the network are not a valid message; never escapes. */
export class DecodeError extends GrapevineError {
  static readonly code = 'ERR_DECODE'
  readonly reason: DropReason
  constructor(reason: DropReason, message: string) {
    super(DecodeError.code, message)
    this.reason = reason
  }
}

/** Thrown when a message to send does not fit its channel's size limit even alone. */
export class MessageTooLargeError extends GrapevineError {
  static readonly code = 'ERR_MESSAGE_TOO_LARGE'
  readonly bytes: number
  readonly limit: number
  constructor(bytes: number, limit: number) {
    super(MessageTooLargeError.code, `message of ${bytes} bytes is over the ${limit}-byte limit`)
    this.bytes = bytes
    this.limit = limit
  }
}

/** Thrown when a cluster key is not a libp2p swarm key (`/key/swarm/psk/1.0.0/`, base16, 32 bytes). */
export class ClusterKeyError extends GrapevineError {
  static readonly code = 'ERR_CLUSTER_KEY'
  constructor(reason: string) {
    super(
      ClusterKeyError.code,
      `invalid cluster key: ${reason}; create one with \`grapevine keygen\` (generateClusterKey() in code)`,
    )
  }
}

/** Thrown by a sync session that could not complete; the caller counts it and moves on. */
export class SyncError extends GrapevineError {
  static readonly code = 'ERR_SYNC'
  readonly reason: DropReason
  constructor(reason: DropReason, message: string) {
    super(SyncError.code, message)
    this.reason = reason
  }
}
