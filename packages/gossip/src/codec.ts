import { Packr, Unpackr } from 'msgpackr'
import { DecodeError, MessageTooLargeError } from './errors.js'
import { type PubsubMessage, type SyncFrame, WIRE_LIMITS } from './messages.js'
import { validatePubsubMessage, validateSyncFrame } from './schema.js'

/**
 * msgpack encoding of every message. Records (msgpackr's shared-structure extension) are off
 * in both directions: they are not standard msgpack and would let one peer's structure
 * definitions shape how we read the next peer's bytes. Large 64-bit integers decode to
 * (lossy) numbers, which the schema then rejects as unsafe.
 */
const packr = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true })
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' })

function encode(message: object, limit: number): Uint8Array {
  const bytes = packr.pack(message)
  if (bytes.byteLength > limit) throw new MessageTooLargeError(bytes.byteLength, limit)
  return bytes
}

function decode<T>(bytes: Uint8Array, limit: number, validate: (value: unknown) => T): T {
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
  return validate(value)
}

/** Encodes a DELTA, HEARTBEAT or LEAVE; throws `MessageTooLargeError` over 64 KiB. */
export function encodePubsubMessage(message: PubsubMessage): Uint8Array {
  return encode(message, WIRE_LIMITS.pubsubMessageBytes)
}

/** Decodes and validates a pubsub message; throws `DecodeError` (callers count its `reason`). */
export function decodePubsubMessage(bytes: Uint8Array): PubsubMessage {
  return decode(bytes, WIRE_LIMITS.pubsubMessageBytes, validatePubsubMessage)
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
): SyncFrame {
  return decode(bytes, limit, validateSyncFrame)
}
