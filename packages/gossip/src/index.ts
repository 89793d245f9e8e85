/**
 * @grapevine/gossip — Grapevine on the network. It puts a core `RegistryNode` on libp2p
 * (TCP, Noise, Yamux, optional private-network key): the node's writes travel as signed
 * DELTAs on a gossipsub topic, SWIM membership (probes over direct streams, signed member
 * records) tells the registry which origins are alive, suspect, dead or left, and a
 * Scuttlebutt sync protocol over direct streams repairs anything pubsub lost and catches up
 * joiners. A closed connection makes membership probe the peer at once, so a crash is known
 * everywhere within about a second.
 *
 * ```ts
 * const privateKey = await generatePrivateKey()
 * const host = await createHost({ cluster: 'demo', privateKey, mdns: false, bootstrap })
 * const registry = createRegistryNode({ nodeId: host.peerId, gen, now, timings })
 * const node = createGossipNode({ ...timings, membership: timings }, { registry, host })
 * await node.start()
 * await node.ready
 * node.publish(registry.register({ name: 'api' }).delta)
 * ```
 *
 * Every libp2p import of Grapevine lives in this package, so that moving to another libp2p
 * line touches nothing else. The wire protocol is in DESIGN.md ("Wire") and `messages.ts`.
 */
import './polyfill.js'

export { CLUSTER_KEY_BYTES, generateClusterKey, parseClusterKey } from './cluster-key.js'
export { validateClusterName } from './cluster-name.js'
export {
  decodePubsubMessage,
  decodeSyncFrame,
  encodePubsubMessage,
  encodeSyncFrame,
} from './codec.js'
export {
  ClusterKeyError,
  DecodeError,
  type DropReason,
  MessageTooLargeError,
  SyncError,
} from './errors.js'
export {
  createGossipNode,
  type GossipNode,
  type GossipNodeComponents,
  type GossipNodeInit,
} from './gossip-node.js'
export { createHost, type Host, type HostInit, type HostLibp2p, type HostServices } from './host.js'
export {
  generatePrivateKey,
  marshalPrivateKey,
  type PrivateKey,
  peerIdOf,
  unmarshalPrivateKey,
} from './identity.js'
export type {
  MemberInfo,
  Membership,
  MembershipEvents,
  MembershipStats,
} from './membership.js'
export {
  type Ack2Message,
  type AckMessage,
  clusterTopic,
  type DeltaMessage,
  type MemberRecordMessage,
  MessageType,
  PROTOCOL_VERSION,
  type PubsubMessage,
  SWIM_PROTOCOL,
  SYNC_PROTOCOL,
  type SyncFrame,
  type SynMessage,
  WIRE_LIMITS,
} from './messages.js'
export type { NetworkStats } from './network-stats.js'
export type { RedialInit } from './peer-dialer.js'
export { createRecordSigner, createRecordVerifier } from './record-signing.js'
export {
  createSwimMembership,
  type SwimMembershipComponents,
  type SwimMembershipInit,
} from './swim-membership.js'
export { decodeSwimFrame, encodeSwimFrame } from './swim-wire.js'
export type { SyncProtocolInit, SyncResult } from './sync-protocol.js'
