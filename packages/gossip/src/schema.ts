import {
  type Claim,
  type Digest,
  GrapevineError,
  MAX_SIGNATURE_BYTES,
  type OriginState,
  type Seal,
  type SyncPart,
  validateClaim,
} from '@grapevine/core'
import { DecodeError } from './errors.js'
import {
  type Ack2Message,
  type AckMessage,
  type DeltaMessage,
  MessageType,
  PROTOCOL_VERSION,
  type PubsubMessage,
  type SyncFrame,
  type SynMessage,
  WIRE_LIMITS,
} from './messages.js'
import { validateRecordMessage } from './swim-wire.js'
import { type Fields, integer, isFields, list, ORIGIN_PATTERN, schema } from './wire-fields.js'

/**
 * Schema validation of decoded messages: the second gate after msgpack. Everything here
 * treats its input as hostile: unknown fields are dropped, every number is a safe integer in
 * range, every list is bounded, and claims go through `validateClaim` from core plus the
 * checks that tie them to their envelope (same origin and generation, seq inside the range,
 * ascending). Failures throw `DecodeError` with reason `schema`.
 */

function text(fields: Fields, name: string, maxLength: number): string {
  const value = fields[name]
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) {
    throw schema(`${name} must be a string of 1 to ${maxLength} characters`)
  }
  return value
}

function originOf(fields: Fields): string {
  const value = text(fields, 'origin', WIRE_LIMITS.originLength)
  if (!ORIGIN_PATTERN.test(value)) throw schema('origin must be a peer id (alphanumeric)')
  return value
}

/** The envelope's checks on top of `validateClaim`: ascending seqs in `(after, upTo]`. */
/**
 * Puts back what the sender left out of a claim because its envelope implies it (see
 * `compactClaim` in claim-bytes.ts): origin, generation, and a live instance's id and node.
 */
function expandClaim(item: unknown, origin: string, gen: number): unknown {
  if (!isFields(item)) return item
  // A claim may still spell them out, but then they must agree with the envelope.
  if (item.origin !== undefined && item.origin !== origin) {
    throw schema('claim.origin must equal the message origin')
  }
  if (item.gen !== undefined && item.gen !== gen) {
    throw schema('claim.gen must equal the message gen')
  }
  // Fields are set on the freshly decoded objects (ours alone) rather than spread into
  // copies: validateClaim builds the stored claim anyway, and two copies per claim were ~10%
  // of a 100k-instance join. A field the wire spells out is kept, as a spread would.
  const instance = item.instance
  if (isFields(instance)) {
    if (!('id' in instance)) instance.id = item.id
    if (!('node' in instance)) instance.node = origin
  }
  item.origin = origin
  item.gen = gen
  return item
}

/**
 * What schema validation dropped without rejecting the message: one bad claim ends its part
 * or DELTA (the range is cut before it, as at a byte budget), the rest of the frame applies.
 */
export interface SchemaDrops {
  claims: number
  /**
   * Sync frames only: the origins whose parts this receiver takes from the sender. A part of
   * any other origin is refused before its claims are validated (most of the cost of decoding
   * a part) and counted in `refused`: a frame of 16,384 made-up origins costs its parsing only.
   */
  admit?: (origin: string) => boolean
  refused?: number
}

/**
 * The claims of a DELTA or part, up to the first one that fails validation: `upTo` is then
 * cut to just before that claim's seq (or to the last good claim's, when the bad one has no
 * usable seq), so the receiver never counts the bad claim's seq as covered.
 */
function claimsOf(
  raw: unknown[],
  origin: string,
  gen: number,
  after: number,
  upTo: number,
  drops: SchemaDrops | undefined,
): { claims: Claim[]; upTo: number } {
  const claims: Claim[] = []
  let last = after
  // Indexed: `entries()` allocated an iterator result and a pair per claim received.
  for (let i = 0; i < raw.length; i++) {
    const item = raw[i]
    let claim: Claim | undefined
    try {
      claim = validateClaim(expandClaim(item, origin, gen))
    } catch (err) {
      if (drops === undefined) {
        throw schema(err instanceof GrapevineError ? err.message : 'invalid claim')
      }
    }
    if (claim === undefined || claim.seq <= last || claim.seq > upTo) {
      if (drops === undefined)
        throw schema('claims must be in ascending seq inside the declared range')
      drops.claims += raw.length - i
      const seq = isFields(item) ? item.seq : undefined
      const usable =
        typeof seq === 'number' && Number.isSafeInteger(seq) && seq > last && seq <= upTo
      return { claims, upTo: usable ? seq - 1 : last }
    }
    last = claim.seq
    claims.push(claim)
  }
  return { claims, upTo }
}

function signature(value: unknown, name: string): Uint8Array {
  if (
    !(value instanceof Uint8Array) ||
    value.byteLength === 0 ||
    value.byteLength > MAX_SIGNATURE_BYTES
  ) {
    throw schema(`${name} must be 1 to ${MAX_SIGNATURE_BYTES} bytes`)
  }
  return value
}

/** The origin's seal on a DELTA or part (its origin is the envelope's); optional. */
function sealOf(fields: Fields, origin: string): Seal | undefined {
  const value = fields.seal
  if (value === undefined || value === null) return undefined
  if (!isFields(value)) throw schema('seal must be a map')
  return Object.freeze({
    origin,
    gen: integer(value, 'gen', 1),
    covered: integer(value, 'covered', 0),
    floor: integer(value, 'floor', 0),
    sig: signature(value.sig, 'seal.sig'),
  })
}

export function validateDigest(value: unknown): Digest {
  if (!isFields(value)) throw schema('digest must be a map')
  const origins = Object.keys(value)
  if (origins.length > WIRE_LIMITS.digestOrigins) {
    throw schema(`digest must have at most ${WIRE_LIMITS.digestOrigins} origins`)
  }
  // A null prototype: origin ids come from the network and may be "__proto__" or "constructor".
  const digest: Record<string, OriginState> = Object.create(null)
  for (const origin of origins) {
    if (origin.length > WIRE_LIMITS.originLength || !ORIGIN_PATTERN.test(origin)) {
      throw schema('digest keys must be peer ids')
    }
    const state = value[origin]
    if (!isFields(state)) throw schema('digest entry must be a map')
    digest[origin] = Object.freeze({
      gen: integer(state, 'gen', 0),
      covered: integer(state, 'covered', 0),
      floor: integer(state, 'floor', 0),
    })
  }
  return Object.freeze(digest)
}

function validatePart(value: unknown, drops: SchemaDrops | undefined): SyncPart | string {
  if (!isFields(value)) throw schema('part must be a map')
  const origin = originOf(value)
  const gen = integer(value, 'gen', 1)
  const after = integer(value, 'after', 0)
  const declared = integer(value, 'covered', after)
  if (typeof value.full !== 'boolean') throw schema('part.full must be a boolean')
  const raw = list(value, 'claims', declared - after)
  if (drops?.admit !== undefined && !drops.admit(origin)) {
    drops.refused = (drops.refused ?? 0) + 1
    return origin // refused: only its origin is kept, for the one-part-per-origin rule
  }
  const { claims, upTo: covered } = claimsOf(raw, origin, gen, after, declared, drops)
  // Optional: the sender's floor, which tells where a snapshot cut at a budget stands.
  const floor = value.floor === undefined ? undefined : integer(value, 'floor', 0)
  const seal = sealOf(value, origin)
  return Object.freeze({
    origin,
    gen,
    full: value.full,
    after,
    covered,
    claims,
    ...(floor !== undefined && { floor }),
    ...(seal !== undefined && { seal }),
  })
}

function validateParts(fields: Fields, drops: SchemaDrops | undefined): SyncPart[] {
  const validated = list(fields, 'parts', WIRE_LIMITS.partsPerFrame).map((part) =>
    validatePart(part, drops),
  )
  const seen = new Set<string>()
  const parts: SyncPart[] = []
  for (const part of validated) {
    const origin = typeof part === 'string' ? part : part.origin
    if (seen.has(origin)) throw schema('at most one part per origin')
    seen.add(origin)
    if (typeof part !== 'string') parts.push(part)
  }
  return parts
}

function validateDelta(fields: Fields, drops: SchemaDrops | undefined): DeltaMessage {
  const origin = originOf(fields)
  const gen = integer(fields, 'gen', 1)
  const hbSeq = integer(fields, 'hbSeq', 1)
  const fromSeq = integer(fields, 'fromSeq', 1)
  const declared = integer(fields, 'toSeq', fromSeq)
  const raw = list(fields, 'claims', declared - fromSeq + 1)
  const { claims, upTo: toSeq } = claimsOf(raw, origin, gen, fromSeq - 1, declared, drops)
  if (toSeq < fromSeq) throw schema("the DELTA's first claim is invalid")
  const seal = sealOf(fields, origin)
  return {
    v: PROTOCOL_VERSION,
    t: MessageType.DELTA,
    origin,
    gen,
    hbSeq,
    fromSeq,
    toSeq,
    claims,
    ...(seal !== undefined && { seal }),
  }
}

function validateSyn(fields: Fields): SynMessage {
  return {
    v: PROTOCOL_VERSION,
    t: MessageType.SYN,
    cluster: text(fields, 'cluster', WIRE_LIMITS.clusterLength),
    digest: validateDigest(fields.digest),
  }
}

function validateAck(fields: Fields, drops: SchemaDrops | undefined): AckMessage {
  return {
    v: PROTOCOL_VERSION,
    t: MessageType.ACK,
    parts: validateParts(fields, drops),
    want: validateDigest(fields.want),
  }
}

function validateAck2(fields: Fields, drops: SchemaDrops | undefined): Ack2Message {
  return { v: PROTOCOL_VERSION, t: MessageType.ACK2, parts: validateParts(fields, drops) }
}

/** Checks `v` and `t` and returns the fields; `allowed` are the types of the channel. */
function envelope(value: unknown, allowed: readonly number[]): Fields & { t: number } {
  if (!isFields(value)) throw new DecodeError('decode', 'message must be a msgpack map')
  if (value.v !== PROTOCOL_VERSION) {
    throw new DecodeError('version', `unsupported protocol version ${String(value.v)}`)
  }
  const t = value.t
  if (typeof t !== 'number' || !allowed.includes(t)) {
    throw new DecodeError('type', `message type ${String(t)} is not allowed here`)
  }
  return value as Fields & { t: number }
}

const PUBSUB_TYPES: readonly number[] = [
  MessageType.DELTA,
  MessageType.ALIVE,
  MessageType.SUSPECT,
  MessageType.DEAD,
  MessageType.LEFT,
]
const SYNC_TYPES: readonly number[] = [MessageType.SYN, MessageType.ACK, MessageType.ACK2]

/**
 * Validates a pubsub message. With `drops`, a bad claim ends its DELTA instead of rejecting
 * it (counted there); without, any bad claim rejects the message.
 */
export function validatePubsubMessage(value: unknown, drops?: SchemaDrops): PubsubMessage {
  const fields = envelope(value, PUBSUB_TYPES)
  if (fields.t === MessageType.DELTA) return validateDelta(fields, drops)
  return validateRecordMessage(fields)
}

/** Validates a sync frame; `drops` as for `validatePubsubMessage`, per part. */
export function validateSyncFrame(value: unknown, drops?: SchemaDrops): SyncFrame {
  const fields = envelope(value, SYNC_TYPES)
  if (fields.t === MessageType.SYN) return validateSyn(fields)
  if (fields.t === MessageType.ACK) return validateAck(fields, drops)
  return validateAck2(fields, drops)
}
