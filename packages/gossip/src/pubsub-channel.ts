import type { GossipsubMessage } from '@chainsafe/libp2p-gossipsub'
import {
  type Delta,
  type MemberRecord,
  type RegistryNode,
  type Replica,
  signerOf,
} from '@grapevine/core'
import { type Message, type PeerId, TopicValidatorResult } from '@libp2p/interface'
import { decodePubsubMessage, encodePubsubMessage } from './codec.js'
import { createDeltaBatcher, type DeltaBatcher } from './delta-batcher.js'
import { DecodeError, MessageTooLargeError } from './errors.js'
import type { Host } from './host.js'
import {
  clusterTopic,
  type DeltaMessage,
  type MemberRecordMessage,
  MessageType,
  PROTOCOL_VERSION,
  type PubsubMessage,
} from './messages.js'
import type { NetworkCounters } from './network-stats.js'
import { createRateLimiter } from './rate-limiter.js'
import { createTopicPenalties } from './topic-penalties.js'

/**
 * The fast path: DELTAs and member records on the cluster's gossipsub topic. Messages are
 * signed (StrictSign) and the topic validator accepts one only if its signer is its author
 * (a DELTA's `origin`, a record's signer), so no node can write or retire another node's
 * state. Whatever is lost here is repaired: DELTAs by sync (a DELTA that reveals a hole asks
 * for a pull), records by membership's piggyback and table exchanges.
 */

export interface PubsubChannelInit {
  cluster: string
  /** See `DeltaBatcherInit.delay`. @default 5 */
  batchDelay?: number
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
  /** A member record published by its signer (membership checks the signature). */
  record(record: MemberRecord): void
}

export interface PubsubChannel {
  start(): void
  stop(): void
  /** Queues this node's write for the next DELTA batch. */
  publish(delta: Delta): void
  /** Sends the pending batch and waits until every publish so far has been handed to peers. */
  flush(): Promise<void>
  /** Publishes a member record this node originated (membership's flood). */
  publishRecord(record: MemberRecord): void
  /** Flushes pending writes, then the tombstones, and waits for every send. */
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
  const dropDeltas = init.dropDeltas ?? 0
  let running = false

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
        // Peers see the hole through our next DELTA or digest and pull it by sync.
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

  // Per relaying peer, before any decoding (see rate-limiter.ts).
  const limiter = createRateLimiter({
    perSecond: init.rateLimit?.perSecond ?? 500,
    burst: init.rateLimit?.burst ?? 2_000,
    now: () => performance.now(),
  })
  let validated = 0
  const penalties = createTopicPenalties(pubsub)

  function validate(from: PeerId, msg: Message): TopicValidatorResult {
    const relay = from.toString()
    const verdict = check(relay, msg)
    if (verdict === TopicValidatorResult.Reject) penalties.rejected(relay)
    return verdict
  }

  function check(relay: string, msg: Message): TopicValidatorResult {
    if (++validated % 10_000 === 0) limiter.prune()
    if (!limiter.take(relay)) {
      counters.drop('budget', relay, 'over the per-peer message rate')
      if (msg.type === 'signed' && msg.from.toString() === relay) penalties.overRate(relay)
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
    const author = 'record' in message ? signerOf(message.record) : message.origin
    if (author !== signer) {
      counters.drop('signer', relay, `message of ${author} published by ${signer}`)
      return TopicValidatorResult.Reject
    }
    if (signer === self) {
      // Our key, but not published by this process: a replay from a previous generation.
      counters.drop('self', relay, 'a message signed with our key, not published by us')
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
    if ('record' in message) {
      components.record(message.record)
      return
    }
    const { origin, gen } = message
    if (dropDeltas > 0 && Math.random() < dropDeltas) {
      counters.drop('fault', relay, `DELTA ${message.fromSeq}..${message.toSeq} of ${origin}`)
      return
    }
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
    },
    stop() {
      if (!running) return
      running = false
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
    publishRecord(record) {
      if (!running) return
      const message: MemberRecordMessage = {
        v: PROTOCOL_VERSION,
        t: RECORD_TYPE[record.kind],
        record,
      }
      send(message, encodePubsubMessage(message))
    },
    async leave(tombstones) {
      batcher.flush()
      // Tombstones after the LEFT record (membership published it just before): peers that
      // get LEFT first report the instances gone as `left`; the tombstones make it final.
      // Waiting until LEFT is on every peer's stream keeps the two from arriving in one read,
      // where gossipsub's asynchronous validation could hand the tombstones over first.
      await Promise.all([...inflight])
      if (tombstones !== undefined) {
        batcher.add(tombstones)
        batcher.flush()
      }
      await Promise.all([...inflight])
    },
  }
}

const RECORD_TYPE = {
  alive: MessageType.ALIVE,
  suspect: MessageType.SUSPECT,
  dead: MessageType.DEAD,
  left: MessageType.LEFT,
} as const
