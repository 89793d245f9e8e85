import '../polyfill.js'
import { RPC } from '@chainsafe/libp2p-gossipsub/message'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import type { Connection, PrivateKey, Stream } from '@libp2p/interface'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { type LengthPrefixedStream, lpStream } from 'it-length-prefixed-stream'
import { createLibp2p, type Libp2p } from 'libp2p'
import { generatePrivateKey } from '../identity.js'
import { createRecordSigner } from '../record-signing.js'

/**
 * A peer that speaks the wire by hand, for hostile-input tests: a bare libp2p node (TCP,
 * Noise, Yamux, identify; no gossipsub, no Grapevine) that writes whatever bytes a test
 * gives it on a gossipsub stream or a sync stream. What a real attacker can do, so the
 * tests see exactly what a victim sees; nothing here is used by an agent.
 */

/** A libp2p stream, written to as is (see `RawPeer.openBare`). */
export type BareStream = Stream

/** A gossipsub message as it travels inside an RPC (protobuf fields). */
export interface RawTopicMessage {
  from?: Uint8Array
  data?: Uint8Array
  seqno?: Uint8Array
  topic: string
  signature?: Uint8Array
  key?: Uint8Array
}

/** The gossipsub protocol the raw peer speaks (gossipsub 1.1, which every peer accepts). */
export const GOSSIPSUB_PROTOCOL = '/meshsub/1.1.0'

const PING_PROTOCOL = '/ipfs/ping/1.0.0'

/** gossipsub signs "libp2p-pubsub:" followed by the message without `signature` and `key`. */
const SIGN_PREFIX = new TextEncoder().encode('libp2p-pubsub:')

export interface RawPeer {
  readonly peerId: string
  readonly privateKey: PrivateKey
  /** This peer's id as the multihash bytes a gossipsub message's `from` carries. */
  readonly fromBytes: Uint8Array
  /** Dials `address`; resolves with the connection. */
  dial(address: string): Promise<Connection>
  /** Opens a stream of `protocol` on the connection to `peer`, length-prefixed frames. */
  open(peer: string, protocol: string, maxFrameBytes?: number): Promise<RawStream>
  /** Opens a bare stream of `protocol`: whatever is written to its sink goes out as is. */
  openBare(peer: string, protocol: string): Promise<Stream>
  /**
   * A gossipsub message signed as gossipsub signs it (valid for this peer, whatever `data`
   * holds), or with `from` another peer's id, which then does not verify.
   */
  signTopicMessage(
    topic: string,
    data: Uint8Array,
    seqno: bigint,
    from?: Uint8Array,
  ): RawTopicMessage
  stop(): Promise<void>
}

export interface RawStream {
  readonly stream: Stream
  readonly lp: LengthPrefixedStream<Stream>
  /** Writes frames as one batch (length prefixes added). */
  writeFrames(frames: readonly Uint8Array[]): Promise<void>
}

/** A gossipsub RPC: subscriptions and messages, protobuf-encoded (no length prefix). */
export function encodeTopicRpc(init: {
  subscribe?: readonly string[]
  messages?: readonly RawTopicMessage[]
}): Uint8Array {
  return RPC.encode({
    subscriptions: (init.subscribe ?? []).map((topic) => ({ topic, subscribe: true })),
    messages: [...(init.messages ?? [])],
  })
}

/** A peer id as the multihash bytes of a gossipsub message's `from`. */
export function peerIdBytes(peerId: string): Uint8Array {
  return peerIdFromString(peerId).toMultihash().bytes
}

export function seqnoBytes(seqno: bigint): Uint8Array {
  const bytes = new Uint8Array(8)
  new DataView(bytes.buffer).setBigUint64(0, seqno)
  return bytes
}

export async function createRawPeer(init: { privateKey?: PrivateKey } = {}): Promise<RawPeer> {
  const privateKey = init.privateKey ?? (await generatePrivateKey())
  const libp2p: Libp2p = await createLibp2p({
    privateKey,
    addresses: { listen: [] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionMonitor: { enabled: false },
    services: { identify: identify() },
  })
  // Peers learn by identify which protocols we speak, and gossipsub forgets a peer that does
  // not list its own: advertise it, and read (and drop) what the victim sends us on it.
  await libp2p.handle(
    GOSSIPSUB_PROTOCOL,
    ({ stream }) => {
      void (async () => {
        for await (const _ of stream.source) {
          /* drop */
        }
      })().catch(() => undefined)
    },
    { maxInboundStreams: 8 },
  )
  // libp2p's connection monitor pings every connection and closes it when the ping fails.
  await libp2p.handle(
    PING_PROTOCOL,
    ({ stream }) => {
      void stream.sink(stream.source).catch(() => undefined)
    },
    { maxInboundStreams: 4 },
  )
  const peerId = peerIdFromPrivateKey(privateKey)
  const fromBytes = peerId.toMultihash().bytes
  const signer = createRecordSigner(privateKey)
  // Addresses dialed, by peer: a connection the remote closed is dialed again on demand.
  const dialed = new Map<string, string>()
  const connectionTo = async (peer: string): Promise<Connection> => {
    const connection = libp2p.getConnections().find((c) => c.remotePeer.toString() === peer)
    if (connection !== undefined) return connection
    const address = dialed.get(peer)
    if (address === undefined) throw new Error(`not connected to ${peer}`)
    return libp2p.dial(multiaddr(address))
  }
  return {
    peerId: peerId.toString(),
    privateKey,
    fromBytes,
    async dial(address) {
      const connection = await libp2p.dial(multiaddr(address))
      dialed.set(connection.remotePeer.toString(), address)
      return connection
    },
    async open(peer, protocol, maxFrameBytes = 8 * 1024 * 1024) {
      const stream = await (await connectionTo(peer)).newStream(protocol)
      const lp = lpStream(stream, { maxDataLength: maxFrameBytes })
      return {
        stream,
        lp,
        writeFrames: (frames) => lp.writeV([...frames]),
      }
    },
    openBare: async (peer, protocol) => (await connectionTo(peer)).newStream(protocol),
    signTopicMessage(topic, data, seqno, from = fromBytes) {
      const message: RawTopicMessage = { from, data, seqno: seqnoBytes(seqno), topic }
      const signed = new Uint8Array([...SIGN_PREFIX, ...RPC.Message.encode(message)])
      return { ...message, signature: signer.sign(signed) }
    },
    async stop() {
      await libp2p.stop()
    },
  }
}
