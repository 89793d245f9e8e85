import { AgentStoppedError, type Delta, type Member, type RegistryNode } from '@grapevine/core'
import type { PeerId } from '@libp2p/interface'
import type { Host } from './host.js'
import { listMembers } from './members.js'
import { clusterTopic } from './messages.js'
import { createNetworkCounters, type NetworkStats } from './network-stats.js'
import { createPeerKeeper } from './peer-keeper.js'
import { createPubsubChannel, lacks, type OriginAdvert } from './pubsub-channel.js'
import { createReadyTracker } from './ready-tracker.js'
import { createSyncProtocol, type SyncProtocolInit } from './sync-protocol.js'
import { createSyncScheduler } from './sync-scheduler.js'

export interface GossipNodeInit {
  /** Heartbeat period, in ms (from the profile; the registry's liveness expects it). */
  heartbeatInterval: number
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
  /** After LEAVE, how long `leave()` may wait for it and the tombstones to reach peers, in ms. @default 2_000 */
  leaveTimeout?: number
  /**
   * Direct connections this node keeps to members it hears of (see `peer-keeper.ts`); a crash
   * is noticed within ~1 s by connected peers, by lease expiry (`deadAfter`) by the others.
   * 0 leaves the topology to bootstrap and discovery. @default 16
   */
  maxPeers?: number
  /** See `PubsubChannelInit.addressEvery`. @default 4 */
  addressEvery?: number
  /** Fault injection for tests and chaos experiments; see `PubsubChannelInit.dropDeltas`. */
  faults?: { dropDeltas?: number }
  /** This node's name for people (`--node-name`), shown in `members()`. @default the peer id */
  nodeName?: string
}

export interface GossipNodeComponents {
  registry: RegistryNode
  /** The host; the gossip node starts it and stops it. */
  host: Host
}

/** A registry node on the network: pubsub fast path, sync, liveness timers. */
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
  /** Sends LEAVE, then `delta` (this node's tombstones), waits (bounded) for both to spread, stops. */
  leave(delta?: Delta): Promise<void>
  /** Stops without telling anyone; peers notice the closed connections. */
  stop(): Promise<void>
  /** This node and every origin its liveness knows. */
  members(): Member[]
  stats(): NetworkStats
}

/**
 * How often the gossip node drives the registry's liveness: twice per heartbeat, so a lease
 * runs out at most half a heartbeat late. The registry node should be created with it as
 * `tickInterval`, so that it can tell its own stalls from its peers' silence.
 */
export function livenessTickInterval(heartbeatInterval: number): number {
  return Math.max(10, heartbeatInterval / 2)
}

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
      isConnected: (peer) => host.connectedPeers().includes(peer),
      busy: (peer) => protocol.serving(peer),
      log,
    },
  )
  // Addresses members announced in their HEARTBEATs; pruned with the liveness records.
  const announced = new Map<string, readonly string[]>()
  const keeper = createPeerKeeper(
    { maxPeers: init.maxPeers ?? 16, interval: init.heartbeatInterval },
    {
      self,
      connectedPeers: () => host.connectedPeers(),
      members: () =>
        [...announced].flatMap(([id, addresses]) => {
          const state = registry.liveness.state(id)
          return state === 'alive' || state === 'suspect' ? [{ id, addresses }] : []
        }),
      dial: (address) => host.dial(address),
      log,
    },
  )

  const channel = createPubsubChannel(
    {
      cluster: host.cluster,
      heartbeatInterval: init.heartbeatInterval,
      ...(init.batchDelay === undefined ? {} : { batchDelay: init.batchDelay }),
      ...(init.addressEvery === undefined ? {} : { addressEvery: init.addressEvery }),
      ...(init.faults?.dropDeltas === undefined ? {} : { dropDeltas: init.faults.dropDeltas }),
    },
    {
      host,
      registry,
      counters,
      announced: (origin, addresses) => {
        const isNew = !announced.has(origin)
        announced.set(origin, addresses)
        if (isNew) keeper.poke()
      },
      behind: (advert: OriginAdvert, relay: string) =>
        scheduler.pullLater(relay, advert.origin, () => lacks(registry.replica, advert)),
    },
  )

  let ticker: ReturnType<typeof setInterval> | undefined
  let state: 'new' | 'running' | 'stopped' = 'new'

  const onConnect = (event: CustomEvent<PeerId>): void => {
    const peer = event.detail.toString()
    tracker.connected(peer)
    // Both ends see the connection; the lower id starts so that it is synced once, not twice.
    if (self < peer) void scheduler.syncNow(peer)
  }
  const onDisconnect = (event: CustomEvent<PeerId>): void => {
    const peer = event.detail.toString()
    tracker.disconnected(peer)
    // The fast path for a crashed process: its TCP connection resets at once.
    registry.disconnected(peer)
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

  function tick(): void {
    try {
      for (const transition of registry.tick()) {
        log('member %s: %s → %s', transition.origin, transition.from, transition.to)
      }
    } catch (err) {
      // A bug in the engine must not kill the timer that expires dead members.
      log.error('registry tick failed: %s', (err as Error).message)
    }
    for (const origin of announced.keys()) {
      if (registry.liveness.state(origin) === undefined) announced.delete(origin)
    }
  }

  async function stop(): Promise<void> {
    if (state === 'stopped') return
    const wasRunning = state === 'running'
    state = 'stopped'
    clearInterval(ticker)
    tracker.stop()
    scheduler.stop()
    keeper.stop()
    if (!wasRunning) return
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
      tracker.start()
      scheduler.start()
      if ((init.maxPeers ?? 16) > 0) keeper.start()
      ticker = setInterval(tick, livenessTickInterval(init.heartbeatInterval))
    },

    publish(delta) {
      channel.publish(delta)
    },

    pull: (peer) => scheduler.syncNow(peer),

    async leave(delta) {
      if (state !== 'running') return stop()
      await channel.leave(delta)
      // A sync round trip with each peer is the barrier: the ACK comes back on the same
      // connection after our DELTA and LEAVE, and the ACK2 carries any tombstone they missed.
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
          ...(init.nodeName !== undefined && { name: init.nodeName }),
        },
        liveness: registry.liveness,
        now: now(),
        addressesOf: (id) => announced.get(id) ?? host.peerAddresses(id),
      }),

    stats: () => counters.snapshot(),
  }
}
