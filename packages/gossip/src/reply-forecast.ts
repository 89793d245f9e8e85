import type { Digest, SyncPart } from '@grapevine/core'
import { sameDigest } from './sync-digest.js'

/** A sync reply, encoded: the frame's bytes and the parts it carries. */
export interface EncodedReply {
  readonly bytes: Uint8Array
  readonly parts: SyncPart[]
}

/**
 * A reply encoded before the frame it answers arrived. The side that sends the bulk of a
 * session (the responder's ACKs, or the initiator's ACK2s), once a reply cut at its budget is
 * out, encodes the next one for the digest the peer will state once it has applied that reply
 * (the reply's own declarations, `withParts`). Without it the sender began encoding (~40 ms per
 * 1 MiB of parts) only when the peer's next frame came, which the peer sends only after
 * decoding the reply: in a 100k join each side then waited for the other a fifth of the time.
 *
 * It is used only if it answers exactly what is asked: the peer's digest is the predicted one
 * and ours is the one it was encoded at (nothing applied or written here in between moved
 * it). It then says what a reply encoded on arrival would say, as of a few milliseconds
 * earlier: true ranges of our claims and their seals, like any DELTA in flight.
 */
export interface ReplyForecast {
  /** The initiator's digest the reply was encoded for. */
  readonly theirs: Digest
  /** Our digest when it was encoded (an ACK's `want`). */
  readonly ours: Digest
  readonly reply: EncodedReply
}

/** Forecasts of one session: used, and encoded for nothing (for the session's debug log). */
export interface ForecastTally {
  used: number
  missed: number
}

/** The forecast's reply if it answers a peer at `theirs` from us at `ours`, else undefined. */
export function forecastFits(
  forecast: ReplyForecast | undefined,
  theirs: Digest,
  ours: Digest,
  tally: ForecastTally,
): EncodedReply | undefined {
  if (forecast === undefined) return undefined
  if (!sameDigest(forecast.theirs, theirs) || !sameDigest(forecast.ours, ours)) {
    tally.missed++
    return undefined
  }
  tally.used++
  return forecast.reply
}
