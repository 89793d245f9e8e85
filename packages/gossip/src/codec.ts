import type { Claim, Seal } from '@grapevine/core'
import { Packr, Unpackr } from 'msgpackr'
import { DecodeError, MessageTooLargeError } from './errors.js'
import { MessageType, type PubsubMessage, type SyncFrame, WIRE_LIMITS } from './messages.js'
import { type SchemaDrops, validatePubsubMessage, validateSyncFrame } from './schema.js'
import { recordMessageToWire } from './swim-wire.js'

/**
 * msgpack encoding of every message. Records (msgpackr's shared-structure extension) are off
 * in both directions: they are not standard msgpack and would let one peer's structure
 * definitions shape how we read the next peer's bytes. Large 64-bit integers decode to
 * (lossy) numbers, which the schema then rejects as unsafe.
 */
const packr = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true })
// `copyBuffers`: binary values (signatures) are copied out, so a stored claim never pins the
// buffer it arrived in (a 100k-instance join kept all 32 MB of its sync frames alive through
// 64-byte signatures), and a frame may be decoded from a buffer that is then reused.
const unpackr = new Unpackr({
  useRecords: false,
  mapsAsObjects: true,
  int64AsType: 'number',
  copyBuffers: true,
})

/**
 * A claim as it travels inside a DELTA or a sync part: the envelope already names its origin
 * and generation, and a live instance's `id` and `node` equal the claim's id and origin, so
 * those copies stay home (a peer id is 52 characters; this is about 40% of a sync's bytes).
 * `schema.ts` puts them back from the envelope before validating.
 */
function compactClaim(claim: Claim): object {
  const { id, seq, vv, instance, sig } = claim
  const signed = sig === undefined ? {} : { sig }
  if (instance === null) return { id, seq, vv, instance: null, ...signed }
  const { id: _id, node: _node, ...fields } = instance
  return { id, seq, vv, instance: fields, ...signed }
}

/** Claims compacted, and the seal without its origin (the envelope's). */
function compactClaims<T extends { claims: readonly Claim[]; seal?: Seal }>(holder: T): T {
  const out: Record<string, unknown> = { ...holder, claims: holder.claims.map(compactClaim) }
  if (holder.seal !== undefined) {
    const { gen, covered, floor, sig } = holder.seal
    out.seal = { gen, covered, floor, sig }
  }
  return out as unknown as T
}

function compact(message: PubsubMessage | SyncFrame): object {
  if (message.t === MessageType.DELTA) return compactClaims(message)
  if ('record' in message) return recordMessageToWire(message)
  if (message.t === MessageType.ACK || message.t === MessageType.ACK2) {
    return { ...message, parts: message.parts.map((part) => compactClaims(part)) }
  }
  return message
}

function encode(message: PubsubMessage | SyncFrame, limit: number): Uint8Array {
  const bytes = packr.pack(compact(message))
  if (bytes.byteLength > limit) throw new MessageTooLargeError(bytes.byteLength, limit)
  return bytes
}

function decode<T>(
  bytes: Uint8Array,
  limit: number,
  validate: (value: unknown, drops?: SchemaDrops) => T,
  drops?: SchemaDrops,
): T {
  if (bytes.byteLength > limit) {
    throw new DecodeError('oversize', `${bytes.byteLength} bytes is over the ${limit}-byte limit`)
  }
  if (bytes.byteLength === 0) throw new DecodeError('decode', 'empty message')
  let value: unknown
  try {
    // A single value must span the whole buffer: trailing bytes mean a framing bug or a forgery.
    const values = unpackr.unpackMultiple(bytes)
    if (values.length !== 1) throw new Error(`${values.length} values in one message`)
    value = values[0]
  } catch (err) {
    // msgpackr throws plain Errors (truncated input, unknown extension) and RangeError for
    // absurd nesting; all of it is the sender's fault, never ours.
    throw new DecodeError('decode', `not msgpack: ${(err as Error).message}`)
  }
  return validate(value, drops)
}

/** Encodes a DELTA or a member record; throws `MessageTooLargeError` over 64 KiB. */
export function encodePubsubMessage(message: PubsubMessage): Uint8Array {
  return encode(message, WIRE_LIMITS.pubsubMessageBytes)
}

/**
 * Decodes and validates a pubsub message; throws `DecodeError` (callers count its `reason`).
 * With `drops`, a bad claim ends its DELTA and is counted there instead (see `SchemaDrops`).
 */
export function decodePubsubMessage(bytes: Uint8Array, drops?: SchemaDrops): PubsubMessage {
  return decode(bytes, WIRE_LIMITS.pubsubMessageBytes, validatePubsubMessage, drops)
}

/** Encodes a SYN, ACK or ACK2; throws `MessageTooLargeError` over the frame limit. */
export function encodeSyncFrame(
  frame: SyncFrame,
  limit: number = WIRE_LIMITS.syncFrameBytes,
): Uint8Array {
  return encode(frame, limit)
}

/** Decodes and validates a sync frame; throws `DecodeError` (callers count its `reason`). */
export function decodeSyncFrame(
  bytes: Uint8Array,
  limit: number = WIRE_LIMITS.syncFrameBytes,
  drops?: SchemaDrops,
): SyncFrame {
  return decode(bytes, limit, validateSyncFrame, drops)
}
