import './polyfill.js'
import { createHash } from 'node:crypto'
import { type GossipsubEvents, gossipsub } from '@chainsafe/libp2p-gossipsub'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { type ClaimSigning, ValidationError, type Verifier } from '@grapevine/core'
import { type Identify, identify } from '@libp2p/identify'
import type { Logger, PrivateKey, PubSub } from '@libp2p/interface'
import { mdns } from '@libp2p/mdns'
import { peerIdFromString } from '@libp2p/peer-id'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2p } from 'libp2p'
import { parseClusterKey } from './cluster-key.js'
import { validateClusterName } from './cluster-name.js'
import { generatePrivateKey } from './identity.js'
import { fastMessageId } from './message-id.js'
import { clusterTopic } from './messages.js'
import { createPairKeys, type PairKeys } from './pair-keys.js'
import { createPeerDialer, type PeerDialer, type RedialInit } from './peer-dialer.js'
import { createRecordSigner, createRecordVerifier } from './record-signing.js'
import {
  CLUSTER_RPC_LIMITS,
  CLUSTER_SCORE_THRESHOLDS,
  clusterScoreParams,
} from './topic-scoring.js'

/** The libp2p services a Grapevine host runs. */
export type HostServices = {
  identify: Identify
  pubsub: PubSub<GossipsubEvents>
}

/** The part of gossipsub's own API beyond libp2p's PubSub that a host uses. */
interface GossipsubMesh {
  getMeshPeers(topic: string): string[]
}

/** The libp2p node under a host (an escape hatch: using it ties the caller to libp2p 2.x). */
export type HostLibp2p = Libp2p<HostServices>

export interface HostInit {
  /** Cluster name: part of the pubsub topic and of the mDNS service name. */
  cluster: string
  /** The node's identity (see `generatePrivateKey`). @default a new key: a new peer id */
  privateKey?: PrivateKey
  /** Multiaddrs to listen on. @default ['/ip4/0.0.0.0/tcp/0'] (all interfaces, any port) */
  listen?: string[]
  /** Multiaddrs to tell peers instead of the listen addresses (NAT, containers). @default [] */
  announce?: string[]
  /**
   * Multiaddrs of peers to dial at start and to redial, with backoff, whenever the node is
   * not connected to them. Entries that are this node's own address are skipped, so every
   * node of a cluster can share one list. @default []
   */
  bootstrap?: string[]
  /**
   * Find peers on the LAN by multicast DNS. Only nodes of the same cluster name answer each
   * other (the service name is derived from it). Needs a multicast route; see STACK.md.
   * @default true
   */
  mdns?: boolean
  /** How often mDNS queries go out, in ms. @default 10_000 (the @libp2p/mdns default) */
  mdnsInterval?: number
  /**
   * Pre-shared cluster key (swarm.key text or bytes, see `generateClusterKey`): only nodes
   * holding it can connect. Without it, any node that reaches this one and uses the same
   * cluster name can join. @default undefined (open)
   */
  clusterKey?: string | Uint8Array
  /**
   * Networks exempt from connection limits and the inbound rate limit (5 connections per
   * second per host), as multiaddr CIDRs. Local clusters open many connections from one IP.
   * @default ['/ip4/127.0.0.0/ipcidr/8', '/ip6/::1/ipcidr/128']
   */
  allow?: string[]
  /** @default 100 */
  maxConnections?: number
  /**
   * How often libp2p pings each connection, in ms; 0 turns the monitor off. Membership probes
   * already detect a silent node, so the monitor is only there to reap half-open connections (a peer
   * that vanished without a FIN: power loss, a cut cable), which TCP would keep for minutes.
   * Each ping opens a stream (multistream negotiation, loggers, Noise frames on both ends):
   * libp2p's 10 s default is most of the idle CPU of a 60-node cluster, and even 30 s was
   * about a quarter of an idle daemon's wake-ups at 10 nodes (23 a second, 17 without it).
   * Reaping a dead link can wait 2 min.
   * @default 120_000
   */
  connectionMonitorInterval?: number
  /**
   * Gossipsub's IP-colocation score weight (≤ 0). libp2p uses −5 with a threshold of 10 peers,
   * which graylists every local or single-host cluster past 10 nodes; set a negative weight
   * only on the open internet, where many peers on one IP suggest a Sybil attack.
   * @default 0
   */
  ipColocationWeight?: number
  /**
   * Gossipsub's own heartbeat, in ms: how often it repairs its mesh. A new peer only relays
   * messages once a heartbeat grafted it, so this bounds how long a fresh cluster relays
   * nothing but its nodes' own messages. Costs a little CPU per heartbeat per topic.
   * @default 500 (gossipsub's default is 1_000)
   */
  pubsubHeartbeatInterval?: number
  /** Backoff of bootstrap redials. @default { initialDelay: 500, maxDelay: 10_000 } */
  redial?: RedialInit
}

/** A started-on-demand libp2p node with Grapevine's transport, security and pubsub settings. */
export interface Host {
  readonly peerId: string
  /** The node's identity key. */
  readonly privateKey: PrivateKey
  readonly cluster: string
  readonly libp2p: HostLibp2p
  readonly log: Logger
  /**
   * Signs this node's records (claims, seals) with its identity key, for this cluster: pass
   * it to `createRegistryNode({ signing })`. Peers check them against this node's peer id.
   */
  readonly signing: ClaimSigning
  /** Checks records signed by other nodes against their peer ids (see record-signing.ts). */
  readonly verifier: Verifier
  /** The listen multiaddrs it was configured with (port 0 included: see `addresses()`). */
  readonly listen: readonly string[]
  /** Keys this node shares with each peer, for the membership datagrams (`pair-keys.ts`). */
  readonly pairKeys: PairKeys
  /** How this host finds peers: whether it has bootstrap addresses, whether mDNS is on. */
  readonly discovery: { readonly bootstrap: boolean; readonly mdns: boolean }
  /** Multiaddrs (with `/p2p/<id>`) where peers can dial this node; empty before `start()`. */
  addresses(): string[]
  /** Peer ids of every peer with an open connection. */
  connectedPeers(): string[]
  /** Remote multiaddrs of this node's open connections to `peerId`. */
  peerAddresses(peerId: string): string[]
  /** Dials a multiaddr; resolves with the peer id at the other end. */
  dial(address: string, signal?: AbortSignal): Promise<string>
  /** Closes every connection to `peerId`. */
  hangUp(peerId: string): Promise<void>
  /** Peers in gossipsub's mesh for the cluster topic. */
  meshPeers(): string[]
  start(): Promise<void>
  stop(): Promise<void>
}

const DEFAULT_ALLOW = ['/ip4/127.0.0.0/ipcidr/8', '/ip6/::1/ipcidr/128']

/** mDNS service name per cluster, so that nodes of other clusters (or other apps) stay apart. */
function mdnsServiceTag(cluster: string): string {
  const digest = createHash('sha256').update(cluster).digest('hex').slice(0, 16)
  return `_grapevine-${digest}._udp.local`
}

/** Checks multiaddr options up front, so that a typo fails `createHost`, not a later dial. */
function multiaddrs(field: string, values: readonly string[] | undefined): string[] {
  return (values ?? []).map((value, i) => {
    try {
      multiaddr(value)
    } catch (err) {
      throw new ValidationError(`${field}[${i}]`, `not a multiaddr: ${(err as Error).message}`)
    }
    return value
  })
}

/** Builds (but does not start) a libp2p node configured for Grapevine. */
export async function createHost(init: HostInit): Promise<Host> {
  const cluster = validateClusterName(init.cluster)
  const bootstrap = multiaddrs('bootstrap', init.bootstrap)
  const listen = multiaddrs('listen', init.listen ?? ['/ip4/0.0.0.0/tcp/0'])
  const announce = multiaddrs('announce', init.announce)
  const mdnsEnabled = init.mdns ?? true
  const peerDiscovery = mdnsEnabled
    ? [mdns({ serviceTag: mdnsServiceTag(cluster), interval: init.mdnsInterval ?? 10_000 })]
    : []
  const monitorInterval = init.connectionMonitorInterval ?? 120_000
  // Parsed once: it guards connections (pnet) and keys the membership datagrams.
  const clusterKey = init.clusterKey === undefined ? undefined : parseClusterKey(init.clusterKey)
  // Generated here rather than by libp2p: records are signed with it too.
  const privateKey = init.privateKey ?? (await generatePrivateKey())
  const libp2p: HostLibp2p = await createLibp2p<HostServices>({
    start: false,
    privateKey,
    addresses: { listen, announce },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    // Yamux's own keepalive pings every connection each 30 s; the connection monitor already
    // pings at `monitorInterval` and membership notices a dead peer in about a second.
    streamMuxers: [yamux({ keepAliveInterval: Math.max(monitorInterval, 30_000) })],
    ...(clusterKey === undefined ? {} : { connectionProtector: preSharedKey({ psk: clusterKey }) }),
    peerDiscovery,
    connectionManager: {
      allow: init.allow ?? DEFAULT_ALLOW,
      maxConnections: init.maxConnections ?? 100,
    },
    connectionMonitor:
      monitorInterval > 0 ? { enabled: true, pingInterval: monitorInterval } : { enabled: false },
    services: {
      identify: identify(),
      pubsub: gossipsub({
        globalSignaturePolicy: 'StrictSign',
        // Our own first messages (ALIVE, DELTA) may go out before any peer subscribed;
        // they are not lost, since anti-entropy resends state, so never throw on them.
        allowPublishToZeroTopicPeers: true,
        emitSelf: false,
        fastMsgIdFn: fastMessageId,
        heartbeatInterval: init.pubsubHeartbeatInterval ?? 500,
        // Other topics are refused at decode time: a peer cannot make us track state for them.
        allowedTopics: [clusterTopic(cluster)],
        scoreParams: clusterScoreParams(clusterTopic(cluster), init.ipColocationWeight ?? 0),
        scoreThresholds: CLUSTER_SCORE_THRESHOLDS,
        decodeRpcLimits: CLUSTER_RPC_LIMITS,
      }),
    },
  })
  const log = libp2p.logger.forComponent('grapevine:host')
  const dialer: PeerDialer = createPeerDialer(init.redial ?? {}, { libp2p, log })

  return {
    peerId: libp2p.peerId.toString(),
    privateKey,
    cluster,
    libp2p,
    log,
    signing: { cluster, signer: createRecordSigner(privateKey) },
    verifier: createRecordVerifier(),
    listen,
    pairKeys: createPairKeys({
      privateKey,
      self: libp2p.peerId.toString(),
      cluster,
      ...(clusterKey === undefined ? {} : { clusterKey }),
    }),
    discovery: { bootstrap: bootstrap.length > 0, mdns: mdnsEnabled },
    addresses: () => libp2p.getMultiaddrs().map((address) => address.toString()),
    connectedPeers: () => libp2p.getPeers().map((peer) => peer.toString()),
    peerAddresses: (peerId) =>
      libp2p
        .getConnections()
        .filter((connection) => connection.remotePeer.toString() === peerId)
        .map((connection) => connection.remoteAddr.toString()),
    dial: (address, signal) => dialer.dial(address, signal),
    hangUp: (peerId) => libp2p.hangUp(peerIdFromString(peerId)),
    // The service is gossipsub, typed as libp2p's PubSub, which has no notion of a mesh.
    meshPeers: () =>
      (libp2p.services.pubsub as unknown as GossipsubMesh).getMeshPeers(clusterTopic(cluster)),
    async start() {
      await libp2p.start()
      dialer.start(bootstrap)
    },
    async stop() {
      dialer.stop()
      await libp2p.stop()
      cancelAddressUpdate(libp2p)
    },
  }
}

/**
 * libp2p 2's address manager debounces a peer-store update by 1 s on every `transport:close`,
 * which `stop()` itself fires, and nothing cancels that timer: it kept every stopped process
 * alive for a second or two after the leave (the daemon hid it behind a `process.exit`
 * fallback). The debounced function has a `stop()`; `components` is a public field of the
 * libp2p node class, though not of its interface, hence the structural look-up.
 */
function cancelAddressUpdate(libp2p: HostLibp2p): void {
  const node = libp2p as unknown as {
    components?: { addressManager?: { _updatePeerStoreAddresses?: { stop?: () => void } } }
  }
  node.components?.addressManager?._updatePeerStoreAddresses?.stop?.()
}
