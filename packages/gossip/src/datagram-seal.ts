import { createCipheriv, createDecipheriv, randomFillSync } from 'node:crypto'
import { DecodeError } from './errors.js'
import { PROTOCOL_VERSION, WIRE_LIMITS } from './messages.js'
import { ORIGIN_PATTERN } from './wire-fields.js'

/**
 * The envelope of a membership datagram (DESIGN.md, "Wire"): one swim frame sealed with the
 * key the two nodes share (`pair-keys.ts`), ChaCha20-Poly1305 (RFC 8439) from node:crypto.
 *
 *     'G' | v | len | sender id (len bytes, ASCII) | nonce (12) | ciphertext | tag (16)
 *
 * The associated data is everything before the ciphertext followed by the receiver's id, so
 * a datagram opens only at the node it was sealed for, from the node it names: it cannot be
 * forged, altered, or reflected back to its sender. Replays are harmless to the machine: an
 * ACK or NACK only counts for a probe still waiting on its `seq`, and sequence numbers start
 * at random on every start, so an ACK captured before a restart answers nothing after it.
 */

const MAGIC = 0x47
const NONCE_BYTES = 12
const TAG_BYTES = 16
const MAX_ID_BYTES = 128

/** The header followed by the receiver's id: binds a datagram to both ends. */
function associatedData(header: Buffer, receiver: string): Buffer {
  return Buffer.concat([header, Buffer.from(receiver, 'latin1')])
}

/** Seals `frame` from `sender` to `receiver`. */
export function sealDatagram(
  frame: Uint8Array,
  sender: string,
  receiver: string,
  key: Uint8Array,
): Buffer {
  const id = Buffer.from(sender, 'latin1')
  const headerBytes = 3 + id.byteLength + NONCE_BYTES
  const out = Buffer.allocUnsafe(headerBytes + frame.byteLength + TAG_BYTES)
  out[0] = MAGIC
  out[1] = PROTOCOL_VERSION
  out[2] = id.byteLength
  id.copy(out, 3)
  const nonce = out.subarray(3 + id.byteLength, headerBytes)
  randomFillSync(nonce)
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_BYTES })
  cipher.setAAD(associatedData(out.subarray(0, headerBytes), receiver), {
    plaintextLength: frame.byteLength,
  })
  const body = cipher.update(frame)
  body.copy(out, headerBytes)
  cipher.final()
  cipher.getAuthTag().copy(out, headerBytes + body.byteLength)
  return out
}

/**
 * The sender a datagram names, before it is opened (the receiver needs it to pick the key).
 * Throws `DecodeError` for anything that is not a Grapevine datagram of this version.
 */
export function datagramSender(bytes: Uint8Array): string {
  if (bytes.byteLength > WIRE_LIMITS.swimDatagramBytes) {
    throw new DecodeError('oversize', `datagram of ${bytes.byteLength} bytes`)
  }
  if (bytes.byteLength < 3 || bytes[0] !== MAGIC) {
    throw new DecodeError('decode', 'not a Grapevine datagram')
  }
  if (bytes[1] !== PROTOCOL_VERSION) {
    throw new DecodeError('version', `unsupported protocol version ${bytes[1]}`)
  }
  const length = bytes[2]!
  if (
    length === 0 ||
    length > MAX_ID_BYTES ||
    bytes.byteLength < 3 + length + NONCE_BYTES + TAG_BYTES
  ) {
    throw new DecodeError('decode', 'datagram truncated')
  }
  const sender = Buffer.from(bytes.buffer, bytes.byteOffset + 3, length).toString('latin1')
  if (!ORIGIN_PATTERN.test(sender)) throw new DecodeError('schema', 'sender must be a peer id')
  return sender
}

/** Opens a datagram from `sender` (see `datagramSender`); throws `DecodeError('auth')`. */
export function openDatagram(bytes: Uint8Array, receiver: string, key: Uint8Array): Uint8Array {
  const headerBytes = 3 + bytes[2]! + NONCE_BYTES
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const nonce = data.subarray(headerBytes - NONCE_BYTES, headerBytes)
  const tag = data.subarray(data.byteLength - TAG_BYTES)
  const body = data.subarray(headerBytes, data.byteLength - TAG_BYTES)
  try {
    const decipher = createDecipheriv('chacha20-poly1305', key, nonce, {
      authTagLength: TAG_BYTES,
    })
    decipher.setAAD(associatedData(data.subarray(0, headerBytes), receiver), {
      plaintextLength: body.byteLength,
    })
    decipher.setAuthTag(tag)
    const frame = decipher.update(body)
    decipher.final()
    return frame
  } catch {
    throw new DecodeError('auth', 'datagram failed authentication')
  }
}

/** Bytes a sealed datagram adds to its frame for `sender`. */
export function datagramOverhead(sender: string): number {
  return 3 + sender.length + NONCE_BYTES + TAG_BYTES
}
