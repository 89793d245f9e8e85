import type { GossipsubMessage } from '@chainsafe/libp2p-gossipsub'
import type { Delta, RegistryNode, Replica } from '@grapevine/core'
import { type Message, type PeerId, TopicValidatorResult } from '@libp2p/interface'
import { decodePubsubMessage, encodePubsubMessage } from './codec.js'
import { createDeltaBatcher, type DeltaBatcher } from './delta-batcher.js'
import { DecodeError, MessageTooLargeError } from './errors.js'
import type { Host } from './host.js'
import {
  clusterTopic,
  type DeltaMessage,
  type HeartbeatMessage,
  MessageType,
  PROTOCOL_VERSION,
  type PubsubMessage,
} from './messages.js'
import type { NetworkCounters } from './network-stats.js'
import { addressesToAnnounce } from './peer-keeper.js'
import { createRateLimiter } from './rate-limiter.js'

/**
 * The fast path: DELTA, HEARTBEAT and LEAVE on the cluster's gossipsub topic. Messages are
 * signed (StrictSign) and the topic validator accepts one only if its signer is its `origin`,
 * so no node can write, keep alive or retire another node's state. Whatever is lost here is
 * repaired by sync: a HEARTBEAT or a DELTA that reveals a hole asks for a pull.
 */

export interface PubsubChannelInit {
  cluster: string
  /** Period of HEARTBEAT, in ms (from the profile). */
  heartbeatInterval: number
  /** See `DeltaBatcherInit.delay`. @default 5 */
  batchDelay?: number
  /**
   * Every how many HEARTBEATs this node's addresses ride along (and on the first three).
   * Fewer means less traffic, more means joiners connect to everyone sooner. @default 4
   */
  addressEvery?: number
  /**
   * Fault injection for tests and chaos experiments: the share (0–1) of received DELTAs to
   * drop, as if gossip lost them. Sync must still bring every write. @default 0
   */
  dropDeltas?: number
  /**
   * Messages each peer may deliver on the topic: `perSecond` sustained, `burst` at once; the
   * excess is ignored before decoding. A relay forwards everyone's messages, so this bounds
   * the whole cluster's publish rate as seen through one peer. @default { perSecond: 500, burst: 2_000 }
   */
  rateLimit?: { perSecond: number; burst: number }
}

/** An origin's state as a signed message of the origin announced it. */
export interface OriginAdvert {
  readonly origin: string
  readonly gen: number
  readonly covered: number
}

/** True if `replica` holds less of the origin than the origin announced. */
export function lacks(replica: Replica, advert: OriginAdvert): boolean {
  const ours = replica.origin(advert.origin)
  if (ours === undefined) return advert.covered > 0
  return advert.gen > ours.gen || (advert.gen === ours.gen && advert.covered > ours.covered)
}

export interface PubsubChannelComponents {
  host: Host
  registry: RegistryNode
  counters: NetworkCounters
  /**
   * Called when a message shows this node lacks some of an origin's writes. `relay` is the
   * peer that delivered the message (connected, and so a candidate to pull from).
   */
  behind(advert: OriginAdvert, relay: string): void
  /** Addresses an origin announced in its (signed) HEARTBEAT. */
  announced?(origin: string, addresses: readonly string[]): void
}

export interface PubsubChannel {
  start(): void
  stop(): void
  /** Queues this node's write for the next DELTA batch. */
  publish(delta: Delta): void
  /** Sends the pending batch and waits until every publish so far has been handed to peers. */
  flush(): Promise<void>
  /** Flushes, then publishes LEAVE. */
  /** Flushes pending writes, sends LEAVE, then the tombstones, and waits for the sends. */
  leave(tombstones?: Delta): Promise<void>
}

export function createPubsubChannel(
  init: PubsubChannelInit,
  components: PubsubChannelComponents,
): PubsubChannel {
  const { host, registry, counters } = components
  const pubsub = host.libp2p.services.pubsub
  const topic = clusterTopic(init.cluster)
  const self = host.peerId
  const log = host.libp2p.logger.forComponent('grapevine:pubsub')
  // The validator decodes once; the message handler reuses its result (same Message object).
  const accepted = new WeakMap<Message, PubsubMessage>()
  const inflight = new Set<Promise<void>>()
  let hbSeq = 0
  let heartbeats = 0
  const addressEvery = init.addressEvery ?? 4
  const dropDeltas = init.dropDeltas ?? 0
  let heartbeatTimer: ReturnType<typeof setInterval> | undefined
  let running = false

  const ownCovered = (): number => registry.replica.origin(self)?.covered ?? 0

  function send(message: PubsubMessage, bytes: Uint8Array): void {
    counters.sent(bytes.byteLength)
    const done: Promise<void> = pubsub
      .publish(topic, bytes)
      .then(
        () => undefined,
        (err: Error) => log('publish of type %d failed: %s', message.t, err.message),
      )
      .finally(() => inflight.delete(done))
    inflight.add(done)
  }

  /** Encodes and sends; halves a DELTA whose estimate was too optimistic. */
  function sendDelta(delta: Delta): void {
    hbSeq++
    // The seal (our signed coverage) rides along, so that relays can pass our parts on.
    const seal = registry.ownSeal()
    const message: DeltaMessage = {
      v: PROTOCOL_VERSION,
      t: MessageType.DELTA,
      hbSeq,
      ...delta,
      ...(seal !== undefined && { seal }),
    }
    try {
      send(message, encodePubsubMessage(message))
    } catch (err) {
      if (!(err instanceof MessageTooLargeError)) throw err
      if (delta.claims.length <= 1) {
        // Peers see the hole through our next HEARTBEAT's `covered` and pull it by sync.
        counters.drop('oversize', self, `own claim of ${err.bytes} bytes left to sync`)
        return
      }
      const mid = Math.floor(delta.claims.length / 2)
      const cut = delta.claims[mid - 1]!.seq
      sendDelta({ ...delta, toSeq: cut, claims: delta.claims.slice(0, mid) })
      sendDelta({ ...delta, fromSeq: cut + 1, claims: delta.claims.slice(mid) })
    }
  }

  const batcher: DeltaBatcher = createDeltaBatcher(
    init.batchDelay === undefined ? {} : { delay: init.batchDelay },
    { send: (deltas) => deltas.forEach(sendDelta) },
  )

  function heartbeat(): void {
    batcher.flush()
    hbSeq++
    heartbeats++
    const message: HeartbeatMessage = {
      v: PROTOCOL_VERSION,
      t: MessageType.HEARTBEAT,
      origin: self,
      gen: registry.gen,
      hbSeq,
      covered: ownCovered(),
    }
    const withAddresses = heartbeats <= 3 || heartbeats % addressEvery === 0
    const addrs = withAddresses ? addressesToAnnounce(host.addresses()) : []
    const full = addrs.length > 0 ? { ...message, addrs } : message
    send(full, encodePubsubMessage(full))
  }

  // Per relaying peer, before any decoding (see rate-limiter.ts).
  const limiter = createRateLimiter({
    perSecond: init.rateLimit?.perSecond ?? 500,
    burst: init.rateLimit?.burst ?? 2_000,
    now: () => performance.now(),
  })
  let validated = 0

  function validate(from: PeerId, msg: Message): TopicValidatorResult {
    const relay = from.toString()
    if (++validated % 10_000 === 0) limiter.prune()
    if (!limiter.take(relay)) {
      counters.drop('budget', relay, 'over the per-peer message rate')
      return TopicValidatorResult.Ignore
    }
    if (msg.type !== 'signed') {
      counters.drop('signer', relay, 'unsigned message')
      return TopicValidatorResult.Reject
    }
    let message: PubsubMessage
    const drops = { claims: 0 }
    try {
      message = decodePubsubMessage(msg.data, drops)
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err
      counters.drop(err.reason, relay, err.message)
      return TopicValidatorResult.Reject
    }
    const signer = msg.from.toString()
    if (message.origin !== signer) {
      counters.drop('signer', relay, `origin ${message.origin} signed by ${signer}`)
      return TopicValidatorResult.Reject
    }
    if (signer === self) {
      // Our key, but not published by this process: a replay from a previous generation.
      counters.drop('self', relay, `message of generation ${message.gen} signed with our key`)
      return TopicValidatorResult.Ignore
    }
    if (drops.claims > 0) {
      counters.drop(
        'schema',
        relay,
        `${drops.claims} invalid claims cut from a DELTA`,
        drops.claims,
      )
    }
    accepted.set(msg, message)
    return TopicValidatorResult.Accept
  }

  function handle(message: PubsubMessage, relay: string): void {
    const { origin, gen } = message
    switch (message.t) {
      case MessageType.DELTA: {
        if (dropDeltas > 0 && Math.random() < dropDeltas) {
          counters.drop('fault', relay, `DELTA ${message.fromSeq}..${message.toSeq} of ${origin}`)
          break
        }
        registry.heard(origin, gen, message.hbSeq)
        const { fromSeq, toSeq, claims } = message
        const seal = message.seal
        const result = registry.applyDelta({
          origin,
          gen,
          fromSeq,
          toSeq,
          claims,
          ...(seal !== undefined && { seal }),
        })
        if (result.overQuota > 0) {
          counters.drop(
            'quota',
            relay,
            `${result.overQuota} claims of ${origin} over its quota`,
            result.overQuota,
          )
        }
        if (result.gap) components.behind({ origin, gen, covered: message.toSeq }, relay)
        break
      }
      case MessageType.HEARTBEAT: {
        registry.heard(origin, gen, message.hbSeq)
        if (message.addrs !== undefined) components.announced?.(origin, message.addrs)
        const advert = { origin, gen, covered: message.covered }
        if (lacks(registry.replica, advert)) components.behind(advert, relay)
        break
      }
      case MessageType.LEAVE: {
        registry.left(origin, gen)
        const advert = { origin, gen, covered: message.covered }
        if (lacks(registry.replica, advert)) components.behind(advert, relay)
        break
      }
    }
  }

  const onMessage = (event: CustomEvent<GossipsubMessage>): void => {
    const { msg, propagationSource } = event.detail
    if (msg.topic !== topic) return
    const relay = propagationSource.toString()
    const message = accepted.get(msg)
    if (message === undefined) return // not validated by us: cannot happen while subscribed
    counters.received(msg.data.byteLength)
    try {
      handle(message, relay)
    } catch (err) {
      // The schema already holds the replica's envelope rules; anything else is a bug here,
      // but a network message must never take the node down.
      counters.drop('schema', relay, `rejected by the registry: ${(err as Error).message}`)
    }
  }

  return {
    start() {
      running = true
      pubsub.topicValidators.set(topic, validate)
      pubsub.addEventListener('gossipsub:message', onMessage)
      pubsub.subscribe(topic)
      heartbeat()
      heartbeatTimer = setInterval(heartbeat, init.heartbeatInterval)
    },
    stop() {
      if (!running) return
      running = false
      clearInterval(heartbeatTimer)
      batcher.stop()
      pubsub.removeEventListener('gossipsub:message', onMessage)
      pubsub.topicValidators.delete(topic)
      pubsub.unsubscribe(topic)
    },
    publish(delta) {
      if (running) batcher.add(delta)
    },
    async flush() {
      batcher.flush()
      await Promise.all([...inflight])
    },
    async leave(tombstones) {
      batcher.flush()
      hbSeq++
      const message: PubsubMessage = {
        v: PROTOCOL_VERSION,
        t: MessageType.LEAVE,
        origin: self,
        gen: registry.gen,
        covered: ownCovered(),
      }
      send(message, encodePubsubMessage(message))
      // Tombstones after LEAVE: peers that get LEAVE first report the instances gone as
      // `left` rather than `deregistered`; the tombstones make it final for peers that miss it.
      if (tombstones !== undefined) {
        batcher.add(tombstones)
        batcher.flush()
      }
      await Promise.all([...inflight])
    },
  }
}
