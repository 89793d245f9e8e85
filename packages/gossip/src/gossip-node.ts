import { hostname } from 'node:os'
import {
  AgentStoppedError,
  type Delta,
  type Member,
  type RegistryNode,
  type SwimTimings,
} from '@grapevine/core'
import type { PeerId } from '@libp2p/interface'
import { createDigestWatch } from './digest-tag.js'
import type { Host } from './host.js'
import { listMembers } from './members.js'
import type { Membership } from './membership.js'
import { clusterTopic } from './messages.js'
import { createNetworkCounters, type NetworkStats } from './network-stats.js'
import { createPeerKeeper, DEFAULT_MAX_PEERS } from './peer-keeper.js'
import { createPubsubChannel, lacks, type OriginAdvert } from './pubsub-channel.js'
import { createReadyTracker } from './ready-tracker.js'
import { createSwimMembership } from './swim-membership.js'
import { createSyncProtocol, type SyncProtocolInit } from './sync-protocol.js'
import { createSyncScheduler } from './sync-scheduler.js'

export interface GossipNodeInit {
  /** Membership (SWIM) timings, from the profile. */
  membership: SwimTimings
  /** Dead and left members are forgotten after this many ms (the profile's `purgeAfter`). */
  purgeAfter: number
  /** This node's name, carried in its ALIVE and shown in `members()`. @default os.hostname() */
  nodeName?: string
  /** Mean period of anti-entropy with one random peer, in ms (jittered ±25%). */
  syncInterval: number
  /** The registry's monotonic clock (for `members()`). @default performance.now */
  now?: () => number
  /** See `PubsubChannelInit.batchDelay`. @default 5 */
  batchDelay?: number
  /** Sync options other than the cluster, which comes from the host. */
  sync?: Omit<SyncProtocolInit, 'cluster'>
  /**
   * Wait before pulling an origin that a message showed us behind on, in ms: the missing
   * DELTA is usually in flight on another path and makes the pull unnecessary. @default 100
   */
  pullDelay?: number
  /** `ready` resolves after this many ms even if peers were not caught up with. @default 5_000 */
  readyTimeout?: number
  /**
   * `ready` resolves if no peer connected within this many ms. The default covers mDNS
   * discovery (50–1000 ms on a LAN); nodes with bootstrap addresses wait for them instead.
   * @default 0 without bootstrap and mDNS, 1_500 with mDNS only, undefined with bootstrap
   */
  readyIdleGrace?: number
  /** After LEFT, how long `leave()` may wait for it and the tombstones to reach peers, in ms. @default 2_000 */
  leaveTimeout?: number
  /**
   * Direct connections this node keeps to members (see `peer-keeper.ts`), dialed at the
   * addresses of their ALIVE records; gossipsub's mesh and sync run over them. Probes dial
   * other members on demand. 0 leaves the topology to bootstrap and discovery; otherwise
   * connections above 1.5 × this many are closed. @default 8
   */
  maxPeers?: number
  /** Fault injection for tests and chaos experiments; see `PubsubChannelInit.dropDeltas`. */
  faults?: { dropDeltas?: number }
}

export interface GossipNodeComponents {
  registry: RegistryNode
  /** The host; the gossip node starts it and stops it. */
  host: Host
  /** Membership behind the seam. @default SWIM on the host (`createSwimMembership`) */
  membership?: Membership
}

/** A registry node on the network: pubsub fast path, sync, membership. */
export interface GossipNode {
  readonly peerId: string
  /** Multiaddrs where peers can dial this node. */
  readonly addresses: readonly string[]
  /** Resolves once this node caught up with the first peers it found, or a timeout passed. */
  readonly ready: Promise<void>
  start(): Promise<void>
  /** Queues one of this node's writes for the next DELTA. */
  publish(delta: Delta): void
  /** Runs a sync session with a connected peer now (joins one already running). */
  pull(peer: string): Promise<void>
  /** Floods LEFT, then `delta` (this node's tombstones), waits (bounded) for both to spread, stops. */
  leave(delta?: Delta): Promise<void>
  /** Stops without telling anyone; peers notice the closed connections. */
  stop(): Promise<void>
  /** This node and every member membership knows. */
  members(): Member[]
  readonly membership: Membership
  stats(): NetworkStats
}

/**
 * How often the registry's own timer runs, in ms (see `tick`): purges and collection take
 * minutes, and an unconfirmed origin's lease is seconds, so once a second is plenty. Every
 * wake-up of an idle process costs ~0.3 ms of CPU on the reference VM.
 */
const REGISTRY_TICK_MS = 1_000
/** How often the peer keeper looks for members to dial; a new member or a lost peer pokes it. */
const PEER_KEEPER_INTERVAL_MS = 5_000
/** See `DigestWatchInit.settleMs`. */
const DIGEST_SETTLE_MS = 1_000
/** See `DigestWatchInit.strangerGapMs`. */
const STRANGER_SYNC_GAP_MS = 10_000

/** Waits for `work` at most `ms` milliseconds, without leaving a timer behind. */
async function settleWithin(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms)
  })
  await Promise.race([work.then(() => undefined), timeout])
  clearTimeout(timer)
}

export function createGossipNode(
  init: GossipNodeInit,
  components: GossipNodeComponents,
): GossipNode {
  const { registry, host } = components
  const self = host.peerId
  const now = init.now ?? (() => performance.now())
  const log = host.libp2p.logger.forComponent('grapevine:gossip')
  const counters = createNetworkCounters(host.libp2p.logger.forComponent('grapevine:dropped'))
  const topic = clusterTopic(host.cluster)
  const isConnected = (peer: string): boolean => host.connectedPeers().includes(peer)
  const pubsub = host.libp2p.services.pubsub
  const discovery = host.discovery
  const idleGrace =
    init.readyIdleGrace ?? (discovery.bootstrap ? undefined : discovery.mdns ? 1_500 : 0)

  const tracker = createReadyTracker(
    { timeout: init.readyTimeout ?? 5_000, idleGrace },
    {
      behind: (digest) =>
        registry.replica.behind(digest).some((origin) => origin !== self && registry.knows(origin)),
      subscribed: (peer) => pubsub.getSubscribers(topic).some((id) => id.toString() === peer),
    },
  )
  const protocol = createSyncProtocol(
    { ...init.sync, cluster: host.cluster },
    {
      host,
      registry,
      counters,
      completed: (peer, digest) => tracker.completed(peer, digest),
      failed: (peer) => tracker.failed(peer),
    },
  )
  const scheduler = createSyncScheduler(
    { syncInterval: init.syncInterval, pullDelay: init.pullDelay ?? 100 },
    {
      sync: (peer) => protocol.sync(peer).then(() => undefined),
      candidates: () => {
        const subscribers = pubsub.getSubscribers(topic).map((peer) => peer.toString())
        return subscribers.length > 0 ? subscribers : host.connectedPeers()
      },
      isConnected,
      busy: (peer) => protocol.serving(peer),
      inAgreement: (peer) => digestWatch.agrees(peer, init.syncInterval),
      log,
    },
  )
  const keeper = createPeerKeeper(
    { maxPeers: init.maxPeers ?? DEFAULT_MAX_PEERS, interval: PEER_KEEPER_INTERVAL_MS },
    {
      self,
      connectedPeers: () => host.connectedPeers(),
      members: () =>
        membership
          .members()
          .filter((member) => member.state === 'alive' || member.state === 'suspect')
          .map((member) => ({ id: member.id, addresses: member.addrs })),
      dial: (address) => host.dial(address),
      hangUp: (peer) => host.hangUp(peer),
      preferred: () => new Set(host.meshPeers()),
      log,
    },
  )

  const channel = createPubsubChannel(
    {
      cluster: host.cluster,
      ...(init.batchDelay === undefined ? {} : { batchDelay: init.batchDelay }),
      ...(init.faults?.dropDeltas === undefined ? {} : { dropDeltas: init.faults.dropDeltas }),
    },
    {
      host,
      registry,
      counters,
      record: (record) => membership.record(record),
      behind: (advert: OriginAdvert, relay: string) =>
        scheduler.pullLater(relay, advert.origin, () => lacks(registry.replica, advert)),
    },
  )

  const digestWatch = createDigestWatch(
    { settleMs: DIGEST_SETTLE_MS, strangerGapMs: STRANGER_SYNC_GAP_MS },
    {
      digest: () => registry.replica.digest(),
      syncSoon: (peer) => scheduler.syncSoon(peer),
      isConnected,
      ready: () => tracker.isReady,
      now,
    },
  )

  const membership: Membership =
    components.membership ??
    createSwimMembership(
      {
        timings: init.membership,
        gen: registry.gen,
        name: init.nodeName ?? hostname(),
        purgeAfter: init.purgeAfter,
        now,
      },
      {
        host,
        signer: host.signing.signer,
        verifier: host.verifier,
        counters,
        publish: (record) => channel.publishRecord(record),
        covered: () => registry.replica.origin(registry.nodeId)?.covered ?? 0,
        digest: digestWatch,
      },
    )
  // The registry learns membership only as facts.
  const unsubscribe = membership.on('change', (fact) => {
    log('member %s (%s): %s at gen %d', fact.id, fact.name, fact.state, fact.gen)
    registry.memberFact(fact.id, fact.state, fact.gen, fact.covered)
    if (fact.state === 'alive') keeper.poke()
    if (registry.awaitsOrigin(fact.id)) ask(fact.id)
    // Back with writes this node never received: they come from the origin, which has them.
    else if (registry.holds(fact.id)) {
      scheduler.pullLater(fact.id, fact.id, () => registry.holds(fact.id))
    }
  })

  // An origin back from dead stays hidden until it says what it holds (DESIGN.md, Liveness):
  // a session with the origin itself asks, and one that fails is retried while the origin
  // stays up and unheard. Sessions started from now on are newer than the fact.
  const asking = new Map<string, ReturnType<typeof setTimeout> | undefined>()
  const askRetryMs = init.membership.probeInterval * 4
  function ask(origin: string): void {
    if (asking.has(origin)) return
    asking.set(origin, undefined)
    void scheduler.syncNow(origin).then(() => {
      asking.delete(origin)
      const up = membership.member(origin)?.state
      if (state !== 'running' || !registry.awaitsOrigin(origin)) return
      if (up !== 'alive' && up !== 'suspect') return
      log('%s has not said what it holds yet; asking again', origin)
      asking.set(
        origin,
        setTimeout(() => {
          asking.delete(origin)
          if (registry.awaitsOrigin(origin)) ask(origin)
        }, askRetryMs),
      )
    })
  }

  void tracker.ready.then(() => {
    // Membership's first ALIVE went out before any peer could hear it, and piggyback alone
    // takes seconds at tens of members: meanwhile peers that had this node's first writes
    // but not its ALIVE hid them again after `deadAfter` (a flap: 300 (instance, node)
    // pairs in a quick 30-process benchmark). Now its first peers are subscribed and the
    // flood reaches all.
    if (state === 'running') membership.announce()
  })
  let ticker: ReturnType<typeof setInterval> | undefined
  let state: 'new' | 'running' | 'stopped' = 'new'

  const onConnect = (event: CustomEvent<PeerId>): void => {
    const peer = event.detail.toString()
    tracker.connected(peer)
    membership.connected(peer)
    // Both ends see the connection; the lower id starts so that it is synced once, not twice.
    if (self < peer) void scheduler.syncNow(peer)
  }
  const onDisconnect = (event: CustomEvent<PeerId>): void => {
    const peer = event.detail.toString()
    tracker.disconnected(peer)
    digestWatch.forget(peer)
    // The fast path for a crashed process: its TCP connection resets at once, and membership
    // probes it now (the redial is refused) instead of in its turn.
    membership.disconnected(peer)
    keeper.poke()
  }
  const onSubscription = (
    event: CustomEvent<{ peerId: PeerId; subscriptions: { topic: string; subscribe: boolean }[] }>,
  ): void => {
    const peer = event.detail.peerId.toString()
    const joined = event.detail.subscriptions.some((s) => s.topic === topic && s.subscribe)
    if (!joined) return
    tracker.subscribed(peer)
    if (self < peer) scheduler.syncSoon(peer)
  }

  // The registry's own clock: unconfirmed origins, purges, tombstone GC. Membership has its
  // own timer; this one runs at a leisurely pace.
  function tick(): void {
    try {
      for (const transition of registry.tick()) {
        log('origin %s: %s → %s', transition.origin, transition.from, transition.to)
      }
    } catch (err) {
      // A bug in the engine must not kill the timer that expires and purges origins.
      log.error('registry tick failed: %s', (err as Error).message)
    }
  }

  async function stop(): Promise<void> {
    if (state === 'stopped') return
    const wasRunning = state === 'running'
    state = 'stopped'
    clearInterval(ticker)
    for (const timer of asking.values()) clearTimeout(timer)
    asking.clear()
    tracker.stop()
    scheduler.stop()
    keeper.stop()
    unsubscribe()
    if (!wasRunning) return
    await membership.stop()
    channel.stop()
    host.libp2p.removeEventListener('peer:connect', onConnect)
    host.libp2p.removeEventListener('peer:disconnect', onDisconnect)
    pubsub.removeEventListener('subscription-change', onSubscription)
    await protocol.stop().catch(() => undefined)
    await host.stop()
  }

  return {
    peerId: self,
    get addresses() {
      return host.addresses()
    },
    ready: tracker.ready,

    async start() {
      if (state === 'running') return
      if (state === 'stopped') throw new AgentStoppedError()
      state = 'running'
      host.libp2p.addEventListener('peer:connect', onConnect)
      host.libp2p.addEventListener('peer:disconnect', onDisconnect)
      pubsub.addEventListener('subscription-change', onSubscription)
      await host.start()
      await protocol.start()
      channel.start()
      await membership.start()
      tracker.start()
      scheduler.start()
      if ((init.maxPeers ?? DEFAULT_MAX_PEERS) > 0) keeper.start()
      ticker = setInterval(tick, REGISTRY_TICK_MS)
    },

    publish(delta) {
      channel.publish(delta)
    },

    pull: (peer) => scheduler.syncNow(peer),

    async leave(delta) {
      if (state !== 'running') return stop()
      await membership.leave()
      await channel.leave(delta)
      // A sync round trip with each peer is the barrier: the ACK comes back on the same
      // connection after our DELTA and LEFT, and the ACK2 carries any tombstone they missed.
      const barriers = host.connectedPeers().map((peer) => scheduler.syncNow(peer))
      await settleWithin(Promise.allSettled(barriers), init.leaveTimeout ?? 2_000)
      await stop()
    },

    stop,

    members: () =>
      listMembers({
        self: {
          id: self,
          gen: registry.gen,
          addresses: host.addresses(),
          name: init.nodeName ?? hostname(),
        },
        members: membership.members(),
        now: now(),
        addressesOf: (id) => host.peerAddresses(id),
      }),

    membership,
    stats: () => counters.snapshot(),
  }
}
