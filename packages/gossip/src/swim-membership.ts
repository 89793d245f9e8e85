import {
  createSwim,
  type MemberFact,
  type MemberRecord,
  memberRecordBytes,
  type Signer,
  type Swim,
  type SwimMessage,
  type SwimTimings,
  signerOf,
  type Verifier,
} from '@grapevine/core'
import type { Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { type LengthPrefixedStream, lpStream } from 'it-length-prefixed-stream'
import { datagramOverhead } from './datagram-seal.js'
import { DecodeError } from './errors.js'
import type { Host } from './host.js'
import type { MemberInfo, Membership, MembershipEvents, MembershipStats } from './membership.js'
import { SWIM_PROTOCOL, WIRE_LIMITS } from './messages.js'
import type { NetworkCounters } from './network-stats.js'
import { MEMBER_TAG } from './peer-dialer.js'
import { addressesToAnnounce } from './peer-keeper.js'
import { checkPort } from './port-check.js'
import {
  createSwimDatagrams,
  type DatagramAddress,
  datagramAddressOf,
  datagramBinding,
  datagramMultiaddrs,
  type SwimDatagrams,
} from './swim-datagrams.js'
import { decodeSwimEnvelope, encodeSwimFrame } from './swim-wire.js'

/**
 * SWIM membership on libp2p: the core state machine (`createSwim`) driven by one timer, and
 * the records it originates flooded on the pubsub topic. Probes (PING, PING_ACK, PING_REQ,
 * PING_NACK) go as sealed datagrams to the member's UDP port (`swim-datagrams.ts`), like
 * memberlist's; MEMBERS tables, frames too large for a datagram, and everything to a
 * member that announced no UDP address go on the `/grapevine/swim/2.0.0` stream protocol
 * (one long-lived stream per peer and direction, length-prefixed frames). Every record is
 * checked against its signer's key before the machine sees it (a cache skips records
 * already checked: piggyback repeats each a few times).
 *
 * A closed connection makes the machine probe the peer at once, and that PING also checks the
 * peer's TCP port (`port-check.ts`): a killed process's port refuses within a millisecond, the
 * probe fails at once, and the suspicion that follows is flooded cluster-wide, so every
 * member hears of a crash within one round trip, not only the peers that held a connection.
 * A connection the peer keeper closed on purpose costs the peer one bare TCP connect, not a
 * libp2p redial.
 */

export interface SwimMembershipInit {
  readonly timings: SwimTimings
  /** This node's generation (higher on every start). */
  readonly gen: number
  /** This node's name, carried in its ALIVE. */
  readonly name: string
  /** Dead and left members are forgotten after this many ms. */
  readonly purgeAfter: number
  /** Time allowed to open a probe stream (a dial included), in ms. @default 2_000 */
  readonly dialTimeout?: number
  /**
   * Probe over UDP datagrams (needs an IP listen address); off, every frame takes the
   * stream, which costs a libp2p connection per probed member. @default true
   */
  readonly datagrams?: boolean
  /** Monotonic milliseconds. @default performance.now */
  readonly now?: () => number
}

export interface SwimMembershipComponents {
  readonly host: Host
  readonly signer: Signer
  readonly verifier: Verifier
  readonly counters: NetworkCounters
  /** Publishes a record this node originated on the cluster topic. */
  publish(record: MemberRecord): void
  /**
   * How far this node has written in its generation, stated in each ALIVE it signs (see
   * core's `SwimInit.covered`); without it ALIVEs state nothing.
   */
  covered?(): number
  /**
   * Digest tags on PING and PING_ACK (`digest-tag.ts`); without it, or while `tag()` gives
   * none, frames carry none.
   */
  readonly digest?: {
    tag(): number | undefined
    heard(peer: string, tag: number): void
  }
}

interface Link {
  readonly lp: Promise<LengthPrefixedStream>
  stream: Stream | undefined
  chain: Promise<void>
}

const VERIFIED_CACHE = 8_192
/** Bounds the reply addresses learnt from datagrams of senders not (yet) in the table. */
const SOURCE_ADDRESSES = 16_384
/** How long after a connection closed a PING to that peer also checks its port (see above). */
const LOST_CONNECTION_MS = 5_000
/** Bounds the port check's socket; on a LAN it connects or is refused in a millisecond. */
const PORT_CHECK_TIMEOUT_MS = 1_000
/** A PING frame without records: header, seq, target id, table and digest tags. */
const PING_FRAME_BASE_BYTES = 100

export function createSwimMembership(
  init: SwimMembershipInit,
  components: SwimMembershipComponents,
): Membership {
  const { host, counters, verifier } = components
  const libp2p = host.libp2p
  const now = init.now ?? (() => performance.now())
  const log = libp2p.logger.forComponent('grapevine:membership')
  const self = host.peerId
  const listeners = new Set<(fact: MemberFact) => void>()
  const links = new Map<string, Link>()
  const inbound = new Set<Stream>()
  const verified = new Set<string>()
  const io = {
    messagesIn: 0,
    messagesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    datagramsIn: 0,
    datagramsOut: 0,
  }
  // Where each member takes datagrams (from its ALIVE), and when connections were lost.
  const datagramAddresses = new Map<string, DatagramAddress>()
  const lostAt = new Map<string, number>()
  // The addresses last written to the peer store per member (`remember`).
  const remembered = new Map<string, string>()
  let datagrams: SwimDatagrams | undefined
  let swim: Swim | undefined
  let timer: ReturnType<typeof setTimeout> | undefined
  let timerAt = Number.POSITIVE_INFINITY
  let running = false

  /** True if the record's signature is its signer's; forged or broken ones are counted. */
  function authentic(record: MemberRecord, relay: string): boolean {
    const key = Buffer.from(record.sig).toString('base64')
    if (verified.has(key)) return true
    const signer = signerOf(record)
    if (!verifier.verify(signer, memberRecordBytes(host.cluster, record), record.sig)) {
      counters.drop('signature', relay, `${record.kind} of ${record.id} not signed by ${signer}`)
      return false
    }
    if (verified.size >= VERIFIED_CACHE) verified.delete(verified.values().next().value as string)
    verified.add(key)
    return true
  }

  /**
   * Where to answer a sender this node has no ALIVE of yet: the authenticated datagram's
   * source, which is the sender's membership socket and (same port) its TCP listener. While a
   * cluster forms, a member often probes or sends its table to one that has not heard of it;
   * without this the ack and the table reply had no address, failed, and made it suspect.
   */
  function learnSource(from: string, source: DatagramAddress): void {
    if (datagramAddresses.size >= SOURCE_ADDRESSES) return
    datagramAddresses.set(from, source)
    const ip = source.family === 6 ? 'ip6' : 'ip4'
    remember(from, [`/${ip}/${source.host}/tcp/${source.port}/p2p/${from}`])
  }

  /**
   * Adds a member's TCP addresses to libp2p's peer store, so that a stream can dial it. Only
   * when they changed: every refutation brings an ALIVE, and a peer-store write (protobuf,
   * a lock) costs more than the rest of handling it.
   */
  function remember(id: string, addresses: readonly string[]): void {
    const key = addresses.join(' ')
    if (remembered.get(id) === key) return
    if (remembered.size >= SOURCE_ADDRESSES) remembered.clear()
    remembered.set(id, key)
    try {
      const multiaddrs = addresses.map((text) => multiaddr(text))
      libp2p.peerStore
        .merge(peerIdFromString(id), { multiaddrs, tags: { [MEMBER_TAG]: { value: 0 } } })
        .catch(() => undefined)
    } catch (err) {
      log('addresses of %s unusable: %s', id, (err as Error).message)
    }
  }

  function emit(fact: MemberFact): void {
    if (fact.state === 'left') {
      datagramAddresses.delete(fact.id)
      remembered.delete(fact.id)
    }
    if (fact.state === 'alive' && datagrams !== undefined) {
      const address = datagramAddressOf(fact.addrs, datagrams.family)
      if (address === undefined) datagramAddresses.delete(fact.id)
      else datagramAddresses.set(fact.id, address)
    }
    const dialable = fact.addrs.filter((text) => text.includes('/tcp/'))
    // So that a probe can dial a member we were never connected to.
    if (fact.state === 'alive' && dialable.length > 0) remember(fact.id, dialable)
    for (const listener of listeners) {
      try {
        listener(fact)
      } catch (err) {
        log.error('membership listener failed: %s', (err as Error).message)
      }
    }
  }

  function schedule(): void {
    if (swim === undefined || !running) return
    const next = swim.nextDeadline()
    if (next === timerAt) return
    clearTimeout(timer)
    timerAt = next
    if (!Number.isFinite(next)) return
    // libuv fires a timer against its cached loop time, up to a millisecond before `now()`
    // reaches the deadline; such a tick finds nothing due and costs a second wake-up 1 ms later.
    timer = setTimeout(onTimer, Math.max(0, Math.ceil(next - now()) + 1))
  }

  function onTimer(): void {
    timerAt = Number.POSITIVE_INFINITY
    if (swim === undefined || !running) return
    swim.tick()
    pump()
  }

  /** Sends and publishes what the machine produced, emits its facts, re-arms the timer. */
  function pump(): MemberRecord[] {
    if (swim === undefined) return []
    const output = swim.drain()
    for (const { to, message } of output.messages) send(to, message)
    for (const record of output.floods) components.publish(record)
    for (const fact of output.facts) emit(fact)
    schedule()
    return output.floods
  }

  function openLink(to: string): Link {
    const dialTimeout = init.dialTimeout ?? 2_000
    const link: Link = {
      lp: libp2p
        .dialProtocol(peerIdFromString(to), SWIM_PROTOCOL, {
          signal: AbortSignal.timeout(dialTimeout),
        })
        .then((stream) => {
          link.stream = stream
          return lpStream(stream, { maxDataLength: WIRE_LIMITS.swimFrameBytes })
        }),
      stream: undefined,
      chain: Promise.resolve(),
    }
    // Failures surface through `chain`; this only keeps the rejection from going unhandled.
    link.lp.catch(() => undefined)
    links.set(to, link)
    return link
  }

  function dropLink(to: string, link: Link): void {
    if (links.get(to) === link) links.delete(to)
    link.stream?.abort(new Error('swim link dropped'))
  }

  function countSent(bytes: Uint8Array): void {
    io.messagesOut++
    io.bytesOut += bytes.byteLength
    counters.sent(bytes.byteLength)
  }

  /** Sends `bytes` as a datagram if `message` may go as one and it fits; false: use the stream. */
  function sentAsDatagram(to: string, message: SwimMessage, bytes: Uint8Array): boolean {
    if (datagrams === undefined || message.kind === 'state') return false
    const address = datagramAddresses.get(to)
    if (address === undefined || !datagrams.send(to, address, bytes)) return false
    io.datagramsOut++
    countSent(bytes)
    if (message.kind === 'ping' && lostRecently(to)) failIfRefused(to, address, message)
    return true
  }

  function lostRecently(peer: string): boolean {
    const lost = lostAt.get(peer)
    if (lost === undefined) return false
    if (now() - lost < LOST_CONNECTION_MS) return true
    lostAt.delete(peer)
    return false
  }

  /** A PING to a member whose connection just closed: a refused TCP port fails it at once. */
  function failIfRefused(to: string, address: DatagramAddress, ping: SwimMessage): void {
    void checkPort(address, PORT_CHECK_TIMEOUT_MS).then((port) => {
      if (port !== 'refused' || swim === undefined || !running) return
      log('%s refuses connections: its PING fails now', to)
      swim.undeliverable(to, ping)
      pump()
    })
  }

  function send(to: string, message: SwimMessage): void {
    let bytes: Uint8Array
    try {
      const tag =
        message.kind === 'ping' || message.kind === 'ack' ? components.digest?.tag() : undefined
      bytes = encodeSwimFrame(message, tag)
    } catch (err) {
      log.error('cannot encode a %s for %s: %s', message.kind, to, (err as Error).message)
      return
    }
    if (!running) return
    if (sentAsDatagram(to, message, bytes)) return
    const link = links.get(to) ?? openLink(to)
    link.chain = link.chain
      .then(async () => {
        const lp = await link.lp
        await lp.write(bytes)
        countSent(bytes)
      })
      .catch((err: Error) => {
        log('%s to %s undeliverable: %s', message.kind, to, err.message)
        dropLink(to, link)
        if (swim === undefined || !running) return
        swim.undeliverable(to, message)
        pump()
      })
  }

  function receive(from: string, message: SwimMessage): void {
    if (swim === undefined) return
    const records = message.kind === 'state' ? message.records : message.updates
    const good = records.filter((record) => authentic(record, from))
    const checked: SwimMessage =
      good.length === records.length
        ? message
        : message.kind === 'state'
          ? { ...message, records: good }
          : { ...message, updates: good }
    swim.receive(from, checked)
    pump()
  }

  /** A frame from `from`, by either path. */
  function onFrame(from: string, frame: Uint8Array): void {
    io.messagesIn++
    io.bytesIn += frame.byteLength
    let message: SwimMessage
    let digestTag: number | undefined
    try {
      ;({ message, digestTag } = decodeSwimEnvelope(frame))
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err
      counters.drop(err.reason, from, err.message)
      return
    }
    receive(from, message)
    if (digestTag !== undefined) components.digest?.heard(from, digestTag)
  }

  async function readLoop(stream: Stream, from: string): Promise<void> {
    inbound.add(stream)
    const lp = lpStream(stream, { maxDataLength: WIRE_LIMITS.swimFrameBytes })
    try {
      while (running) {
        const frame = (await lp.read()).subarray()
        counters.received(frame.byteLength)
        onFrame(from, frame)
      }
    } catch (err) {
      log('swim stream from %s ended: %s', from, (err as Error).message)
    } finally {
      inbound.delete(stream)
      stream.abort(new Error('swim stream closed'))
    }
  }

  return {
    async start() {
      if (running) return
      running = true
      let addrs = addressesToAnnounce(host.addresses())
      const bind =
        init.datagrams === false ? undefined : datagramBinding(host.listen, host.addresses())
      if (bind !== undefined) {
        const socket = createSwimDatagrams(
          { self, bind, now },
          {
            keys: host.pairKeys,
            counters,
            log,
            receive: (from, frame, source) => {
              io.datagramsIn++
              if (!datagramAddresses.has(from)) learnSource(from, source)
              onFrame(from, frame)
            },
          },
        )
        await socket.start()
        datagrams = socket
        // Two TCP addresses and their UDP twins fit the ALIVE's four.
        const tcp = addrs.slice(0, WIRE_LIMITS.aliveAddresses / 2)
        addrs = [...tcp, ...datagramMultiaddrs(tcp, socket.port)]
      }
      swim = createSwim({
        self,
        gen: init.gen,
        name: init.name,
        addrs,
        cluster: host.cluster,
        now,
        random: Math.random,
        timings: init.timings,
        signer: components.signer,
        purgeAfter: init.purgeAfter,
        ...(components.covered !== undefined && { covered: components.covered }),
        // A probe and its records fit one datagram.
        ...(datagrams !== undefined && {
          maxPiggybackBytes:
            WIRE_LIMITS.swimDatagramBytes - datagramOverhead(self) - PING_FRAME_BASE_BYTES,
        }),
      })
      await libp2p.handle(
        SWIM_PROTOCOL,
        ({ stream, connection }) => void readLoop(stream, connection.remotePeer.toString()),
        { maxInboundStreams: 4, maxOutboundStreams: 4, runOnLimitedConnection: false },
      )
      swim.start()
      for (const peer of host.connectedPeers()) swim.connected(peer)
      pump()
    },

    async stop() {
      if (!running) return
      running = false
      clearTimeout(timer)
      timerAt = Number.POSITIVE_INFINITY
      for (const [to, link] of links) dropLink(to, link)
      for (const stream of inbound) stream.abort(new Error('membership stopped'))
      await datagrams?.stop()
      datagrams = undefined
      await libp2p.unhandle(SWIM_PROTOCOL).catch(() => undefined)
    },

    async leave() {
      if (swim === undefined || !running) return
      swim.leave()
      const left = pump().filter((record) => record.kind === 'left')
      // LEFT also goes down each connected peer's swim stream, and is written before the
      // tombstones follow on the topic: a stream's frames are read and applied in order,
      // while gossipsub validates messages concurrently and could hand the tombstones over
      // first (peers then report the instances `deregistered`, not `left`).
      const peers = host.connectedPeers()
      for (const peer of peers) send(peer, { kind: 'state', reply: false, records: left })
      await Promise.allSettled(peers.map((peer) => links.get(peer)?.chain))
    },

    members: (): MemberInfo[] => swim?.members() ?? [],
    member: (id) => swim?.member(id),

    on<K extends keyof MembershipEvents>(
      _event: K,
      listener: (payload: MembershipEvents[K]) => void,
    ): () => void {
      const wrapped = listener as (fact: MemberFact) => void
      listeners.add(wrapped)
      return () => listeners.delete(wrapped)
    },

    connected(peer) {
      if (swim === undefined || !running) return
      swim.connected(peer)
      pump()
    },

    disconnected(peer) {
      const link = links.get(peer)
      if (link !== undefined) dropLink(peer, link)
      const time = now()
      if (lostAt.size >= 1_024) {
        for (const [id, at] of lostAt) if (time - at >= LOST_CONNECTION_MS) lostAt.delete(id)
      }
      lostAt.set(peer, time)
      if (swim === undefined || !running) return
      swim.connectionLost(peer)
      pump()
    },

    announce() {
      if (swim === undefined || !running) return
      swim.announce()
      pump()
    },

    record(record) {
      if (swim === undefined || !running) return
      if (!authentic(record, signerOf(record))) return
      swim.receiveRecord(record)
      pump()
    },

    stats(): MembershipStats {
      const stats = swim?.stats()
      return {
        ...io,
        probes: stats?.probes ?? 0,
        failedProbes: stats?.failedProbes ?? 0,
        suspicions: stats?.suspicions ?? 0,
        refutations: stats?.refutations ?? 0,
        deaths: stats?.deaths ?? 0,
        health: swim?.health ?? 0,
      }
    },
  }
}
