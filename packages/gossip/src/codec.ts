import type { Claim, Seal, SyncPart } from '@grapevine/core'
import { Packr, Unpackr } from 'msgpackr'
import { compactClaim, createClaimBytesCache } from './claim-bytes.js'
import { DecodeError, MessageTooLargeError } from './errors.js'
import { FrameWriter, mapHeaderLength } from './frame-writer.js'
import {
  type Ack2Message,
  type AckMessage,
  MessageType,
  type PubsubMessage,
  type SyncFrame,
  WIRE_LIMITS,
} from './messages.js'
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

/** The seal without its origin (the envelope's). */
function compactSeal(seal: Seal): object {
  const { gen, covered, floor, sig } = seal
  return { gen, covered, floor, sig }
}

/** Claims compacted, and the seal without its origin. */
function compactClaims<T extends { claims: readonly Claim[]; seal?: Seal }>(holder: T): T {
  const out: Record<string, unknown> = { ...holder, claims: holder.claims.map(compactClaim) }
  if (holder.seal !== undefined) out.seal = compactSeal(holder.seal)
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

/** Each claim's compact bytes, encoded once per claim object (see claim-bytes.ts). */
const claimBytes = createClaimBytesCache((value) => packr.pack(value))
const CLAIMS_KEY = Uint8Array.from(packr.pack('claims'))
const PARTS_KEY = Uint8Array.from(packr.pack('parts'))

/**
 * Writes the map `object` with the value of `key` written by `write`: the fields before and
 * after it are packed as one map each, whose entries (without their header) go around it.
 * Key order and bytes are those of `packr.pack` (a test holds the two to the same bytes).
 */
function writeMapAround(
  out: FrameWriter,
  object: object,
  key: string,
  keyBytes: Uint8Array,
  field: (name: string, value: unknown) => unknown,
  write: () => void,
): void {
  const keys = Object.keys(object)
  const at = keys.indexOf(key)
  if (at < 0) throw new TypeError(`no ${key} to write`)
  const entries = (names: string[]): void => {
    if (names.length === 0) return
    const fields: Record<string, unknown> = {}
    for (const name of names) fields[name] = field(name, (object as Record<string, unknown>)[name])
    const packed = packr.pack(fields)
    out.bytes(packed.subarray(mapHeaderLength(packed)))
  }
  out.mapHeader(keys.length)
  entries(keys.slice(0, at))
  out.bytes(keyBytes)
  write()
  entries(keys.slice(at + 1))
}

const sealField = (name: string, value: unknown): unknown =>
  name === 'seal' && value !== undefined ? compactSeal(value as Seal) : value
const asIs = (_name: string, value: unknown): unknown => value

function writePart(out: FrameWriter, part: SyncPart): void {
  writeMapAround(out, part, 'claims', CLAIMS_KEY, sealField, () => {
    out.arrayHeader(part.claims.length)
    const claims = part.claims
    for (let i = 0; i < claims.length; i++) out.latin1(claimBytes.bytes(claims[i]!))
  })
}

/**
 * An ACK or ACK2 from each claim's cached bytes: the same bytes as `encode`, without
 * re-encoding the claims a reply has sent before (a join sends every claim held).
 */
function encodeReply(frame: AckMessage | Ack2Message, limit: number): Uint8Array {
  const out = new FrameWriter()
  writeMapAround(out, frame, 'parts', PARTS_KEY, asIs, () => {
    out.arrayHeader(frame.parts.length)
    for (const part of frame.parts) writePart(out, part)
  })
  if (out.size > limit) throw new MessageTooLargeError(out.size, limit)
  return out.finish()
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
  if (frame.t === MessageType.ACK || frame.t === MessageType.ACK2) return encodeReply(frame, limit)
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
