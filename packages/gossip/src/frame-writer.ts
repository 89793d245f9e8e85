/**
 * Builds one msgpack value from pieces already encoded: bytes, and latin1 strings (one char
 * per byte) such as the cached claims of `claim-bytes.ts`. msgpack is concatenative: a map is
 * its header and then its keys and values, an array its header and then its items, so a sync
 * reply is the envelope's bytes around the claims' own. The result is one buffer, filled by
 * native copies.
 */
export class FrameWriter {
  private readonly pieces: (Uint8Array | string)[] = []
  /** Bytes written so far. */
  size = 0

  bytes(piece: Uint8Array): void {
    this.pieces.push(piece)
    this.size += piece.byteLength
  }

  /** A latin1 string: each char (below 256) is one byte. */
  latin1(piece: string): void {
    this.pieces.push(piece)
    this.size += piece.length
  }

  /** The header of a map of `count` entries (msgpack's smallest form, as msgpackr writes it). */
  mapHeader(count: number): void {
    this.bytes(header(count, 0x80, 0xde, 0xdf))
  }

  /** The header of an array of `count` items. */
  arrayHeader(count: number): void {
    this.bytes(header(count, 0x90, 0xdc, 0xdd))
  }

  /** The value, copied into one buffer of its own. */
  finish(): Uint8Array {
    const out = Buffer.allocUnsafeSlow(this.size)
    let offset = 0
    for (const piece of this.pieces) {
      if (typeof piece === 'string') offset += out.write(piece, offset, 'latin1')
      else {
        out.set(piece, offset)
        offset += piece.byteLength
      }
    }
    return out
  }
}

function header(count: number, fix: number, wide16: number, wide32: number): Uint8Array {
  if (count < 0x10) return Uint8Array.of(fix | count)
  if (count < 0x10000) return Uint8Array.of(wide16, count >> 8, count & 0xff)
  return Uint8Array.of(
    wide32,
    count >>> 24,
    (count >> 16) & 0xff,
    (count >> 8) & 0xff,
    count & 0xff,
  )
}

/** Length of the header of the msgpack map that starts `bytes`. */
export function mapHeaderLength(bytes: Uint8Array): number {
  const first = bytes[0]!
  if (first >= 0x80 && first <= 0x8f) return 1
  if (first === 0xde) return 3
  if (first === 0xdf) return 5
  throw new Error(`not a msgpack map (0x${first.toString(16)})`)
}
