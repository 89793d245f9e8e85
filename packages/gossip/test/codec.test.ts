import {
  type Claim,
  createRegistryNode,
  type Delta,
  memberRecordBytes,
  PROFILES,
} from '@grapevine/core'
import fc from 'fast-check'
import { Packr } from 'msgpackr'
import { describe, expect, it } from 'vitest'
import {
  DecodeError,
  decodePubsubMessage,
  decodeSyncFrame,
  encodePubsubMessage,
  encodeSyncFrame,
  generatePrivateKey,
  MessageTooLargeError,
  MessageType,
  PROTOCOL_VERSION,
  type PubsubMessage,
  peerIdOf,
  type SyncFrame,
  WIRE_LIMITS,
} from '../src/index.js'
import { createRecordSigner, createRecordVerifier } from '../src/record-signing.js'

const ORIGIN = '12D3KooWGRUVh2YdVtvqzZ7ha4W1mE3bH6aYqUtFddb7hMiyX3xT'
const raw = new Packr({ useRecords: false })

function writes(count: number, nodeId = ORIGIN): Delta {
  const registry = createRegistryNode({
    nodeId,
    gen: 7,
    now: () => 0,
    timings: PROFILES.lan,
  })
  let delta: Delta | undefined
  for (let i = 0; i < count; i++) {
    const next = registry.register({
      id: `svc-${i}`,
      name: 'user-service',
      version: 'v1.0.0',
      endpoints: [`grpc://10.0.0.${i % 250}:9000?isSecure=false`],
      metadata: { zone: 'a' },
      tags: ['edge'],
    }).delta
    delta =
      delta === undefined
        ? next
        : { ...delta, toSeq: next.toSeq, claims: [...delta.claims, ...next.claims] }
  }
  return delta!
}

function deltaMessage(delta: Delta): PubsubMessage {
  return { v: PROTOCOL_VERSION, t: MessageType.DELTA, hbSeq: 3, ...delta }
}

function reasonOf(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(DecodeError)
    expect((err as DecodeError).code).toBe('ERR_DECODE')
    return (err as DecodeError).reason
  }
  throw new Error('expected a DecodeError')
}

describe('codec: round trips', () => {
  it('DELTA and member records survive encode/decode', () => {
    const sig = new Uint8Array(64).fill(7)
    const messages: PubsubMessage[] = [
      deltaMessage(writes(3)),
      {
        v: PROTOCOL_VERSION,
        t: MessageType.ALIVE,
        record: {
          kind: 'alive',
          id: ORIGIN,
          gen: 7,
          incarnation: 2,
          name: 'web-1',
          addrs: [`/ip4/10.0.0.1/tcp/4001/p2p/${ORIGIN}`],
          sig,
        },
      },
      {
        v: PROTOCOL_VERSION,
        t: MessageType.SUSPECT,
        record: { kind: 'suspect', id: ORIGIN, gen: 7, incarnation: 2, from: ORIGIN, sig },
      },
      {
        v: PROTOCOL_VERSION,
        t: MessageType.LEFT,
        record: { kind: 'left', id: ORIGIN, gen: 7, incarnation: 3, sig },
      },
    ]
    for (const message of messages) {
      expect(decodePubsubMessage(encodePubsubMessage(message))).toEqual(message)
    }
  })

  it('an ALIVE’s stated coverage survives encode/decode, under its member’s signature', async () => {
    const key = await generatePrivateKey()
    const id = peerIdOf(key)
    const unsigned = {
      kind: 'alive',
      id,
      gen: 7,
      incarnation: 2,
      name: 'web-1',
      addrs: [],
    } as const
    const stated = { ...unsigned, covered: 41 }
    const sig = createRecordSigner(key).sign(memberRecordBytes('demo', stated))
    const message: PubsubMessage = {
      v: PROTOCOL_VERSION,
      t: MessageType.ALIVE,
      record: { ...stated, sig },
    }
    const decoded = decodePubsubMessage(encodePubsubMessage(message))
    expect(decoded).toEqual(message)
    const verifier = createRecordVerifier()
    expect(verifier.verify(id, memberRecordBytes('demo', stated), sig)).toBe(true)
    // A relay can neither change the figure nor strip it, nor add one to a record without.
    expect(verifier.verify(id, memberRecordBytes('demo', { ...stated, covered: 40 }), sig)).toBe(
      false,
    )
    expect(verifier.verify(id, memberRecordBytes('demo', unsigned), sig)).toBe(false)
    const plain = createRecordSigner(key).sign(memberRecordBytes('demo', unsigned))
    expect(verifier.verify(id, memberRecordBytes('demo', { ...unsigned, covered: 0 }), plain)).toBe(
      false,
    )
  })

  it('SYN, ACK and ACK2 survive encode/decode', () => {
    const delta = writes(2)
    const part = { origin: ORIGIN, gen: 7, full: true, after: 0, covered: 2, claims: delta.claims }
    const digest = { [ORIGIN]: { gen: 7, covered: 2, floor: 0 } }
    const frames: SyncFrame[] = [
      { v: PROTOCOL_VERSION, t: MessageType.SYN, cluster: 'demo', digest },
      { v: PROTOCOL_VERSION, t: MessageType.ACK, parts: [part], want: digest },
      { v: PROTOCOL_VERSION, t: MessageType.ACK2, parts: [] },
    ]
    for (const frame of frames) {
      const decoded = decodeSyncFrame(encodeSyncFrame(frame))
      expect(JSON.parse(JSON.stringify(decoded))).toEqual(JSON.parse(JSON.stringify(frame)))
    }
  })

  it('ACK and ACK2 from cached claim bytes are the bytes msgpack gives the compact frame', () => {
    // The oracle: the frame compacted as the Wire section says, packed in one go.
    const packr = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true })
    const compactClaim = (claim: Claim) => {
      const { id, seq, vv, instance, sig } = claim
      const signed = sig === undefined ? {} : { sig }
      if (instance === null) return { id, seq, vv, instance: null, ...signed }
      const { id: _id, node: _node, ...fields } = instance
      return { id, seq, vv, instance: fields, ...signed }
    }
    const reference = (frame: SyncFrame): Uint8Array => {
      if (frame.t === MessageType.SYN) return packr.pack(frame)
      const parts = frame.parts.map((part) => {
        const out: Record<string, unknown> = { ...part, claims: part.claims.map(compactClaim) }
        if (part.seal !== undefined) {
          const { gen, covered, floor, sig } = part.seal
          out.seal = { gen, covered, floor, sig }
        }
        return out
      })
      return packr.pack({ ...frame, parts })
    }
    const delta = writes(20)
    const signed = delta.claims.map((claim) => Object.freeze({ ...claim, sig: new Uint8Array(64) }))
    const tombstone = Object.freeze({ ...delta.claims[0]!, seq: 21, instance: null })
    const seal = { origin: ORIGIN, gen: 7, covered: 21, floor: 3, sig: new Uint8Array(64).fill(1) }
    const part = (claims: readonly Claim[], extra: object = {}) => ({
      origin: ORIGIN,
      gen: 7,
      full: false,
      after: 0,
      floor: 0,
      covered: claims.length,
      claims,
      ...extra,
    })
    const digest = { [ORIGIN]: { gen: 7, covered: 2, floor: 0 } }
    const frames: SyncFrame[] = [
      { v: PROTOCOL_VERSION, t: MessageType.ACK2, parts: [] },
      { v: PROTOCOL_VERSION, t: MessageType.ACK, parts: [part([])], want: {} },
      {
        v: PROTOCOL_VERSION,
        t: MessageType.ACK,
        parts: [part(delta.claims.slice(0, 3))],
        want: digest,
      },
      // 20 claims and 17 parts: 16-bit array headers; a seal (compacted) and a tombstone.
      {
        v: PROTOCOL_VERSION,
        t: MessageType.ACK2,
        parts: Array.from({ length: 17 }, (_, i) =>
          part(i % 2 === 0 ? signed : [...delta.claims.slice(0, i), tombstone], { seal }),
        ),
      },
      // 70,000 claims: a 32-bit array header.
      {
        v: PROTOCOL_VERSION,
        t: MessageType.ACK2,
        parts: [part(Array.from({ length: 70_000 }, (_, i) => delta.claims[i % 20]!))],
      },
    ]
    // The first byte that differs, or -1 (a deep equality of megabytes takes minutes).
    const firstDifference = (a: Uint8Array, b: Uint8Array): number => {
      if (Buffer.compare(a, b) === 0) return -1
      for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return i
      return Math.min(a.length, b.length)
    }
    for (const frame of frames) {
      const expected = reference(frame)
      expect(firstDifference(encodeSyncFrame(frame, 64 * 2 ** 20), expected)).toBe(-1)
      // Again, from the cache.
      expect(firstDifference(encodeSyncFrame(frame, 64 * 2 ** 20), expected)).toBe(-1)
    }
    expect(() => encodeSyncFrame(frames[4]!)).toThrow(MessageTooLargeError)
  })

  it('refuses to encode a pubsub message over 64 KiB', () => {
    expect(() => encodePubsubMessage(deltaMessage(writes(600)))).toThrow(MessageTooLargeError)
  })
})

describe('codec: hostile input becomes a typed DecodeError', () => {
  /** A valid ALIVE that the tests below spoil one field at a time. */
  const heartbeat = {
    v: PROTOCOL_VERSION,
    t: MessageType.ALIVE,
    id: ORIGIN,
    gen: 1,
    inc: 0,
    name: 'web-1',
    addrs: [],
    sig: new Uint8Array(64),
  }

  it('random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 512 }), (bytes) => {
        for (const decode of [decodePubsubMessage, decodeSyncFrame]) {
          try {
            decode(bytes)
          } catch (err) {
            if (!(err instanceof DecodeError)) throw err
          }
        }
      }),
      { numRuns: 2_000 },
    )
  })

  it('every truncation of a valid message', () => {
    const bytes = encodePubsubMessage(deltaMessage(writes(2)))
    for (let n = 0; n < bytes.length; n++) {
      expect(reasonOf(() => decodePubsubMessage(bytes.subarray(0, n)))).toBe('decode')
    }
  })

  it('trailing bytes after a valid message', () => {
    const bytes = encodePubsubMessage(deltaMessage(writes(1)))
    const longer = new Uint8Array([...bytes, 0xc0])
    expect(reasonOf(() => decodePubsubMessage(longer))).toBe('decode')
  })

  it('absurd nesting (stack overflow inside msgpackr)', () => {
    expect(reasonOf(() => decodeSyncFrame(new Uint8Array(200_000).fill(0x91)))).toBe('decode')
  })

  it('oversized input is refused before decoding', () => {
    const big = new Uint8Array(WIRE_LIMITS.pubsubMessageBytes + 1)
    expect(reasonOf(() => decodePubsubMessage(big))).toBe('oversize')
  })

  it('wrong version and wrong channel', () => {
    expect(reasonOf(() => decodePubsubMessage(raw.pack({ ...heartbeat, v: 1 })))).toBe('version')
    expect(reasonOf(() => decodeSyncFrame(raw.pack(heartbeat)))).toBe('type')
    expect(reasonOf(() => decodePubsubMessage(raw.pack({ ...heartbeat, t: 99 })))).toBe('type')
    expect(reasonOf(() => decodePubsubMessage(raw.pack([1, 2, 3])))).toBe('decode')
  })

  it('wrong types and out-of-range numbers', () => {
    const bad: Record<string, unknown>[] = [
      { ...heartbeat, gen: '1' },
      { ...heartbeat, gen: 0 },
      { ...heartbeat, inc: 1.5 },
      { ...heartbeat, inc: -1 },
      { ...heartbeat, inc: 2 ** 60 },
      { ...heartbeat, id: '' },
      { ...heartbeat, id: '__proto__' },
      { ...heartbeat, id: 'x'.repeat(300) },
      { ...heartbeat, id: undefined },
      { ...heartbeat, sig: 'not bytes' },
      { ...heartbeat, sig: new Uint8Array(200) },
      { ...heartbeat, name: 'x'.repeat(300) },
      { ...heartbeat, addrs: ['not a multiaddr'] },
      { ...heartbeat, addrs: Array.from({ length: 9 }, () => '/ip4/1.2.3.4/tcp/1') },
      { ...heartbeat, cov: -1 },
      { ...heartbeat, cov: 1.5 },
      { ...heartbeat, cov: '3' },
      { ...heartbeat, cov: 2 ** 60 },
    ]
    for (const message of bad) {
      expect(reasonOf(() => decodePubsubMessage(raw.pack(message)))).toBe('schema')
    }
  })

  it('claims that do not match their envelope', () => {
    const delta = writes(3)
    const claims = delta.claims as Claim[]
    const cases: Delta[] = [
      { ...delta, claims: [claims[1]!, claims[0]!] }, // not ascending
      { ...delta, toSeq: 2 }, // seq 3 outside the range
      { ...delta, gen: 8 }, // claims of another generation
      { ...delta, claims: [{ ...claims[0]!, origin: `${ORIGIN}x` }] }, // another origin
      { ...delta, claims: [{ ...claims[0]!, vv: {} }] }, // invalid claim (core's validateClaim)
      {
        ...delta,
        claims: [{ ...claims[0]!, instance: { ...claims[0]!.instance!, name: 'bad name' } }],
      },
    ]
    for (const message of cases) {
      expect(reasonOf(() => decodePubsubMessage(raw.pack(deltaMessage(message))))).toBe('schema')
    }
  })

  it('malformed digests and parts', () => {
    const syn = { v: PROTOCOL_VERSION, t: MessageType.SYN, cluster: 'demo' }
    expect(reasonOf(() => decodeSyncFrame(raw.pack({ ...syn, digest: [] })))).toBe('schema')
    expect(reasonOf(() => decodeSyncFrame(raw.pack({ ...syn, digest: { a: 1 } })))).toBe('schema')
    const part = { origin: ORIGIN, gen: 1, full: 'yes', after: 0, covered: 0, claims: [] }
    const ack2 = { v: PROTOCOL_VERSION, t: MessageType.ACK2, parts: [part] }
    expect(reasonOf(() => decodeSyncFrame(raw.pack(ack2)))).toBe('schema')
    const twice = { ...part, full: false }
    expect(reasonOf(() => decodeSyncFrame(raw.pack({ ...ack2, parts: [twice, twice] })))).toBe(
      'schema',
    )
  })

  it('a "__proto__" key from the network pollutes nothing', () => {
    const digest: Record<string, unknown> = {}
    Object.defineProperty(digest, '__proto__', {
      value: { gen: 1, covered: 0, floor: 0 },
      enumerable: true,
    })
    const bytes = raw.pack({ v: PROTOCOL_VERSION, t: MessageType.SYN, cluster: 'demo', digest })
    expect(reasonOf(() => decodeSyncFrame(bytes))).toBe('schema')
    expect(({} as Record<string, unknown>).gen).toBeUndefined()
  })
})

describe('codec: one bad claim is dropped on its own (finding 4)', () => {
  it('a poisoned vector ends its DELTA or part just before it; the rest of the frame applies', () => {
    const delta = writes(4)
    const claims = delta.claims as Claim[]
    // 2^53 - 1 in a vector: before, this rejected the whole frame, so every later frame of the
    // owner that carried the claim was refused and views diverged.
    const poisoned = { ...claims[2]!, vv: { ...claims[2]!.vv, [ORIGIN]: 2 ** 53 - 1 } }
    const drops = { claims: 0 }
    const message = decodePubsubMessage(
      raw.pack(deltaMessage({ ...delta, claims: [claims[0]!, claims[1]!, poisoned, claims[3]!] })),
      drops,
    )
    if (message.t !== MessageType.DELTA) throw new Error('expected a DELTA')
    expect(message).toMatchObject({ fromSeq: 1, toSeq: 2 })
    expect(message.claims.map((claim) => claim.seq)).toEqual([1, 2])
    expect(drops.claims).toBe(2)

    const other = writes(1, `${ORIGIN}B`)
    const ack2 = {
      v: PROTOCOL_VERSION,
      t: MessageType.ACK2,
      parts: [
        {
          origin: ORIGIN,
          gen: 7,
          full: true,
          after: 0,
          covered: 4,
          claims: [claims[0]!, poisoned],
        },
        {
          origin: `${ORIGIN}B`,
          gen: 7,
          full: true,
          after: 0,
          covered: 1,
          claims: other.claims,
        },
      ],
    }
    const frameDrops = { claims: 0 }
    const frame = decodeSyncFrame(raw.pack(ack2), WIRE_LIMITS.syncFrameBytes, frameDrops)
    if (frame.t !== MessageType.ACK2) throw new Error('expected ACK2')
    expect(frame.parts.map((part) => [part.covered, part.claims.length])).toEqual([
      [2, 1],
      [1, 1],
    ])
    expect(frameDrops.claims).toBe(1)
  })
})
