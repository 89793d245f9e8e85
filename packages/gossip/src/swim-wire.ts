import type { MemberRecord, SwimMessage } from '@grapevine/core'
import { Packr, Unpackr } from 'msgpackr'
import { DecodeError } from './errors.js'
import { type MemberRecordMessage, MessageType, PROTOCOL_VERSION, WIRE_LIMITS } from './messages.js'
import { type Fields, integer, isFields, list, ORIGIN_PATTERN, schema } from './wire-fields.js'

/**
 * Membership on the wire (DESIGN.md, "Wire"): frames of the swim stream and member records,
 * which travel piggybacked on those frames, in MEMBERS tables and on the pubsub topic.
 *
 *     record   {t: ALIVE|SUSPECT|DEAD|LEFT, id, gen, inc, from?, name?, addrs?, cov?, sig}
 *     PING      {v, t, seq, target, up: record[], mt?, dg?}   PING_ACK  {v, t, seq, up, mt?, dg?}
 *     PING_REQ  {v, t, seq, target, up}                    PING_NACK {v, t, seq, up}
 *     MEMBERS   {v, t, reply, records: record[]}
 *
 * `from` is on SUSPECT and DEAD (the accuser, who signed), `name` and `addrs` on ALIVE, and
 * `cov` (the member's own `covered`, under its signature) on ALIVE when stated.
 * `dg` on a direct PING or PING_ACK is the sender's digest tag (`digest-tag.ts`): a 32-bit
 * hash of its replica's version vector, so two members that probe each other notice they
 * differ without a sync session. The membership machine never sees it. `mt` is the
 * sender's member-table tag (core's `member-table-tag.ts`), the same idea for push-pull; the
 * machine sets and reads it. Both are optional, so older senders still decode.
 * Decoding treats input as hostile like `schema.ts`; signatures are checked by the caller.
 */

const packr = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true })
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' })

const RECORD_TYPES = {
  alive: MessageType.ALIVE,
  suspect: MessageType.SUSPECT,
  dead: MessageType.DEAD,
  left: MessageType.LEFT,
} as const

const FRAME_TYPES = {
  ping: MessageType.PING,
  ack: MessageType.PING_ACK,
  'ping-req': MessageType.PING_REQ,
  nack: MessageType.PING_NACK,
  state: MessageType.MEMBERS,
} as const

function peerId(fields: Fields, name: string): string {
  const value = fields[name]
  if (
    typeof value !== 'string' ||
    value.length === 0 ||
    value.length > WIRE_LIMITS.originLength ||
    !ORIGIN_PATTERN.test(value)
  ) {
    throw schema(`${name} must be a peer id`)
  }
  return value
}

/** A record as it travels (see the grammar above). */
export function recordToWire(record: MemberRecord): Fields {
  const base: Fields = {
    t: RECORD_TYPES[record.kind],
    id: record.id,
    gen: record.gen,
    inc: record.incarnation,
    sig: record.sig,
  }
  if (record.kind === 'alive') {
    const alive = { ...base, name: record.name, addrs: record.addrs }
    return record.covered === undefined ? alive : { ...alive, cov: record.covered }
  }
  if (record.kind === 'suspect' || record.kind === 'dead') return { ...base, from: record.from }
  return base
}

/** Validates one record's fields (its `t` included); the signature is not checked here. */
export function validateRecord(value: unknown): MemberRecord {
  if (!isFields(value)) throw schema('record must be a map')
  const id = peerId(value, 'id')
  const gen = integer(value, 'gen', 1)
  const incarnation = integer(value, 'inc', 0)
  const sig = value.sig
  if (!(sig instanceof Uint8Array) || sig.byteLength > WIRE_LIMITS.memberSignatureBytes) {
    throw schema(`sig must be bytes, at most ${WIRE_LIMITS.memberSignatureBytes}`)
  }
  const bytes = new Uint8Array(sig)
  switch (value.t) {
    case MessageType.ALIVE: {
      const name = value.name
      if (typeof name !== 'string' || name.length > WIRE_LIMITS.nameLength) {
        throw schema(`name must be a string of at most ${WIRE_LIMITS.nameLength} characters`)
      }
      const addrs = list(value, 'addrs', WIRE_LIMITS.aliveAddresses)
      for (const address of addrs) {
        if (
          typeof address !== 'string' ||
          !address.startsWith('/') ||
          address.length > WIRE_LIMITS.addressLength
        ) {
          throw schema(
            `addrs must be multiaddrs of at most ${WIRE_LIMITS.addressLength} characters`,
          )
        }
      }
      const alive = { kind: 'alive', id, gen, incarnation, name, addrs: addrs as string[] } as const
      if (value.cov === undefined) return { ...alive, sig: bytes }
      return { ...alive, covered: integer(value, 'cov', 0), sig: bytes }
    }
    case MessageType.SUSPECT:
    case MessageType.DEAD: {
      const kind = value.t === MessageType.SUSPECT ? 'suspect' : 'dead'
      return { kind, id, gen, incarnation, from: peerId(value, 'from'), sig: bytes }
    }
    case MessageType.LEFT:
      return { kind: 'left', id, gen, incarnation, sig: bytes }
    default:
      throw new DecodeError('type', `record type ${String(value.t)} is not allowed here`)
  }
}

/** A member record published on the pubsub topic (`schema.ts` dispatches here). */
export function validateRecordMessage(fields: Fields): MemberRecordMessage {
  const record = validateRecord(fields)
  return { v: PROTOCOL_VERSION, t: RECORD_TYPES[record.kind], record }
}

/** The encodable form of a pubsub member record (`codec.ts` calls this). */
export function recordMessageToWire(message: MemberRecordMessage): Fields {
  return { v: message.v, t: message.t, ...recordToWire(message.record) }
}

/** A decoded swim frame: the machine's message, and the sender's digest tag if it sent one. */
export interface SwimFrame {
  readonly message: SwimMessage
  readonly digestTag: number | undefined
}

const MAX_TAG = 0xffff_ffff

/** An optional 32-bit tag field (`dg`, `mt`). */
function tagOf(fields: Fields, name: 'dg' | 'mt'): number | undefined {
  if (fields[name] === undefined) return undefined
  const tag = integer(fields, name, 0)
  if (tag > MAX_TAG) throw schema(`${name} must be an integer ≤ 2^32 − 1`)
  return tag
}

function validateFrame(value: unknown): SwimMessage {
  if (!isFields(value)) throw new DecodeError('decode', 'frame must be a msgpack map')
  if (value.v !== PROTOCOL_VERSION) {
    throw new DecodeError('version', `unsupported protocol version ${String(value.v)}`)
  }
  const updates = (): MemberRecord[] =>
    list(value, 'up', WIRE_LIMITS.piggybackRecords).map(validateRecord)
  switch (value.t) {
    case MessageType.PING: {
      const table = tagOf(value, 'mt')
      return {
        kind: 'ping',
        seq: integer(value, 'seq', 0),
        target: peerId(value, 'target'),
        updates: updates(),
        ...(table !== undefined && { table }),
      }
    }
    case MessageType.PING_REQ:
      return {
        kind: 'ping-req',
        seq: integer(value, 'seq', 0),
        target: peerId(value, 'target'),
        updates: updates(),
      }
    case MessageType.PING_ACK: {
      const table = tagOf(value, 'mt')
      return {
        kind: 'ack',
        seq: integer(value, 'seq', 0),
        updates: updates(),
        ...(table !== undefined && { table }),
      }
    }
    case MessageType.PING_NACK:
      return { kind: 'nack', seq: integer(value, 'seq', 0), updates: updates() }
    case MessageType.MEMBERS: {
      if (typeof value.reply !== 'boolean') throw schema('reply must be a boolean')
      const records = list(value, 'records', WIRE_LIMITS.membersRecords).map(validateRecord)
      return { kind: 'state', reply: value.reply, records }
    }
    default:
      throw new DecodeError('type', `message type ${String(value.t)} is not allowed here`)
  }
}

/**
 * Encodes a swim frame; throws `DecodeError('oversize')` past the frame limit. `digestTag`
 * goes on PING and PING_ACK only.
 */
export function encodeSwimFrame(message: SwimMessage, digestTag?: number): Uint8Array {
  const base = { v: PROTOCOL_VERSION, t: FRAME_TYPES[message.kind] }
  const body =
    message.kind === 'state'
      ? { ...base, reply: message.reply, records: message.records.map(recordToWire) }
      : {
          ...base,
          seq: message.seq,
          ...('target' in message && { target: message.target }),
          up: message.updates.map(recordToWire),
          ...('table' in message && message.table !== undefined && { mt: message.table }),
          ...(digestTag !== undefined &&
            (message.kind === 'ping' || message.kind === 'ack') && { dg: digestTag }),
        }
  const bytes = packr.pack(body)
  if (bytes.byteLength > WIRE_LIMITS.swimFrameBytes) {
    throw new DecodeError('oversize', `swim frame of ${bytes.byteLength} bytes`)
  }
  return bytes
}

/** Decodes and validates a swim frame; throws `DecodeError` (callers count its `reason`). */
export function decodeSwimFrame(bytes: Uint8Array): SwimMessage {
  return decodeSwimEnvelope(bytes).message
}

/** `decodeSwimFrame`, with the sender's digest tag. */
export function decodeSwimEnvelope(bytes: Uint8Array): SwimFrame {
  if (bytes.byteLength > WIRE_LIMITS.swimFrameBytes) {
    throw new DecodeError('oversize', `${bytes.byteLength} bytes is over the swim frame limit`)
  }
  let value: unknown
  try {
    const values = unpackr.unpackMultiple(bytes)
    if (values.length !== 1) throw new Error(`${values.length} values in one frame`)
    value = values[0]
  } catch (err) {
    throw new DecodeError('decode', `not msgpack: ${(err as Error).message}`)
  }
  const message = validateFrame(value)
  // validateFrame accepted `value` as a map.
  const digestTag =
    message.kind === 'ping' || message.kind === 'ack' ? tagOf(value as Fields, 'dg') : undefined
  return { message, digestTag }
}
