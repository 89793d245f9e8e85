import type { GossipsubOpts } from '@chainsafe/libp2p-gossipsub'
import type { PeerScoreParams, PeerScoreThresholds } from '@chainsafe/libp2p-gossipsub/score'

/**
 * Gossipsub peer scoring for the cluster topic: what makes invalid messages cost their
 * sender. Before, no topic parameters were set, so a peer that sent 19,820 rejected messages
 * was never graylisted, and each cost every receiver ~0.6 ms of CPU (issue 9, finding 6).
 *
 * - Invalid deliveries (messages our topic validator rejects: forged origin, undecodable,
 *   malformed) weigh −10 each, squared: three in a row take a peer below the graylist
 *   threshold (−80), after which gossipsub drops its RPCs unread. The counter halves every
 *   second (decay 0.5 per 1 s decay interval), so a peer that stops recovers in seconds.
 * - Mesh-delivery penalties stay off: a registry is quiet most of the time, and a quiet
 *   honest peer must not look like a lazy one.
 * - First deliveries earn a little (capped), so peers that relay useful messages rank above
 *   strangers when the mesh is pruned.
 * - Behaviour penalties (P7) weigh −10 per unit, squared, and decay by half every second: the
 *   topic validator adds one for each message a peer publishes past its rate (see
 *   topic-penalties.ts), so a peer flooding its own messages is graylisted after three.
 */
export function clusterScoreParams(
  topic: string,
  ipColocationWeight: number,
): Partial<PeerScoreParams> {
  return {
    IPColocationFactorWeight: ipColocationWeight,
    behaviourPenaltyWeight: -10,
    behaviourPenaltyThreshold: 0,
    behaviourPenaltyDecay: 0.5,
    topics: {
      [topic]: {
        topicWeight: 1,
        timeInMeshWeight: 0.01,
        timeInMeshQuantum: 1_000,
        timeInMeshCap: 300,
        firstMessageDeliveriesWeight: 0.1,
        firstMessageDeliveriesDecay: 0.9,
        firstMessageDeliveriesCap: 100,
        meshMessageDeliveriesWeight: 0,
        meshMessageDeliveriesDecay: 0.5,
        meshMessageDeliveriesCap: 1,
        meshMessageDeliveriesThreshold: 1,
        meshMessageDeliveriesWindow: 10,
        meshMessageDeliveriesActivation: 5_000,
        meshFailurePenaltyWeight: 0,
        meshFailurePenaltyDecay: 0.5,
        invalidMessageDeliveriesWeight: -10,
        invalidMessageDeliveriesDecay: 0.5,
      },
    },
  }
}

/** Gossipsub's default thresholds, written down: graylisting at −80 is what the weights aim at. */
export const CLUSTER_SCORE_THRESHOLDS: Partial<PeerScoreThresholds> = {
  gossipThreshold: -10,
  publishThreshold: -50,
  graylistThreshold: -80,
}

/**
 * Bounds on one inbound gossipsub RPC, checked while decoding it (an RPC over them is dropped
 * whole). Gossipsub checks the sender's score once per RPC, then verifies every message in it
 * in one go (~78 µs each): unbounded, one RPC of 10,000 forged messages held the event loop
 * for most of a second before the score could say no. Honest RPCs carry one message (publish,
 * forward) or the few an IWANT asked for; a larger IWANT reply that is dropped is repaired by
 * the mesh or by sync.
 */
export const CLUSTER_RPC_LIMITS: NonNullable<GossipsubOpts['decodeRpcLimits']> = {
  maxMessages: 64,
  maxSubscriptions: 64,
  maxIhaveMessageIDs: 5_000,
  maxIwantMessageIDs: 5_000,
  maxIdontwantMessageIDs: 5_000,
  maxControlMessages: 256,
  maxPeerInfos: 64,
}
