import { createSocket, type RemoteInfo, type Socket } from 'node:dgram'
import type { Logger } from '@libp2p/interface'
import { datagramOverhead, datagramSender, openDatagram, sealDatagram } from './datagram-seal.js'
import { DecodeError } from './errors.js'
import { WIRE_LIMITS } from './messages.js'
import type { NetworkCounters } from './network-stats.js'
import type { PairKeys } from './pair-keys.js'
import { createRateLimiter } from './rate-limiter.js'

/**
 * The membership protocol's datagram path (memberlist's UDP probes): PING, PING_ACK,
 * PING_REQ and PING_NACK go as sealed UDP datagrams (`datagram-seal.ts`) to the port of
 * the member's TCP listener, so probing a member needs no libp2p connection to it. Through
 * a libp2p stream, one probe round trip took ~1.9 ms of CPU across both ends (yamux, Noise
 * and stream iterators per frame); as a datagram it is a few tens of µs. And a node no
 * longer ends up connected to every member it probes, which made each node's idle cost
 * grow with the cluster.
 */

export interface DatagramAddress {
  readonly family: 4 | 6
  readonly host: string
  readonly port: number
}

export interface SwimDatagramsInit {
  readonly self: string
  /** Where to bind: the host and port of the TCP listener (`datagramBinding`). */
  readonly bind: DatagramAddress
  /** Senders not heard before whose key may be derived per second (each costs a DH). @default 50 */
  readonly newSendersPerSecond?: number
  /** Monotonic milliseconds. @default performance.now */
  readonly now?: () => number
}

export interface SwimDatagramsComponents {
  readonly keys: PairKeys
  readonly counters: NetworkCounters
  readonly log: Logger
  /** An authentic frame from `from` (still to be decoded), sent from `source`. */
  receive(from: string, frame: Uint8Array, source: DatagramAddress): void
}

export interface SwimDatagrams {
  start(): Promise<void>
  stop(): Promise<void>
  /** The bound UDP port (after `start`). */
  readonly port: number
  readonly family: 4 | 6
  /**
   * Seals `frame` for `peer` and sends it to `address`. False when it cannot go as a
   * datagram (no key for the peer, too large, another address family): send it another way.
   */
  send(peer: string, address: DatagramAddress, frame: Uint8Array): boolean
}

const ADDRESS = /^\/ip([46])\/([^/]+)\/(tcp|udp)\/(\d+)/

/**
 * The address to bind: the first TCP listen address's host, and its port, or (port 0) the
 * port the listener got, read from the node's own addresses. Undefined without an IP listener.
 */
export function datagramBinding(
  listen: readonly string[],
  addresses: readonly string[],
): DatagramAddress | undefined {
  for (const text of listen) {
    const match = ADDRESS.exec(text)
    if (match === null || match[3] !== 'tcp') continue
    const family = match[1] === '6' ? 6 : 4
    let port = Number(match[4])
    if (port === 0) {
      const bound = addresses
        .map((address) => ADDRESS.exec(address))
        .find((m) => m !== null && m[3] === 'tcp' && m[1] === match[1])
      if (bound === undefined || bound === null) continue
      port = Number(bound[4])
    }
    return { family, host: match[2]!, port }
  }
  return undefined
}

/** `/ipX/<host>/udp/<port>` for each announced TCP address: where members send datagrams. */
export function datagramMultiaddrs(announced: readonly string[], port: number): string[] {
  const out: string[] = []
  for (const text of announced) {
    const match = ADDRESS.exec(text)
    if (match === null || match[3] !== 'tcp') continue
    const address = `/ip${match[1]}/${match[2]}/udp/${port}`
    if (!out.includes(address)) out.push(address)
  }
  return out
}

/** The first datagram address of `family` among a member's announced addresses. */
export function datagramAddressOf(
  addrs: readonly string[],
  family: 4 | 6,
): DatagramAddress | undefined {
  for (const text of addrs) {
    const match = ADDRESS.exec(text)
    if (match === null || match[3] !== 'udp' || Number(match[1]) !== family) continue
    const port = Number(match[4])
    if (port > 0 && port < 65_536) return { family, host: match[2]!, port }
  }
  return undefined
}

function bindSocket(socket: Socket, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err)
    socket.once('error', onError)
    socket.bind({ address: host, port, exclusive: true }, () => {
      socket.off('error', onError)
      resolve()
    })
  })
}

export function createSwimDatagrams(
  init: SwimDatagramsInit,
  components: SwimDatagramsComponents,
): SwimDatagrams {
  const { self, bind } = init
  const { keys, counters, log } = components
  const now = init.now ?? (() => performance.now())
  const perSecond = init.newSendersPerSecond ?? 50
  const newSenders = createRateLimiter({ perSecond, burst: perSecond, now })
  let socket: Socket | undefined
  let port = 0

  function onMessage(bytes: Buffer, remote: RemoteInfo): void {
    counters.received(bytes.byteLength)
    let sender: string
    try {
      sender = datagramSender(bytes)
      if (sender === self) throw new DecodeError('self', 'a datagram naming this node')
      // Deriving a key costs a DH: senders never heard before are rate-limited as a whole.
      if (!keys.has(sender) && !newSenders.take('')) {
        throw new DecodeError('budget', 'too many new datagram senders')
      }
      const key = keys.keyFor(sender)
      if (key === undefined) throw new DecodeError('auth', 'sender is not an Ed25519 peer id')
      const frame = openDatagram(bytes, self, key)
      components.receive(sender, frame, {
        family: bind.family,
        host: remote.address,
        port: remote.port,
      })
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err
      counters.drop(err.reason, `${remote.address}:${remote.port}`, err.message)
    }
  }

  return {
    get port() {
      return port
    },
    family: bind.family,

    async start() {
      const udp = createSocket(bind.family === 6 ? 'udp6' : 'udp4')
      udp.on('message', onMessage)
      try {
        await bindSocket(udp, bind.host, bind.port)
      } catch (err) {
        // The TCP port's twin is taken: any free port will do, members learn it from the ALIVE.
        log('udp port %d is taken (%s); binding another', bind.port, (err as Error).message)
        await bindSocket(udp, bind.host, 0)
      }
      udp.on('error', (err) => log.error('datagram socket: %s', err.message))
      udp.unref()
      port = udp.address().port
      socket = udp
    },

    async stop() {
      const udp = socket
      socket = undefined
      if (udp !== undefined) await new Promise<void>((resolve) => udp.close(() => resolve()))
    },

    send(peer, address, frame) {
      if (socket === undefined || address.family !== bind.family) return false
      if (frame.byteLength + datagramOverhead(self) > WIRE_LIMITS.swimDatagramBytes) return false
      const key = keys.keyFor(peer)
      if (key === undefined) return false
      const sealed = sealDatagram(frame, self, peer, key)
      socket.send(sealed, address.port, address.host, (err) => {
        if (err !== null) log('datagram to %s failed: %s', peer, err.message)
      })
      return true
    },
  }
}
