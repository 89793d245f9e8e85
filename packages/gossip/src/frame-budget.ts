import { SyncError } from './errors.js'

/**
 * One budget for the sync frame bytes a node holds in flight, across every stream: a frame's
 * length is reserved as soon as its length prefix is read, before its body is buffered, and
 * released once it is decoded. Without it, memory was bounded per stream only: 8 identities
 * × 4 streams, each holding 3.9 MB of a 4 MB frame, took an agent from 230 to 401 MB
 * (issue 9, finding 7). A frame that does not fit fails its session (`budget`); the peer's
 * next session retries.
 */
export interface FrameBudget {
  /**
   * Reserves `bytes` for `peer`; false when the node's budget, or the peer's share of it,
   * cannot hold them now. The share keeps one identity from starving everyone else's syncs.
   */
  tryReserve(peer: string, bytes: number): boolean
  release(peer: string, bytes: number): void
  readonly inFlight: number
}

export function createFrameBudget(limitBytes: number, perPeerBytes: number): FrameBudget {
  let inFlight = 0
  const byPeer = new Map<string, number>()
  return {
    tryReserve(peer, bytes) {
      const held = byPeer.get(peer) ?? 0
      if (inFlight + bytes > limitBytes || held + bytes > perPeerBytes) return false
      inFlight += bytes
      byPeer.set(peer, held + bytes)
      return true
    },
    release(peer, bytes) {
      if (bytes === 0) return
      inFlight = Math.max(0, inFlight - bytes)
      const left = (byPeer.get(peer) ?? 0) - bytes
      if (left > 0) byPeer.set(peer, left)
      else byPeer.delete(peer)
    },
    get inFlight() {
      return inFlight
    },
  }
}

/** The part of `Uint8ArrayList` (it-length-prefixed-stream's length buffer) read here. */
interface ByteList {
  readonly byteLength: number
  get(index: number): number
}

/**
 * A varint length decoder for `lpStream({ lengthDecoder })` that reserves the frame's length
 * from `budget` once the prefix is complete. Throws RangeError while the prefix is incomplete
 * (what lpStream expects) and `SyncError('budget')` when the frame does not fit.
 * `held.bytes` is what the caller must release after the read.
 */
export function budgetedLengthDecoder(
  budget: FrameBudget,
  peer: string,
  maxFrameBytes: number,
  held: { bytes: number },
): (buffer: ByteList) => number {
  return (buffer) => {
    // A 4 MiB limit needs 4 prefix bytes; endless continuation bytes are a stall, not a frame.
    if (buffer.byteLength > 5) throw new SyncError('oversize', 'frame length prefix too long')
    let value = 0
    let scale = 1
    for (let i = 0; i < buffer.byteLength; i++) {
      const byte = buffer.get(i)
      value += (byte & 0x7f) * scale
      if ((byte & 0x80) === 0) {
        // Over the frame limit: lpStream rejects it before reading the body; nothing to hold.
        if (value > maxFrameBytes) return value
        if (!budget.tryReserve(peer, value)) {
          throw new SyncError(
            'budget',
            `no room for a ${value}-byte frame (${budget.inFlight} in flight)`,
          )
        }
        held.bytes += value
        return value
      }
      scale *= 128
    }
    throw new RangeError('incomplete length prefix')
  }
}
