/**
 * @grapevine/gossip/testing — tools for tests that play a hostile peer: a bare libp2p node
 * that writes raw gossipsub RPCs and raw sync frames. Agents never import this.
 */
export {
  type BareStream,
  createRawPeer,
  encodeTopicRpc,
  GOSSIPSUB_PROTOCOL,
  peerIdBytes,
  type RawPeer,
  type RawStream,
  type RawTopicMessage,
  seqnoBytes,
} from './raw-peer.js'
